"""Image anomaly detection (PaddleX's ``anomaly_detection`` module, STFPM): a defect mask per image.

As PaddleX 3.7.2's ``UadPredictor`` runs it (``paddlex/inference/models/anomaly_detection/``): the model
directory's ``Deploy.transforms`` (a ``Resize``, required, keep_ratio off by default; ``Normalize``), the
model's ``[N, 1, h, w]`` anomaly score map, then ``MapToMask``: scores over 0.01 are 255, the rest 0, and a
morphological opening with a radius-4 disk (scikit-image's ``disk(4)``: the 9×9 points with x² + y² ≤ 16)
removes specks. The mask stays at the model's resolution (``[1, h, w]`` uint8), as PaddleX leaves it.

PaddleX 3.7.2 masks only the first image of a batch (``MapToMask`` takes ``pred[0]``) and then fails to split
the batch; hpi masks each image.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..backends.base import Runner
from ..errors import BackendError
from ..models.preprocess import ANOMALY_RESIZE, segmentation_preprocess
from ..models.registry import ModelSpec
from ..timing import NULL_TIMES, StageTimes
from .base import check_page, same_shape_runs
from .semantic_segmentation import DeployPredictor

SCORE_THRESHOLD = 0.01  # PaddleX's MapToMask
_Y, _X = np.mgrid[-4:5, -4:5]
DISK_4 = ((_X * _X + _Y * _Y) <= 16).astype(np.uint8)  # scikit-image's morphology.disk(4)


def score_map_to_mask(score_map: np.ndarray) -> np.ndarray:
    """One ``h×w`` score map → PaddleX's ``[1, h, w]`` uint8 mask (0 / 255, opened with ``DISK_4``).

    scikit-image's grey opening pads by reflection; with a symmetric footprint a reflected neighbour is
    always also a neighbour inside the image, so OpenCV's opening (which ignores outside pixels) is equal.
    """
    import cv2

    mask = np.where(score_map > SCORE_THRESHOLD, 255, 0).astype(np.uint8)
    return cv2.morphologyEx(mask, cv2.MORPH_OPEN, DISK_4)[None]


class AnomalyDetector(DeployPredictor):
    """``predict(images)`` → per image its ``[1, h, w]`` uint8 defect mask at the model's resolution."""

    stage = "uad"

    @classmethod
    def from_module(cls, runner: Runner, spec: ModelSpec, module: Any, artifacts: Any = None) -> "AnomalyDetector":
        name, transforms = cls.deploy_transforms(spec, artifacts, "an anomaly detection model", "an anomaly detection")
        preprocess = segmentation_preprocess(transforms, name, defaults=ANOMALY_RESIZE, needs_resize=True)
        return cls(runner, spec, preprocess, module.batch_size)

    def predict(self, images: Sequence[np.ndarray], times: StageTimes = NULL_TIMES) -> list[np.ndarray]:
        with times.stage("uad.pre"):
            for image in images:
                check_page(image, "Anomaly detection")
            tensors = [self.preprocess(image) for image in images]
        masks: list[np.ndarray] = []
        for start, end in same_shape_runs(tensors, self.batch_size):
            with times.stage("uad.model"):
                scores = np.asarray(self.runner.infer_one(np.stack(tensors[start:end])))
            with times.stage("uad.post"):
                if scores.ndim != 4 or scores.shape[0] != end - start:
                    raise BackendError(f"{self.spec.name} returned shape {scores.shape}; an anomaly detection model "
                                       "returns an [N, 1, H, W] score map. Is model_dir an anomaly detection model?")
                masks += [score_map_to_mask(score[0]) for score in scores]
        return masks

    def module_outputs(self, image: np.ndarray, module: Any, times: StageTimes = NULL_TIMES) -> dict[str, Any]:
        """PaddleX's anomaly_detection module result (its ``UadResult``): ``pred``."""
        [mask] = self.predict([image], times)
        return {"pred": mask}


__all__ = ["AnomalyDetector", "DISK_4", "score_map_to_mask"]
