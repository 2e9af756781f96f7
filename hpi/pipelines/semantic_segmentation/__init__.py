"""``semantic_segmentation`` and ``anomaly_detection``: PaddleX's per-pixel pipelines (a label map, a defect mask)."""

from .config import AnomalyDetectionPipelineConfig, SemanticSegmentationPipelineConfig
from .pipeline import AnomalyDetectionPipeline, SemanticSegmentationPipeline

__all__ = ["AnomalyDetectionPipeline", "AnomalyDetectionPipelineConfig", "SemanticSegmentationPipeline",
           "SemanticSegmentationPipelineConfig"]
