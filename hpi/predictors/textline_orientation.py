"""Text line orientation (0° / 180°) for cropped lines."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .. import kernels
from ..backends.base import Runner
from ..models.registry import ModelSpec
from ..timing import NULL_TIMES, StageTimes
from .base import Predictor


class TextlineClassifier(Predictor):
    """``predict(crops)`` returns (label indices, scores); label 1 means upside down (180°).

    A line counts as upside down only when the model says 180° with a score
    above ``cls_thresh`` (0.9 for PP-OCR's mobile v2 classifier, as in
    PaddleOCR): below it, the classifier flips upright lines too often.
    """

    stage = "cls"
    LABELS = ("0_degree", "180_degree")  # PaddleX's label names

    def __init__(self, runner: Runner, spec: ModelSpec, batch_size: int = 6) -> None:
        super().__init__(runner, spec)
        self.batch_size = batch_size
        self.image_shape = tuple(spec.postprocess.get("image_shape", (3, 48, 192)))
        self.cls_thresh = float(spec.postprocess.get("cls_thresh", 0.0))
        # PP-OCR's mobile v2 classifier: aspect kept, padded to 192 (rec_preprocess). PaddleX's PP-LCNet
        # textline classifier: an image classifier, RGB, stretched to 160×80.
        self.stretch = spec.postprocess.get("resize") == "stretch"
        self.rgb = bool(spec.postprocess.get("rgb", False))

    @classmethod
    def from_module(cls, runner: Runner, spec: ModelSpec, module, artifacts=None) -> "TextlineClassifier":
        return cls(runner, spec, module.batch_size)

    def _preprocess(self, batch: Sequence[np.ndarray]) -> np.ndarray:
        if not self.stretch:
            return kernels.rec_preprocess(
                batch, self.image_shape, self.spec.mean, self.spec.std, self.spec.scale, dynamic_width=False
            )
        _, height, width = self.image_shape
        return np.concatenate([
            kernels.classify_preprocess(crop, None, (height, width), self.spec.mean, self.spec.std, self.spec.scale,
                                        rgb=self.rgb)
            for crop in batch
        ])

    def module_outputs(self, image: np.ndarray, module: Any, times: StageTimes = NULL_TIMES) -> dict[str, Any]:
        """PaddleX's textline_orientation module: the model's top class and score for one line image (the
        OCR pipeline's extra confidence rule for flipping is not applied here)."""
        [label], [score] = self.predict([image], times, apply_thresh=False)
        return {"class_ids": [label], "scores": [score], "label_names": [self.LABELS[label]]}

    def predict(self, crops: Sequence[np.ndarray], times: StageTimes = NULL_TIMES,
                apply_thresh: bool = True) -> tuple[list[int], list[float]]:
        """(label, score) per crop; ``apply_thresh=False``: the model's top class even below ``cls_thresh``."""
        labels: list[int] = []
        scores: list[float] = []
        for start in range(0, len(crops), self.batch_size):
            batch = crops[start:start + self.batch_size]
            with times.stage("cls.pre"):
                tensor = self._preprocess(batch)
            out = self.run(tensor, times)
            with times.stage("cls.post"):
                for row in out:
                    label = int(row.argmax())
                    score = float(row[label])
                    labels.append(label if label == 0 or score > self.cls_thresh or not apply_thresh else 0)
                    scores.append(score)
        return labels, scores
