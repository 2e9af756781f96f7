"""The ``semantic_segmentation`` config: PaddleX's schema, one ``SubModules.SemanticSegmentation`` section."""

from __future__ import annotations

from dataclasses import dataclass

from ...config import submodule
from ..base import PipelineConfig
from ..modules import AnomalyDetectionConfig, SemanticSegmentationConfig


@dataclass(frozen=True)
class SemanticSegmentationPipelineConfig(PipelineConfig):
    """A class id per pixel (PaddleX's default model: PP-LiteSeg-T, Cityscapes' 19 classes)."""

    pipeline_name: str = "semantic_segmentation"
    semantic_segmentation: SemanticSegmentationConfig = submodule("SemanticSegmentation",
                                                                  SemanticSegmentationConfig)


@dataclass(frozen=True)
class AnomalyDetectionPipelineConfig(PipelineConfig):
    """A defect mask per image (PaddleX's default model: STFPM, trained on one kind of good part)."""

    pipeline_name: str = "anomaly_detection"
    anomaly_detection: AnomalyDetectionConfig = submodule("AnomalyDetection", AnomalyDetectionConfig)
