"""PaddleX's ``layout_parsing`` (v1) pipeline: a page's regions in reading order with their text and tables."""

from .config import LayoutParsingConfig
from .pipeline import LayoutParsingPipeline

__all__ = ["LayoutParsingConfig", "LayoutParsingPipeline"]
