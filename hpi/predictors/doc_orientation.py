"""Document orientation (0 / 90 / 180 / 270 degrees) of a whole page.

Pre-processing follows PaddleX's ``doc_text_orientation`` module (an image
classification predictor): the page is read as RGB (PaddleX's
``ReadImage(format="RGB")`` turns a BGR array into RGB), ``ResizeImage``
resizes the short side to 256 with bilinear interpolation, ``CropImage`` takes
the centre 224×224, ``NormalizeImage`` scales by 1/255 and applies the
ImageNet mean/std, ``ToCHWImage`` makes it NCHW. One page is one 224×224
tensor (``hpi.kernels.classify_preprocess``, shared with the classifiers to come).

The label is the angle, counter-clockwise, by which the page must be turned
to be upright: PaddleX's DocPreprocessor calls
``scipy.ndimage.rotate(image, angle, reshape=True)``, which for multiples of
90 is exactly ``np.rot90(image, angle // 90)`` (:func:`rotate_upright`).
A page turned 90° counter-clockwise is therefore classified 270.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import kernels
from ..backends.base import Runner
from ..errors import BackendError, InputError
from ..models.registry import ModelSpec
from ..timing import NULL_TIMES, StageTimes
from .base import Predictor, check_page

RESIZE_SHORT = 256


def rotate_upright(image: np.ndarray, angle: int) -> np.ndarray:
    """Turn ``image`` by ``angle`` degrees counter-clockwise (0, 90, 180 or 270), as PaddleX does."""
    if angle % 90:
        raise InputError(f"angle must be a multiple of 90, got {angle}")
    turns = (angle // 90) % 4
    return image if turns == 0 else np.ascontiguousarray(np.rot90(image, turns))


class DocOrientationClassifier(Predictor):
    """``predict(image)`` returns (angle in degrees, score) for one BGR uint8 page.

    ``angle`` is 0, 90, 180 or 270: turn the page by that many degrees
    counter-clockwise (:func:`rotate_upright`) to make it upright.
    """

    stage = "doc_ori"

    def __init__(self, runner: Runner, spec: ModelSpec) -> None:
        super().__init__(runner, spec)
        rule = spec.inputs[0] if spec.inputs else None
        fixed = rule.fixed_shape if rule is not None else (None, 3, 224, 224)
        self.crop_size = (int(fixed[2] or 224), int(fixed[3] or 224))  # (height, width)
        self.resize_short = int(spec.postprocess.get("resize_short", RESIZE_SHORT))
        self.angles = tuple(int(label) for label in (spec.labels or ("0", "90", "180", "270")))

    def preprocess(self, image: np.ndarray) -> np.ndarray:
        """One BGR uint8 H×W×3 page → a 1×3×224×224 float32 tensor (RGB, as PaddleX reads it)."""
        check_page(image, "Document orientation")
        return kernels.classify_preprocess(
            image, self.resize_short, self.crop_size, self.spec.mean, self.spec.std, self.spec.scale, rgb=True,
        )

    def module_outputs(self, image: np.ndarray, module: Any, times: StageTimes = NULL_TIMES) -> dict[str, Any]:
        """PaddleX's doc_text_orientation module: ``0``, ``90``, ``180`` or ``270`` for one page."""
        angle, score = self.predict(image, times)
        return {"class_ids": [self.angles.index(angle)], "scores": [score], "label_names": [str(angle)]}

    def predict(self, image: np.ndarray, times: StageTimes = NULL_TIMES) -> tuple[int, float]:
        with times.stage("doc_ori.pre"):
            tensor = self.preprocess(image)
        probs = self.run(tensor, times)
        with times.stage("doc_ori.post"):
            row = np.asarray(probs, dtype=np.float32).reshape(-1)
            if row.size != len(self.angles):
                raise BackendError(
                    f"The document orientation model returned {row.size} values; expected {len(self.angles)} "
                    f"(labels {', '.join(map(str, self.angles))}). Is model_dir a document orientation model?"
                )
            index = int(row.argmax())
        return self.angles[index], float(row[index])
