"""Document orientation (0 / 90 / 180 / 270 degrees) of a whole page.

Pre-processing follows PaddleX's ``doc_text_orientation`` module (an image
classification predictor): the page is read as RGB (PaddleX's
``ReadImage(format="RGB")`` turns a BGR array into RGB), ``ResizeImage``
resizes the short side to 256 with bilinear interpolation, ``CropImage`` takes
the centre 224×224, ``NormalizeImage`` scales by 1/255 and applies the
ImageNet mean/std, ``ToCHWImage`` makes it NCHW. One page is one 224×224
tensor, so this runs in numpy/OpenCV rather than in a compiled kernel.

The label is the angle, counter-clockwise, by which the page must be turned
to be upright: PaddleX's DocPreprocessor calls
``scipy.ndimage.rotate(image, angle, reshape=True)``, which for multiples of
90 is exactly ``np.rot90(image, angle // 90)`` (:func:`rotate_upright`).
A page turned 90° counter-clockwise is therefore classified 270.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from ..backends.base import Runner
from ..errors import InputError
from ..models.registry import ModelSpec
from ..timing import NULL_TIMES, StageTimes

RESIZE_SHORT = 256
# Past this resized long side, the page is cut to its centre before resizing: only the
# centre crop is used, and a 256-px-high strip of a very long image would cost memory for nothing.
_MAX_RESIZED_LONG_SIDE = 2048


def rotate_upright(image: np.ndarray, angle: int) -> np.ndarray:
    """Turn ``image`` by ``angle`` degrees counter-clockwise (0, 90, 180 or 270), as PaddleX does."""
    if angle % 90:
        raise ValueError(f"angle must be a multiple of 90, got {angle}")
    turns = (angle // 90) % 4
    return image if turns == 0 else np.ascontiguousarray(np.rot90(image, turns))


class DocOrientationClassifier:
    """``predict(image)`` returns (angle in degrees, score) for one BGR uint8 page.

    ``angle`` is 0, 90, 180 or 270: turn the page by that many degrees
    counter-clockwise (:func:`rotate_upright`) to make it upright.
    """

    def __init__(self, runner: Runner, spec: ModelSpec) -> None:
        self.runner = runner
        self.spec = spec
        self.input_name = runner.input_names[0]
        rule = spec.inputs[0] if spec.inputs else None
        fixed = rule.fixed_shape if rule is not None else (None, 3, 224, 224)
        self.crop_size = (int(fixed[2] or 224), int(fixed[3] or 224))  # (height, width)
        self.resize_short = int(spec.postprocess.get("resize_short", RESIZE_SHORT))
        self.angles = tuple(int(label) for label in (spec.labels or ("0", "90", "180", "270")))
        self._mean = np.asarray(spec.mean, np.float32).reshape(1, 1, 3)
        self._std = np.asarray(spec.std, np.float32).reshape(1, 1, 3)
        self._scale = np.float32(spec.scale)

    def preprocess(self, image: np.ndarray) -> np.ndarray:
        """One BGR uint8 H×W×3 page → a 1×3×224×224 float32 tensor."""
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise InputError(
                f"Document orientation expects an H×W×3 uint8 BGR image, got shape {image.shape} {image.dtype}."
            )
        height, width = image.shape[:2]
        if min(height, width) < 1:
            raise InputError(f"Document orientation got an empty image ({height}×{width}).")
        crop_h, crop_w = self.crop_size
        scale = self.resize_short / min(height, width)
        image = self._centre_for_long_images(image, scale)
        height, width = image.shape[:2]
        new_w, new_h = int(round(width * scale)), int(round(height * scale))
        resized = cv2.resize(image, (max(new_w, crop_w), max(new_h, crop_h)), interpolation=cv2.INTER_LINEAR)
        top = (resized.shape[0] - crop_h) // 2
        left = (resized.shape[1] - crop_w) // 2
        crop = resized[top:top + crop_h, left:left + crop_w, ::-1]  # BGR → RGB, as PaddleX reads it
        tensor = (crop.astype(np.float32) * self._scale - self._mean) / self._std
        return np.ascontiguousarray(tensor.transpose(2, 0, 1)[None])

    def _centre_for_long_images(self, image: np.ndarray, scale: float) -> np.ndarray:
        """Cut a very long image to the centre part the crop can see (plus a margin for interpolation)."""
        height, width = image.shape[:2]
        keep = int(math.ceil(_MAX_RESIZED_LONG_SIDE / scale))
        if width * scale > _MAX_RESIZED_LONG_SIDE and width > keep:
            left = (width - keep) // 2
            image = image[:, left:left + keep]
        if height * scale > _MAX_RESIZED_LONG_SIDE and height > keep:
            top = (height - keep) // 2
            image = image[top:top + keep]
        return image

    def predict(self, image: np.ndarray, times: StageTimes = NULL_TIMES) -> tuple[int, float]:
        with times.stage("doc_ori.pre"):
            tensor = self.preprocess(image)
        with times.stage("doc_ori.model"):
            probs = next(iter(self.runner.infer({self.input_name: tensor}).values()))
        with times.stage("doc_ori.post"):
            row = np.asarray(probs, dtype=np.float32).reshape(-1)
            if row.size != len(self.angles):
                raise ValueError(
                    f"The document orientation model returned {row.size} values; expected {len(self.angles)} "
                    f"(labels {', '.join(map(str, self.angles))})."
                )
            index = int(row.argmax())
        return self.angles[index], float(row[index])
