"""A series' columns as numpy arrays, read from a CSV's bytes (or taken from a DataFrame) without pandas' per-file
overhead where the file allows it.

PaddleX reads every CSV with ``pandas.read_csv`` and works on the DataFrame; at a few hundred rows most of that
time is pandas' fixed cost per call (about 0.6 ms to read, 0.7 ms more to parse the time column). hpi keeps
pandas' reading as the meaning and reads the common plain form itself:

- :func:`read_plain_csv` takes a CSV whose first line names the columns (distinct, non-empty names) and whose
  every other line has as many comma-separated fields, with no quotes, blank lines, byte-order mark or NUL; a
  column is whole numbers (int64), numbers (float64, an empty field NaN) or text (Python ``str``, pandas' NA
  spellings NaN) exactly as ``pandas.read_csv`` types it. Anything else (a field pandas might read differently:
  ``inf``, `` 1.5``, ``True``, a number out of int64's range, quotes, ragged lines) returns None and
  :func:`read_csv_table` asks pandas. The fields are split and typed by ``hpi.kernels.csv_columns`` (compiled,
  the GIL released; ``hpi/kernels/_reference_csv.py`` its pure-Python reference). The tests check the two
  readings equal on generated files of every form.
- :func:`iso_times` parses a text time column in one ISO 8601 layout (``2024-01-01``, ``2024-01-01 13:00``,
  ``2024-01-01T13:00:00.25``: every row the layout of the first) with numpy at pandas 3's resolution
  (microseconds); anything else is left to ``pandas.to_datetime``.

The input DataFrame a result shows (``cutoff_ts``, ``input_ts_data``) is pandas' reading of the same bytes, made
when it is first asked for.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import kernels
from .._deps import import_pandas
from ..errors import InputError

# pandas.read_csv's default NA spellings (``pandas.io.parsers`` ``STR_NA_VALUES``).
NA_STRINGS = frozenset({
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA",
    "NULL", "NaN", "None", "n/a", "nan", "null",
})
# Spellings pandas reads as booleans (a column of only these and NAs is bool or object there).
BOOL_STRINGS = frozenset({"True", "False", "TRUE", "FALSE", "true", "false"})
_NA_BYTES = frozenset(value.encode() for value in NA_STRINGS)
_BOOL_BYTES = frozenset(value.encode() for value in BOOL_STRINGS)
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?")


@dataclass
class Table:
    """A series' columns by name (int64, float64, datetime64 or object arrays), the rows' labels (a CSV's data
    row numbers from 0, or a DataFrame's index) and where its DataFrame comes from. A text column read from a
    CSV is kept as its bytes (``encoded``) until something asks for its text."""

    names: tuple[str, ...]
    arrays: dict[str, np.ndarray]
    labels: Any  # numpy array or pandas Index, one label per row
    source: Any = None  # the CSV's bytes, or the DataFrame
    rows: np.ndarray | None = None  # the source rows this table holds (None: all)
    encoded: dict[str, np.ndarray] = field(default_factory=dict)  # text columns as fixed-width UTF-8 bytes
    _frame: Any = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.labels)

    def __contains__(self, name: Any) -> bool:
        return str(name) in self.arrays or str(name) in self.encoded

    def column(self, name: str) -> np.ndarray:
        """A column's values (text as ``str``, pandas' NA spellings NaN, as ``pandas.read_csv`` gives them)."""
        name = str(name)
        if name not in self.arrays:
            self.arrays[name] = _decoded(self.encoded[name])
        return self.arrays[name]

    def take(self, mask: np.ndarray) -> "Table":
        """The rows where ``mask`` is true (their labels kept)."""
        positions = np.flatnonzero(mask)
        rows = positions if self.rows is None else self.rows[positions]
        part = Table(self.names, {name: array[positions] for name, array in self.arrays.items()},
                     self.labels[positions], self.source, rows,
                     {name: array[positions] for name, array in self.encoded.items()})
        if self._frame is not None:  # a DataFrame already made (pandas read the file): its rows, not a re-read
            part._frame = self._frame.iloc[positions]
        return part

    def frame(self):
        """The rows as a DataFrame: pandas' reading of the CSV (made once), or the DataFrame given."""
        if self._frame is None:
            pd = import_pandas()
            whole = self.source if hasattr(self.source, "iloc") else pd.read_csv(io.BytesIO(self.source))
            self._frame = whole if self.rows is None else whole.iloc[self.rows]
        return self._frame

    @classmethod
    def from_frame(cls, frame: Any, source: Any = None) -> "Table":
        """A DataFrame's columns (``source``: the CSV bytes it was read from, if any)."""
        arrays = {str(name): frame[name].to_numpy() for name in frame.columns}
        table = cls(tuple(arrays), arrays, frame.index, frame if source is None else source)
        table._frame = frame
        return table


def read_csv_table(data: bytes, where: str, max_rows: int | None = None) -> Table:
    """A CSV's bytes as a :class:`Table`, or an :class:`InputError` saying why not (pandas' reader where the
    file is not of the plain form). ``max_rows``: more data rows than this is an error (the server's limit)."""
    if not data.strip():
        raise InputError(f"{where}: the CSV is empty.")
    table = read_plain_csv(data)
    if table is None:
        table = Table.from_frame(_pandas_read(data, where, max_rows), data)
    if max_rows is not None and len(table) > max_rows:
        raise InputError(f"{where}: the CSV has more than {max_rows:,} rows, this service's limit.")
    if not len(table):
        raise InputError(f"{where}: the CSV has a header but no rows.")
    return table


def _pandas_read(data: bytes, where: str, max_rows: int | None):
    pd = import_pandas()
    try:
        return pd.read_csv(io.BytesIO(data), nrows=None if max_rows is None else max_rows + 1)
    except UnicodeDecodeError:
        raise InputError(f"{where}: not a UTF-8 text CSV file.") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{where}: not a readable CSV ({first}).") from None


def read_plain_csv(data: bytes) -> Table | None:
    """The CSV as ``pandas.read_csv`` would read it, for the plain form (module docstring); None otherwise."""
    if b'"' in data or b"\x00" in data or data.startswith(b"\xef\xbb\xbf"):
        return None
    text = data.replace(b"\r\n", b"\n") if b"\r" in data else data
    if b"\r" in text:
        return None
    text = text[:-1] if text.endswith(b"\n") else text
    header, _, body = text.partition(b"\n")
    if not body or b"\n\n" in body:
        return None
    try:
        text.decode("utf-8")  # pandas refuses the whole file otherwise
    except UnicodeDecodeError:
        return None
    names = tuple(header.decode("utf-8").split(","))
    width = len(names)
    if width < 2 or len(set(names)) != width or any(not name or name != name.strip() for name in names):
        return None
    lines = body.count(b"\n") + 1
    columns = kernels.csv_columns(body, width, lines)
    if columns is None:
        return None
    arrays: dict[str, np.ndarray] = {}
    encoded: dict[str, np.ndarray] = {}
    for name, column in zip(names, columns):
        if column.dtype.kind != "S":
            arrays[name] = column
        elif _is_text(column):
            encoded[name] = column
        else:
            return None
    return Table(names, arrays, np.arange(lines), data, encoded=encoded)


def _is_text(column: np.ndarray) -> bool:
    """Whether pandas reads a column of these fields (not all numbers, some not) as text: only if some field is
    neither NA, a bool nor a number (pandas' numbers are a subset of what float() takes, so a field float()
    refuses settles it; a column of only numbers, bools and NAs pandas may type otherwise)."""
    for value in column.tolist():
        if value in _NA_BYTES or value in _BOOL_BYTES:
            continue
        try:
            float(value)
        except ValueError:
            return True
    return False


def _decoded(column: np.ndarray) -> np.ndarray:
    """Fixed-width UTF-8 fields as pandas' text column: ``str`` objects, NA spellings NaN."""
    out = np.empty(len(column), dtype=object)
    for position, value in enumerate(column.tolist()):
        out[position] = np.nan if value in _NA_BYTES else value.decode("utf-8")
    return out


def iso_times(values: np.ndarray) -> np.ndarray | None:
    """A text time column (``str`` objects, or fixed-width bytes) in one ISO 8601 layout as datetime64[us] (as
    ``pandas.to_datetime`` gives it), or None where pandas should parse it (another layout, rows of another
    layout than the first, a date out of range)."""
    if not len(values):
        return None
    first = values[0]
    if isinstance(first, bytes):
        first = first.decode("ascii", "replace")
    if not isinstance(first, str) or not _ISO.fullmatch(first):
        return None
    if values.dtype.kind == "S":
        encoded = values
    else:
        try:
            encoded = np.array(values, dtype=bytes)  # as long as the longest value: a longer one fails below
        except (UnicodeEncodeError, TypeError, ValueError):
            return None
    if encoded.dtype.itemsize != len(first):
        return None
    codes = np.ascontiguousarray(encoded).view(np.uint8).reshape(len(values), len(first))
    layout = np.frombuffer(first.encode("ascii"), np.uint8)
    digit = (layout >= ord("0")) & (layout <= ord("9"))
    is_digit = (codes >= ord("0")) & (codes <= ord("9"))
    if not np.all(np.where(digit, is_digit, codes == layout)):
        return None
    try:
        return encoded.astype("datetime64[us]")
    except ValueError:
        return None


__all__ = ["BOOL_STRINGS", "NA_STRINGS", "Table", "iso_times", "read_csv_table", "read_plain_csv"]
