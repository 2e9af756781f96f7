"""PaddleX's time-series models: forecasting, anomaly detection and classification, many series per model call.

As PaddleX 3.7.2's ``TSFcPredictor``, ``TSAdPredictor`` and ``TSClsPredictor`` run them
(``paddlex/inference/models/ts_*``): the series' last ``in_chunk_len`` rows (forecasting, anomaly detection),
scaled by the model's ``scaler.pkl`` (read by :func:`hpi.models.scaler.load_scaler`, which runs nothing), the
model's inputs by name (``past_target``, ``observed_cov_numeric``, ``known_cov_numeric`` time features,
``features`` + ``pad_mask``), then:

- forecasting: the ``[out_chunk_len, columns]`` output, un-scaled, indexed by the steps after the last one;
- anomaly detection: per kept step the mean squared difference between the model's reconstruction and the
  scaled input over the columns; ``label`` 1 where it reaches the model's ``model_threshold``;
- classification: softmax of the logits, the top class and its probability.

PaddleX feeds one series per model call and splits a batch's outputs wrongly (its post-processing pairs series
with output tensors); hpi stacks the series of a batch into one call and keeps each one's rows.
:mod:`hpi.timeseries.series` says how inputs are checked and where hpi differs from PaddleX.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .._deps import import_pandas
from ..backends.base import Runner
from ..errors import BackendError, InputError, ModelError
from ..models.registry import ModelSpec
from ..models.scaler import FittedScaler, load_scaler
from ..timeseries import features
from ..timeseries.series import (
    Series, SeriesItem, SeriesModel, check_regular, check_static, numeric_values, shown, time_positions,
    value_columns,
)
from ..timing import NULL_TIMES, StageTimes
from .base import Predictor, model_yml


class SeriesPredictor(Predictor):
    """The shared part: the model's facts and scaler, series → model inputs, batched model calls."""

    stage = "ts"
    task = ""

    def __init__(self, runner: Runner, spec: ModelSpec, model: SeriesModel, scaler: FittedScaler | None,
                 batch_size: int = 1) -> None:
        super().__init__(runner, spec)
        self.model = model
        self.scaler = scaler
        self.batch_size = batch_size
        missing = [name for name in model.inputs if name not in runner.input_names]
        if missing:
            raise ModelError(f"{model.name}: its inference.yml declares the inputs {', '.join(model.inputs)}, the "
                             f"model file has {', '.join(runner.input_names)}; they belong to different models.")

    @classmethod
    def from_module(cls, runner: Runner, spec: ModelSpec, module: Any, artifacts: Any = None) -> "SeriesPredictor":
        path, data = model_yml(spec, artifacts, "a time-series model", "its columns, lengths and frequency")
        model = SeriesModel.from_yml(data, Path(path), cls.task)
        scaler = None
        if model.scale:
            scaler_path = Path(path).parent / "scaler.pkl"
            if not scaler_path.is_file():
                raise ModelError(f"{scaler_path}: missing. The model's inference.yml says scale: true, so its "
                                 "directory must hold the scaler.pkl its training wrote.")
            scaler = load_scaler(scaler_path)
            names = scaler.state.get("feature_names_in_")
            if names is not None and model.value_cols is not None and tuple(names) != model.value_cols:
                raise ModelError(f"{scaler_path} was fitted on the columns {', '.join(map(str, names))}; the model's "
                                 f"inference.yml names {', '.join(model.value_cols)}. They belong to different models.")
        return cls(runner, spec, model, scaler, getattr(module, "batch_size", 1))

    # -- one series --------------------------------------------------------------------------------------------
    def rows_kept(self, count: int, item: SeriesItem) -> int:
        """How many of the last rows the model sees (forecasting, anomaly detection: in_chunk_len)."""
        need = self.model.in_chunk_len + self.model.skip_chunk_len
        if count < need:
            raise InputError(f"{item.where}: {count} rows; the model {self.model.name} needs at least {need} "
                             f"(its in_chunk_len) to {'forecast' if self.task == 'ts_forecast' else 'run'}.")
        return need

    def prepare(self, item: SeriesItem) -> Series:
        """``item`` checked and made ready for the model (an :class:`InputError` for a series it cannot take)."""
        if item.error is not None:
            raise item.error
        model = self.model
        columns = value_columns(item, model)
        check_static(item, model)
        times, order = time_positions(item, model)
        rows = order[len(order) - self.rows_kept(len(order), item):]
        self.check_times(item, times, rows)
        values = numeric_values(item, columns, rows)
        if self.scaler is not None:
            values = self.scaler.transform(values)
        index = times[rows]
        pd = import_pandas()
        index = pd.Index(index, name=model.time_col) if index.dtype.kind in "iu" else \
            pd.DatetimeIndex(index, name=model.time_col)
        series = Series(item, index, values, columns)
        if "known_cov_numeric" in model.inputs:
            if not model.time_feat:
                raise ModelError(f"{model.name} takes known_cov_numeric, but its inference.yml has time_feat off; "
                                 "hpi makes known covariates from the time features only.")
            series.extra["known_cov_numeric"] = features.time_features(index, model.freq, model.out_chunk_len,
                                                                       model.holiday)
        return series

    def check_times(self, item: SeriesItem, times, rows: np.ndarray) -> None:
        duplicated = _first_repeat(times, rows)
        if duplicated is not None:
            raise InputError(f"{item.where}: the time {shown(times[rows[duplicated]])} at "
                             f"{item.row(int(rows[duplicated]))} "
                             "repeats the row before it; each step must appear once.")
        check_regular(item, self.model, times, rows)

    # -- model calls ---------------------------------------------------------------------------------------------
    def feed(self, series: Sequence[Series]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for name, dims in self.model.inputs.items():
            if name == self.model.value_input:
                arrays = [s.values for s in series]
            elif name in series[0].extra:
                arrays = [s.extra[name] for s in series]
            else:
                raise ModelError(f"{self.model.name} takes an input {name!r} hpi cannot make (it makes "
                                 f"{self.model.value_input}, known_cov_numeric time features and pad_mask).")
            batch = np.stack(arrays).astype(np.float32)
            if batch.shape[1:] != dims:
                raise InputError(f"{series[0].item.where}: the model's input {name} is {list(dims)} per series; "
                                 f"this series gives {list(batch.shape[1:])}.")
            out[name] = batch
        return out

    def run_batches(self, series: Sequence[Series], times: StageTimes) -> list[np.ndarray]:
        """The model's first output per series, ``batch_size`` series per call."""
        outputs: list[np.ndarray] = []
        size = max(1, self.batch_size)
        for start in range(0, len(series), size):
            chunk = series[start:start + size]
            feed = self.feed(chunk)
            with times.stage(f"{self.stage}.model"):
                result = self.runner.infer(feed)
            first = np.asarray(next(iter(result.values())))
            if first.shape[0] != len(chunk):
                raise BackendError(f"{self.model.name} returned {first.shape[0]} rows for {len(chunk)} series.")
            outputs.extend(first[i] for i in range(len(chunk)))
        return outputs

    def predict(self, items: Sequence[SeriesItem], times: StageTimes = NULL_TIMES) -> list[Any]:
        """One result per item (the task's DataFrame), in order."""
        with times.stage(f"{self.stage}.pre"):
            series = [self.prepare(item) for item in items]
        outputs = self.run_batches(series, times)
        with times.stage(f"{self.stage}.post"):
            return [self.postprocess(s, out) for s, out in zip(series, outputs)]

    def postprocess(self, series: Series, output: np.ndarray) -> Any:
        raise NotImplementedError


class TSForecaster(SeriesPredictor):
    """``predict(items)`` → per series its forecast DataFrame (PaddleX's ``forecast``)."""

    task = "ts_forecast"

    def postprocess(self, series: Series, output: np.ndarray):
        pd = import_pandas()
        model = self.model
        values = output.reshape(output.shape[0], -1)
        if self.scaler is not None:
            values = self.scaler.inverse_transform(values).astype(values.dtype)
        index = features.future_index(series.index, model.freq, values.shape[0], model.time_col)
        return pd.DataFrame(values, index=index, columns=list(series.columns))


class TSAnomalyDetector(SeriesPredictor):
    """``predict(items)`` → per series its anomaly DataFrame (``label`` 0/1 per kept step, PaddleX's
    ``anomaly``)."""

    task = "ts_anomaly_detection"

    def postprocess(self, series: Series, output: np.ndarray):
        pd = import_pandas()
        score = np.mean(np.square(output.astype(np.float64) - series.values), axis=-1)
        labels = (score >= self.model.threshold).astype(np.int64)
        return pd.DataFrame(labels.reshape(-1, 1), index=series.index, columns=["label"])


class TSClassifier(SeriesPredictor):
    """``predict(items)`` → per series a one-row DataFrame ``classid``, ``score`` (PaddleX's
    ``classification``)."""

    task = "ts_classification"

    def rows_kept(self, count: int, item: SeriesItem) -> int:
        length = self.model.length
        if count > length:
            raise InputError(f"{item.where}: {count} rows; the model {self.model.name} classifies series of at most "
                             f"{length} rows. Cut the series (or give each series its own group_id).")
        return count

    def check_times(self, item: SeriesItem, times, rows: np.ndarray) -> None:
        pass  # the classifier takes the rows as they are (PaddleX needs no steady step here)

    def prepare(self, item: SeriesItem) -> Series:
        series = super().prepare(item)
        length = self.model.length
        count = series.values.shape[0]
        if count < length:  # padded with zeros, masked out (PaddleX's BuildPadMask, in float)
            padded = np.zeros((length, series.values.shape[1]), np.float64)
            padded[:count] = series.values
            series.values = padded
        if "pad_mask" in self.model.inputs:
            mask = np.ones(length, np.float32)
            mask[count:] = 0.0
            series.extra["pad_mask"] = mask
        return series

    def postprocess(self, series: Series, output: np.ndarray):
        pd = import_pandas()
        logits = np.asarray(output, np.float32).reshape(-1)
        shifted = logits - np.max(logits)
        probabilities = np.exp(shifted) / np.sum(np.exp(shifted))
        class_id = int(np.argmax(probabilities))
        frame = pd.DataFrame({"classid": [class_id], "score": [probabilities[class_id]]})
        frame.index.name = "sample"
        return frame


def _first_repeat(times, rows: np.ndarray) -> int | None:
    kept = np.asarray(times[rows])
    same = np.flatnonzero(kept[1:] == kept[:-1])
    return int(same[0]) + 1 if same.size else None


__all__ = ["SeriesPredictor", "TSAnomalyDetector", "TSClassifier", "TSForecaster"]
