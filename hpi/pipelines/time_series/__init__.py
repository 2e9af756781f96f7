"""PaddleX's time-series pipelines: ``ts_forecast``, ``ts_anomaly_detection``, ``ts_classification``."""

from .pipeline import TSAnomalyDetectionPipeline, TSClassificationPipeline, TSForecastPipeline

__all__ = ["TSAnomalyDetectionPipeline", "TSClassificationPipeline", "TSForecastPipeline"]
