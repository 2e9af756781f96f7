"""The ``layout_detection`` config: one ``SubModules.LayoutDetection`` section (PaddleX's module schema)."""

from __future__ import annotations

from dataclasses import dataclass

from ...config import submodule
from ..base import PipelineConfig
from ..modules import LayoutDetectionConfig


@dataclass(frozen=True)
class LayoutDetectionPipelineConfig(PipelineConfig):
    """Layout detection alone: the page's regions (text, title, table, figure, ...) as boxes."""

    pipeline_name: str = "layout_detection"
    layout_detection: LayoutDetectionConfig = submodule("LayoutDetection", LayoutDetectionConfig)
