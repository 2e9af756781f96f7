"""Text detection (DB): resize/normalise → det model → box decode."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import kernels
from ..backends.base import Runner
from ..models.registry import ModelSpec
from ..timing import NULL_TIMES, StageTimes
from .base import Predictor

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DetParams:
    """PaddleX's text_det_* parameters for one call."""

    limit_side_len: int
    limit_type: str
    max_side_limit: int
    thresh: float
    box_thresh: float
    unclip_ratio: float
    box_type: str = "quad"
    score_mode: str = "fast"

    def as_paddlex(self) -> dict:
        return {
            "limit_side_len": self.limit_side_len,
            "limit_type": self.limit_type,
            "thresh": self.thresh,
            "max_side_limit": self.max_side_limit,
            "box_thresh": self.box_thresh,
            "unclip_ratio": self.unclip_ratio,
        }


class TextDetector(Predictor):
    """Finds text regions. ``predict`` returns (polygons N×4×2 int32, scores N)."""

    stage = "det"

    def __init__(self, runner: Runner, spec: ModelSpec) -> None:
        super().__init__(runner, spec)
        # Runners with fixed shape limits (TensorRT profiles): the long side never exceeds what the
        # engines take, whatever max_side_limit says (PaddleX's 4000 > the 1920 of the det profiles).
        shape = self.max_input_shape
        self.max_side: int | None = int(min(shape[2], shape[3])) if shape else None

    def predict(self, image: np.ndarray, params: DetParams, times: StageTimes = NULL_TIMES):
        height, width = image.shape[:2]
        max_side_limit = params.max_side_limit
        if self.max_side is not None:
            max_side_limit = min(max_side_limit, self.max_side)
        with times.stage("det.pre"):
            tensor, _, _ = kernels.det_preprocess(
                image, params.limit_side_len, params.limit_type, max_side_limit,
                self.spec.mean, self.spec.std, self.spec.scale,
            )
        self._warn_if_squeezed(height, width, tensor.shape[2], tensor.shape[3], max_side_limit)
        prob = self.run(tensor, times)
        with times.stage("det.post"):
            boxes, scores = kernels.db_decode(
                prob[0, 0], height, width, thresh=params.thresh, box_thresh=params.box_thresh,
                max_candidates=int(self.spec.postprocess.get("max_candidates", 1000)),
                unclip_ratio=params.unclip_ratio, score_mode=params.score_mode, box_type=params.box_type,
            )
        return boxes, scores

    def module_outputs(self, image: np.ndarray, module: Any, times: StageTimes = NULL_TIMES) -> dict[str, Any]:
        params = DetParams(module.limit_side_len, module.limit_type, module.max_side_limit, module.thresh,
                           module.box_thresh, module.unclip_ratio, module.box_type, module.score_mode)
        polys, scores = self.predict(image, params, times)
        return {"dt_polys": [p for p in polys], "dt_scores": [float(s) for s in scores]}

    def module_defaults(self) -> dict[str, Any]:
        post = self.spec.postprocess
        return {k: post[k] for k in ("thresh", "box_thresh", "unclip_ratio") if k in post}

    @staticmethod
    def _warn_if_squeezed(height: int, width: int, resized_h: int, resized_w: int, max_side_limit: int) -> None:
        """A very long image (20000×200) shrunk to the long-side cap leaves its text a few pixels high: say so."""
        if max(height, width) > max_side_limit and min(resized_h, resized_w) < 64:
            log.warning(
                "A %d×%d image is detected at %d×%d (the long side is capped at text_det_max_side_limit=%d): text "
                "on it shrinks %.1f× and may be lost. Raise text_det_max_side_limit or split the image.",
                width, height, resized_w, resized_h, max_side_limit, max(height, width) / max(resized_h, resized_w),
            )
