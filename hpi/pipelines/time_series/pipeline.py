"""The time-series pipelines: series (CSV files, URLs, directories, DataFrames) → PaddleX's time-series results.

The base :class:`~hpi.pipelines.base.Pipeline` reads series instead of images (:meth:`SeriesPipeline.read_inputs`:
:func:`hpi.timeseries.series.iter_series`, a CSV of several ``group_id`` groups split into one series per
group); a bad series is reported and the others go on, as for images. ``batch_size`` series share a model call.
"""

from __future__ import annotations

from itertools import chain
from typing import Any, ClassVar, Iterator

from ...predictors.time_series import TSAnomalyDetector, TSClassifier, TSForecaster
from ...results.time_series import TSAnomalyResult, TSClassificationResult, TSForecastResult, TSResult
from ...timeseries.series import SeriesItem, expand_series, iter_series, split_groups, value_columns
from ...timing import StageTimes
from ..base import ModelSlot, Pipeline
from ..params import Param
from .config import TSAnomalyDetectionPipelineConfig, TSClassificationPipelineConfig, TSForecastPipelineConfig


class SeriesPipeline(Pipeline):
    """What the three time-series pipelines (and ``create_model`` of their modules) share: one model slot."""

    slot: ClassVar[str] = "module"
    result_class: ClassVar[type[TSResult]] = TSResult
    expand = staticmethod(expand_series)

    def read_inputs(self, input: Any) -> tuple[Iterator, bool]:
        items, is_batch = iter_series(input)
        group_id = self.predictor(self.slot).model.group_id
        if not group_id:
            return items, is_batch
        return chain.from_iterable(split_groups(item, group_id) for item in items), is_batch

    def batch_size(self) -> int:
        return self.module_config(self.slot).batch_size

    def predict_item(self, item: SeriesItem, call: Any) -> TSResult:
        return self.predict_items([item], call)[0]

    def predict_items(self, items: list[SeriesItem], call: Any) -> list[TSResult]:
        predictor = self.predictor(self.slot)
        times = StageTimes()
        frames = predictor.predict(items, times)
        timings = times.as_ms()
        return [self.result_class(frame, item.table, item.input_path, item.stem, item.page_index,
                                  columns=value_columns(item, predictor.model), timings_ms=dict(timings))
                for item, frame in zip(items, frames)]


def _params(prefix: str, key: str) -> tuple[Param, ...]:
    path = ("SubModules", key)
    return (Param(f"{prefix}_model_name", (*path, "model_name")),
            Param(f"{prefix}_model_dir", (*path, "model_dir")),
            Param(f"{prefix}_batch_size", (*path, "batch_size")))


class TSForecastPipeline(SeriesPipeline):
    """PaddleX's ``ts_forecast``: per series its ``forecast`` DataFrame (the model's ``out_chunk_len`` steps)."""

    name = "ts_forecast"
    config_class = TSForecastPipelineConfig
    params = _params("ts_forecast", "TSForecast")
    slot = "ts_forecast"
    models = {"ts_forecast": ModelSlot("ts_forecast", TSForecaster)}
    result_class = TSForecastResult


class TSAnomalyDetectionPipeline(SeriesPipeline):
    """PaddleX's ``ts_anomaly_detection``: per series its ``anomaly`` DataFrame (``label`` per step)."""

    name = "ts_anomaly_detection"
    config_class = TSAnomalyDetectionPipelineConfig
    params = _params("ts_anomaly_detection", "TSAnomalyDetection")
    slot = "ts_anomaly_detection"
    models = {"ts_anomaly_detection": ModelSlot("ts_anomaly_detection", TSAnomalyDetector)}
    result_class = TSAnomalyResult


class TSClassificationPipeline(SeriesPipeline):
    """PaddleX's ``ts_classification``: per series its ``classification`` DataFrame (``classid``, ``score``)."""

    name = "ts_classification"
    config_class = TSClassificationPipelineConfig
    params = _params("ts_classification", "TSClassification")
    slot = "ts_classification"
    models = {"ts_classification": ModelSlot("ts_classification", TSClassifier)}
    result_class = TSClassificationResult


__all__ = ["SeriesPipeline", "TSAnomalyDetectionPipeline", "TSClassificationPipeline", "TSForecastPipeline"]
