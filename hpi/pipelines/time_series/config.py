"""The time-series pipeline configs: PaddleX's schema, one ``SubModules`` section each."""

from __future__ import annotations

from dataclasses import dataclass

from ...config import submodule
from ..base import PipelineConfig
from ..modules import TSAnomalyDetectionConfig, TSClassificationConfig, TSForecastConfig


@dataclass(frozen=True)
class TSForecastPipelineConfig(PipelineConfig):
    """The steps after each series (PaddleX's default model: DLinear)."""

    pipeline_name: str = "ts_forecast"
    ts_forecast: TSForecastConfig = submodule("TSForecast", TSForecastConfig)


@dataclass(frozen=True)
class TSAnomalyDetectionPipelineConfig(PipelineConfig):
    """A 0/1 anomaly label per step (PaddleX's default model: DLinear_ad)."""

    pipeline_name: str = "ts_anomaly_detection"
    ts_anomaly_detection: TSAnomalyDetectionConfig = submodule("TSAnomalyDetection", TSAnomalyDetectionConfig)


@dataclass(frozen=True)
class TSClassificationPipelineConfig(PipelineConfig):
    """A class per series (PaddleX's default model: TimesNet_cls)."""

    pipeline_name: str = "ts_classification"
    ts_classification: TSClassificationConfig = submodule("TSClassification", TSClassificationConfig)
