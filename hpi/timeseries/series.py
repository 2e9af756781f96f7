"""Time series as PaddleX's time-series predictors read them: a model's facts, the inputs, the checks.

PaddleX 3.7.2 (``paddlex/inference/models/ts_*`` and ``models/common/ts``) reads each CSV with pandas, keeps the
last ``in_chunk_len`` rows (forecasting and anomaly detection), scales the value columns with the model's
``scaler.pkl``, sets the time column as the index (sorted), adds time features for models that take known
covariates, and feeds the model one series at a time. hpi does the same arithmetic, with these differences
(each where PaddleX gives no answer or a wrong one; the tests record PaddleX's side):

- every input is checked first, and a bad one is an :class:`~hpi.errors.InputError` naming the column and the
  CSV line (or the DataFrame row): a missing or unparsable time column, repeated times, timestamps that are not
  one ``freq`` apart (forecasting and anomaly detection), an empty or non-numeric value, too few rows, missing
  value columns or a count the model does not take. PaddleX passes NaNs into the model, fails deep inside on
  irregular timestamps and on most of the others;
- rows are sorted by time before the last ``in_chunk_len`` are kept (PaddleX keeps the file's last rows, then
  sorts: an unsorted file gives it other rows);
- a CSV with a ``group_id`` column holding several groups gives one series per group (PaddleX silently uses the
  first group only);
- a classification series shorter than the model's length is padded with zeros and masked as float (PaddleX
  pads into an int32 array, truncating every value to a whole number); a longer one is an error.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from .._deps import import_pandas
from ..errors import InputError, ModelError
from ..models.inference_yml import series_inputs
from ..inputs import input_stem
from ..urls import fetch_url, is_url
from .table import Table, iso_times, read_csv_table

TASKS = ("ts_forecast", "ts_anomaly_detection", "ts_classification")


@dataclass(frozen=True)
class SeriesModel:
    """What a time-series model's ``inference.yml`` says (PaddleTS's exporter writes it)."""

    task: str
    name: str
    time_col: str | None
    value_cols: tuple[str, ...] | None  # target_cols (or label_col), else feature_cols; None: every other column
    value_input: str  # the model input that takes them: past_target or observed_cov_numeric (features: classifier)
    group_id: str | None
    static_cov_cols: tuple[str, ...]
    freq: str | int | None
    in_chunk_len: int
    out_chunk_len: int
    skip_chunk_len: int
    inputs: dict[str, tuple[int, ...]]  # name → dims after the batch, PaddleX's (sorted) order
    scale: bool
    time_feat: bool
    holiday: bool
    threshold: float | None  # anomaly detection's model_threshold

    @classmethod
    def from_yml(cls, data: dict, path: Path, task: str) -> "SeriesModel":
        where = str(path)
        info = data.get("info_params")
        if not isinstance(info, dict):
            raise ModelError(f"{where}: no info_params; a PaddleX time-series model's inference.yml names its "
                             "time column, value columns and frequency there.")
        # The rules the model's facts hold (one reading of input_data, checked there), PaddleX's sorted order.
        inputs = {rule.name: tuple(rule.fixed_shape[1:]) for rule in series_inputs(data, path)}
        if not inputs:
            raise ModelError(f"{where}: no input_data; it is not a PaddleX time-series model's inference.yml.")
        size = data.get("size") or {}
        freq = info.get("freq")
        if (freq is not None and not isinstance(freq, (str, int))) or isinstance(freq, bool):
            raise ModelError(f"{where}: info_params.freq is {freq!r}; give a pandas frequency (\"1h\") or a whole "
                             "number step.")
        if isinstance(freq, str):
            _offset(freq, where)
        if task == "ts_classification":
            value_input = "features"
        elif "past_target" in inputs:
            value_input = "past_target"
        elif "observed_cov_numeric" in inputs:
            value_input = "observed_cov_numeric"
        else:
            raise ModelError(f"{where}: input_data has {', '.join(inputs)}; a {task} model takes past_target or "
                             "observed_cov_numeric.")
        if value_input not in inputs:
            raise ModelError(f"{where}: input_data has {', '.join(inputs)}; a ts_classification model takes "
                             "features (and pad_mask).")
        value_cols = _columns(info.get("label_col") or info.get("target_cols") or info.get("feature_cols"))
        in_chunk = size.get("in_chunk_len") or inputs[value_input][0]
        threshold = data.get("model_threshold")
        if task == "ts_anomaly_detection" and not isinstance(threshold, (int, float)):
            raise ModelError(f"{where}: model_threshold is {threshold!r}; an anomaly detection model's inference.yml "
                             "gives the reconstruction error over which a step is an anomaly.")
        return cls(
            task=task, name=str((data.get("Global") or {}).get("model_name") or path.parent.name),
            time_col=info.get("time_col"), value_cols=value_cols, value_input=value_input,
            group_id=info.get("group_id") or None, static_cov_cols=_columns(info.get("static_cov_cols")) or (),
            freq=freq, in_chunk_len=int(in_chunk), out_chunk_len=int(size.get("out_chunk_len") or 0),
            skip_chunk_len=int(size.get("skip_chunk_len") or 0), inputs=inputs, scale=bool(data.get("scale")),
            time_feat=bool(data.get("time_feat")), holiday=bool(data.get("holiday")),
            threshold=float(threshold) if threshold is not None else None,
        )

    @property
    def width(self) -> int:
        """How many value columns the model takes."""
        return self.inputs[self.value_input][-1]

    @property
    def length(self) -> int:
        """The rows of one series the model sees."""
        return self.inputs[self.value_input][0]


def _columns(value: Any) -> tuple[str, ...] | None:
    if value is None or value == [] or value == "":
        return None
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return tuple(str(v) for v in value)


def _offset(freq: str, where: str):
    pd = import_pandas()
    try:
        return pd.tseries.frequencies.to_offset(freq)
    except (ValueError, TypeError):
        raise ModelError(f"{where}: info_params.freq {freq!r} is not a pandas frequency (\"1h\", \"D\", "
                         "\"15min\").") from None


# -- inputs ---------------------------------------------------------------------------------------------------
@dataclass
class SeriesItem:
    """One series to process (a CSV, a group of one, a DataFrame), or the error that stopped it from being read.

    ``page_index``: the group's number when a CSV holds several ``group_id`` groups (else None), so results and
    file names keep them apart as pages of a PDF are kept apart."""

    input_path: str | None
    table: Table | None = None
    error: InputError | None = None
    index: int = 0
    page_index: int | None = None
    group: Any = None
    csv_lines: bool = False  # rows are CSV lines (line = position + 2: the header is line 1)

    @property
    def stem(self) -> str:
        return input_stem(self.input_path, self.page_index, f"series_{self.index}", "series")

    @property
    def where(self) -> str:
        name = self.input_path or f"DataFrame {self.index}"
        return name if self.group is None else f"{name} (group {self.group!r})"

    def row(self, position: int) -> str:
        """How a user finds the row at ``position`` of the table: its CSV line, or its DataFrame row label."""
        label = self.table.labels[position]
        if self.csv_lines and isinstance(label, (int, np.integer)):
            return f"line {int(label) + 2}"
        return f"row {label!r}"


def expand_series(inputs: Any) -> tuple[list, bool]:
    """``inputs`` (a CSV path, a URL, a directory of CSVs, a pandas DataFrame, or a list of those) as a list of
    paths, URLs, DataFrames (and :class:`InputError` for what is neither), and whether it is a batch. A
    directory's ``.csv`` files are taken as PaddleX takes them: every sub-directory too, sorted by path."""
    is_batch = isinstance(inputs, (list, tuple))
    out: list = []
    for entry in (inputs if is_batch else [inputs]):
        if isinstance(entry, Path):
            entry = str(entry)
        if isinstance(entry, str) and not is_url(entry) and Path(entry).expanduser().is_dir():
            directory = Path(entry).expanduser()
            files = sorted(str(p) for p in directory.rglob("*") if p.is_file() and p.name.split(".")[-1] == "csv")
            out.extend(files or [InputError(f"{entry}: no .csv file in this directory (or below it).")])
            is_batch = True
        elif isinstance(entry, (str, InputError, Table)) or hasattr(entry, "to_csv"):
            out.append(entry)
        else:
            out.append(InputError(f"A time-series input is a CSV path, a URL, a directory of CSVs or a pandas "
                                  f"DataFrame; got {type(entry).__name__}."))
    return out, is_batch


def iter_series(inputs: Any) -> tuple[Iterator[SeriesItem], bool]:
    """The series of ``inputs`` (see :func:`expand_series`), each read when it is reached, and whether this is a
    batch."""
    entries, is_batch = expand_series(inputs)

    def generate() -> Iterator[SeriesItem]:
        for index, entry in enumerate(entries):
            item = _item_of(entry)
            item.index = index
            yield item

    return generate(), is_batch


def _item_of(entry: Any) -> SeriesItem:
    if isinstance(entry, InputError):
        return SeriesItem(None, error=entry)
    if isinstance(entry, Table):  # a CSV the server read
        return SeriesItem(None, table=entry, csv_lines=entry.rows is None and not hasattr(entry.source, "iloc"))
    if not isinstance(entry, str):
        return SeriesItem(None, table=Table.from_frame(entry))
    if is_url(entry):
        try:
            data, _ = fetch_url(entry)
            return SeriesItem(entry, table=read_csv_table(data, entry), csv_lines=True)
        except InputError as exc:
            return SeriesItem(entry, error=exc)
    return _csv_item(entry)


def _csv_item(path: str) -> SeriesItem:
    file = Path(path).expanduser()
    try:
        if not file.exists():
            raise InputError(f"{path}: no such file.")
        if file.suffix.lower() != ".csv":
            raise InputError(f"{path}: not a .csv file; time-series pipelines read CSV files (or DataFrames).")
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise InputError(f"{path}: cannot be read ({exc.strerror or exc}).") from None
        return SeriesItem(path, table=read_csv_table(data, path), csv_lines=True)
    except InputError as exc:
        return SeriesItem(path, error=exc)


def split_groups(item: SeriesItem, group_id: str | None) -> list[SeriesItem]:
    """``item`` as one series per ``group_id`` group, in order of first appearance (one group: ``item`` as is)."""
    if item.error is not None or not group_id or group_id not in item.table:
        return [item]
    column = item.table.column(group_id)
    groups = import_pandas().unique(column)
    if len(groups) <= 1:
        return [item]
    return [SeriesItem(item.input_path, table=item.table.take(column == value), index=item.index,
                       page_index=number, group=_plain(value), csv_lines=item.csv_lines)
            for number, value in enumerate(groups)]


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


# -- one series, checked ----------------------------------------------------------------------------------------
@dataclass
class Series:
    """One series ready for the model: ``index`` (the kept rows' times: a DatetimeIndex, or whole numbers),
    ``values`` (float64, scaled when the model scales), and the model inputs other than the values."""

    item: SeriesItem
    index: Any
    values: np.ndarray
    columns: tuple[str, ...]
    extra: dict[str, np.ndarray] = field(default_factory=dict)


def value_columns(item: SeriesItem, model: SeriesModel) -> tuple[str, ...]:
    """The columns that hold the series' values, checked against the table and what the model takes."""
    table = item.table
    present = list(table.names)
    if model.value_cols is not None:
        missing = [c for c in model.value_cols if c not in table]
        if missing:
            raise InputError(
                f"{item.where}: no column {', '.join(repr(c) for c in missing)} (its columns: "
                f"{', '.join(present)}). The model {model.name} was trained on {', '.join(model.value_cols)}: "
                "rename the CSV's columns to those names.")
        columns = model.value_cols
    else:  # PaddleX: every column but the time column
        skip = {model.time_col, model.group_id, *model.static_cov_cols}
        columns = tuple(c for c in table.names if c not in skip)
    if len(columns) != model.width:
        raise InputError(
            f"{item.where}: {len(columns)} value column{'s' if len(columns) != 1 else ''} "
            f"({', '.join(columns)}); the model {model.name} takes {model.width}. Give the columns it was trained "
            "on (its inference.yml's info_params).")
    return tuple(columns)


def time_positions(item: SeriesItem, model: SeriesModel):
    """(the time of each row as PaddleX reads the time column, the row order sorted by time). The times are a
    numpy array (int64 whole numbers, datetime64 dates) or, for time-zone aware dates, a DatetimeIndex."""
    table = item.table
    column = model.time_col
    encoded = table.encoded.get(column) if column is not None else None
    times = iso_times(encoded) if encoded is not None else None  # a CSV's dates, parsed from its bytes
    if times is not None:
        return times, np.argsort(times, kind="stable")
    if column is None:
        raw = np.arange(len(table))
    elif column not in table:
        raise InputError(f"{item.where}: no time column {column!r} (its columns: {', '.join(table.names)}); the "
                         f"model's inference.yml names {column!r} as info_params.time_col.")
    else:
        raw = table.column(column)
    empty = _missing(raw)
    if empty.size:
        raise InputError(f"{item.where}: the time column {column!r} is empty at {item.row(int(empty[0]))}.")
    if raw.dtype.kind in "iu" and isinstance(model.freq, str):
        raw = raw.astype(str).astype(object)  # PaddleX: whole numbers with a string freq are read as dates (20240101)
    if raw.dtype.kind in "iu":
        times = raw.astype(np.int64)
    elif raw.dtype.kind in "OUSM":
        times = _datetimes(item, column, raw)
    else:
        raise InputError(f"{item.where}: the time column {column!r} holds {raw.dtype} values; give dates or whole "
                         "numbers.")
    order = np.argsort(np.asarray(times), kind="stable")
    return times, order


def _missing(values: np.ndarray) -> np.ndarray:
    """The positions of missing values (NaN, NaT, None)."""
    kind = values.dtype.kind
    if kind in "iub":
        return np.empty(0, np.int64)
    if kind == "f":
        return np.flatnonzero(np.isnan(values))
    if kind in "mM":
        return np.flatnonzero(np.isnat(values))
    return np.flatnonzero(import_pandas().isna(values))


def _datetimes(item: SeriesItem, column: str | None, raw: np.ndarray):
    """A time column as a DatetimeIndex: ``pandas.to_datetime``'s reading (numpy's for one ISO layout, which
    is the same), an unparsable value an error naming its row."""
    pd = import_pandas()
    if raw.dtype.kind == "M":
        return raw
    fast = iso_times(raw) if raw.dtype == object else None
    if fast is not None:
        return fast
    try:
        parsed = pd.to_datetime(pd.Series(raw), errors="coerce")
    except (ValueError, TypeError) as exc:
        raise InputError(f"{item.where}: the time column {column!r} cannot be read as dates ({exc}).") from None
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if bad.size:
        position = int(bad[0])
        raise InputError(f"{item.where}: the time column {column!r} holds {raw[position]!r} at "
                         f"{item.row(position)}, not a date in the form of its first rows.")
    times = pd.DatetimeIndex(parsed)
    return times if times.tz is not None else times.to_numpy()


def shown(value: Any) -> Any:
    """A time as pandas prints it (numpy's datetime64 prints otherwise)."""
    return import_pandas().Timestamp(value) if isinstance(value, np.datetime64) else value


@functools.lru_cache(maxsize=64)
def _fixed_step(freq: str) -> int | None:
    """A frequency's step in nanoseconds where it is one fixed length ("h", "15min", "D"), else None."""
    try:
        return int(import_pandas().tseries.frequencies.to_offset(freq).nanos)
    except (ValueError, TypeError, AttributeError):
        return None


def check_regular(item: SeriesItem, model: SeriesModel, times, rows: np.ndarray) -> None:
    """Refuse kept rows whose times are not one ``freq`` apart (or repeat), naming the first row that is not."""
    pd = import_pandas()
    kept = times[rows]
    column = model.time_col or "index"
    if kept.dtype.kind in "iu":  # whole-number time
        step = model.freq if isinstance(model.freq, int) else 1
        expected = kept[0] + step * np.arange(len(kept))
        wrong = np.flatnonzero(kept != expected)
        if wrong.size:
            i = int(wrong[0])
            raise InputError(f"{item.where}: the time column {column!r} is {kept[i]} at {item.row(int(rows[i]))}; "
                             f"it should be {expected[i]} (steps of {step}, the model's freq). Fill the missing "
                             "steps first.")
        return
    freq = model.freq
    step = _fixed_step(freq) if isinstance(freq, str) else None
    instants = np.asarray(kept)
    if step is not None and instants.dtype.kind == "M":  # tz-naive, fixed steps: one subtraction
        if np.all(np.diff(instants.astype("datetime64[ns]").view(np.int64)) == step):
            return
    kept = pd.DatetimeIndex(kept)
    if freq is None:
        freq = pd.infer_freq(kept) if len(kept) >= 3 else None
        if freq is None:
            raise InputError(f"{item.where}: the model's inference.yml gives no freq and the times of "
                             f"{column!r} have no steady step to infer one from.")
    expected = pd.date_range(start=kept[0], periods=len(kept), freq=freq)
    wrong = np.flatnonzero(np.asarray(kept) != np.asarray(expected))
    if wrong.size:
        i = int(wrong[0])
        previous = f" after {kept[i - 1]}" if i else ""
        raise InputError(f"{item.where}: the time column {column!r} is {kept[i]} at {item.row(int(rows[i]))}"
                         f"{previous}; the model's steps are {freq}, so it should be {expected[i]}. Fill or "
                         f"resample the series to steps of {freq} first.")


def numeric_values(item: SeriesItem, columns: tuple[str, ...], rows: np.ndarray) -> np.ndarray:
    """The kept rows' values as float64 ``[rows, columns]``; an empty or non-numeric value is an error naming
    its column and row."""
    pd = import_pandas()
    out = np.empty((len(rows), len(columns)), np.float64)
    for j, column in enumerate(columns):
        raw = item.table.column(column)[rows]
        if raw.dtype.kind in "fiu":
            values = raw.astype(np.float64)
        else:
            values = pd.to_numeric(pd.Series(raw), errors="coerce").to_numpy(np.float64, na_value=np.nan)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            i = int(bad[0])
            shown = raw[i]
            what = "empty" if pd.isna(shown) else f"{shown!r}, not a finite number"
            raise InputError(f"{item.where}: column {column!r} is {what} at {item.row(int(rows[i]))}. Fill or "
                             "drop the gaps first.")
        out[:, j] = values
    return out


def check_static(item: SeriesItem, model: SeriesModel) -> None:
    """PaddleX's rule for static covariate columns: present, and one value in the series."""
    pd = import_pandas()
    for column in model.static_cov_cols:
        if column not in item.table:
            raise InputError(f"{item.where}: no column {column!r}, the model's static covariate "
                             "(info_params.static_cov_cols).")
        if pd.Series(item.table.column(column)).nunique(dropna=False) != 1:
            raise InputError(f"{item.where}: the static covariate column {column!r} has several values; it must "
                             "hold one value per series (use group_id to give several series).")


__all__ = ["Series", "SeriesItem", "SeriesModel", "TASKS", "check_regular", "check_static", "expand_series",
           "iter_series", "numeric_values", "read_csv_table", "shown", "split_groups", "time_positions", "value_columns"]
