"""PaddleX's image pre-processing as a model directory's ``inference.yml`` declares it, run in numpy/OpenCV.

Two forms, as PaddleX 3.7.2's predictors read them:

- **classification** (``PreProcess.transform_ops``, PaddleX's
  ``image_classification/predictor.py``): ``ResizeImage`` (``resize_short`` or
  ``size: [w, h]``, ``interpolation``), ``CropImage`` (centre, ``size``),
  ``NormalizeImage`` (``mean``, ``std``, ``scale``), ``ToCHWImage``. PaddleX
  applies them in that fixed order whatever the YAML's order, and needs all but
  the crop.
- **detection** (top-level ``Preprocess: [{type: ...}]``,
  ``object_detection/predictor.py`` + ``processors.py``): ``Resize``
  (``target_size: [h, w]``, ``keep_ratio``, ``interp`` 0–4), ``NormalizeImage``
  (``norm_type``, ``mean``, ``std``, ``is_scale``), ``Permute``, ``Pad``
  (``size``, ``fill_value``), ``PadStride`` (``stride``), ``WarpAffine``
  (``input_h``, ``input_w``, ``keep_res``), in the YAML's order; the model also
  gets the resized size and the scale factors, ``[h, w]`` each.

Both start from the image read as RGB (a BGR array is converted, as PaddleX's
``ReadImage(format="RGB")`` does). Each op's arithmetic follows PaddleX's to the
bit (Python's ``round`` in resizes, ``x * (scale/std) + (-mean/std)`` in float32,
PaddleX's canvases), and ``tests/models/test_preprocess.py`` compares every op
with PaddleX's own output, recorded by ``benchmarks/record_paddlex_preprocess.py``.
An op hpi does not know, or a setting PaddleX would refuse, is a
:class:`~hpi.errors.ModelError` naming the op and the model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..errors import ModelError

# PaddleX's cv2 interpolation names (common/vision/processors.py, _BaseResize) and detection's ints.
_INTERP_NAMES = ("NEAREST", "LINEAR", "BICUBIC", "AREA", "LANCZOS4")


def _cv2():
    import cv2

    return cv2


def _interp(name: Any, where: str) -> int:
    cv2 = _cv2()
    codes = {"NEAREST": cv2.INTER_NEAREST, "LINEAR": cv2.INTER_LINEAR, "BICUBIC": cv2.INTER_CUBIC,
             "AREA": cv2.INTER_AREA, "LANCZOS4": cv2.INTER_LANCZOS4}
    if isinstance(name, int) and not isinstance(name, bool):
        if not 0 <= name < len(_INTERP_NAMES):
            raise ModelError(f"{where}: interp {name} is not one of PaddleX's 0–4 ({', '.join(_INTERP_NAMES)}).")
        name = _INTERP_NAMES[name]
    key = str(name).upper()
    if key not in codes:
        raise ModelError(f"{where}: interpolation {name!r} is not one of PaddleX's {', '.join(_INTERP_NAMES)} "
                         "(PaddleX refuses it too).")
    return codes[key]


def _number(value: Any, where: str) -> float:
    from .inference_yml import _number as parse

    return parse(value, where)


def _triple(value: Any, where: str) -> list[float]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [float(value)] * 3
    if not isinstance(value, (list, tuple)) or len(value) != 3:
        raise ModelError(f"{where} must be a number or 3 numbers, got {value!r}.")
    return [_number(v, where) for v in value]


def _pair(value: Any, where: str) -> tuple[int, int]:
    if isinstance(value, int) and not isinstance(value, bool):
        return value, value
    if (not isinstance(value, (list, tuple)) or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)):
        raise ModelError(f"{where} must be a positive whole number or two of them, got {value!r}.")
    return int(value[0]), int(value[1])


def _resize(image: np.ndarray, width: int, height: int, interp: int) -> np.ndarray:
    """PaddleX's funcs.resize: the image itself when the size is already right."""
    if image.shape[1] == width and image.shape[0] == height:
        return image
    return _cv2().resize(image, (width, height), interpolation=interp)


@dataclass(frozen=True)
class Normalize:
    """``x * (scale / std) + (-mean / std)`` per channel, in float32 (PaddleX's Normalize)."""

    scale: float
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    def __call__(self, image: np.ndarray) -> np.ndarray:
        alpha = np.array([self.scale / s for s in self.std], np.float32)
        beta = np.array([-m / s for m, s in zip(self.mean, self.std)], np.float32)
        return image.astype(np.float32) * alpha + beta

    def chw(self, image: np.ndarray) -> np.ndarray:
        """Normalise then HWC→CHW, the same values: one compiled table lookup per pixel for a uint8 image
        (:func:`hpi.kernels.paddlex_normalize`), numpy otherwise (a padded float canvas)."""
        if image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3:
            from .. import kernels

            return kernels.paddlex_normalize(image, self.scale, self.mean, self.std)
        return np.ascontiguousarray(self(image).transpose(2, 0, 1))


def _to_rgb(image: np.ndarray) -> np.ndarray:
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ModelError(f"pre-processing expects an H×W×3 uint8 BGR image, got {image.shape} {image.dtype}.")
    return _cv2().cvtColor(image, _cv2().COLOR_BGR2RGB)


# ------------------------------------------------------------------------------------------- classification

@dataclass(frozen=True)
class ClassificationPreprocess:
    """PaddleX's image-classification pre-processing: BGR uint8 H×W×3 → float32 3×H'×W'."""

    resize_short: int | None
    size: tuple[int, int] | None  # (width, height)
    interp: int
    crop: tuple[int, int] | None  # (width, height)
    normalize: Normalize

    def __call__(self, image: np.ndarray) -> np.ndarray:
        image = _to_rgb(image)
        height, width = image.shape[:2]
        if self.resize_short is not None:
            scale = self.resize_short / min(height, width)
            image = _resize(image, round(width * scale), round(height * scale), self.interp)
        else:
            image = _resize(image, self.size[0], self.size[1], self.interp)
        if self.crop is not None:
            height, width = image.shape[:2]
            crop_w, crop_h = self.crop
            if width < crop_w or height < crop_h:
                raise ModelError(f"An image resized to {width}×{height} is smaller than the crop {crop_w}×{crop_h} "
                                 "of the model's CropImage.")
            x1, y1 = max(0, (width - crop_w) // 2), max(0, (height - crop_h) // 2)
            image = image[y1:min(height, y1 + crop_h), x1:min(width, x1 + crop_w)]
        return self.normalize.chw(image)


_CLASSIFICATION_OPS = ("ResizeImage", "CropImage", "NormalizeImage", "ToCHWImage")


def classification_preprocess(transform_ops: Any, model: str) -> ClassificationPreprocess:
    """The pre-processing of a classification model's ``PreProcess.transform_ops``."""
    ops = _op_mapping(transform_ops, model, _CLASSIFICATION_OPS, "PreProcess.transform_ops")
    where = f"{model}: inference.yml PreProcess.transform_ops"
    for required in ("ResizeImage", "NormalizeImage", "ToCHWImage"):
        if required not in ops:
            raise ModelError(f"{where} has no {required}; PaddleX's image classification needs ResizeImage, "
                             "NormalizeImage and ToCHWImage.")
    resize = ops["ResizeImage"]
    if resize.get("backend", "cv2") != "cv2":
        raise ModelError(f"{where}: ResizeImage backend {resize['backend']!r}; hpi resizes as PaddleX's default "
                         "'cv2' backend does.")
    short, size = resize.get("resize_short"), resize.get("size")
    if not short and not size:
        raise ModelError(f"{where}: ResizeImage needs resize_short or size (PaddleX asserts one of them).")
    interp = _interp(resize.get("interpolation", "LINEAR"), f"{where}: ResizeImage")
    crop = _pair(ops["CropImage"].get("size", 224), f"{where}: CropImage.size") if "CropImage" in ops else None
    norm = ops["NormalizeImage"]
    if norm.get("order", "") != "" or int(norm.get("channel_num", 3)) != 3:
        raise ModelError(f"{where}: NormalizeImage with order {norm.get('order')!r} / channel_num "
                         f"{norm.get('channel_num')!r}; PaddleX's image classification takes HWC, 3 channels only.")
    normalize = Normalize(
        _number(norm.get("scale", 1 / 255), f"{where}: NormalizeImage.scale"),
        tuple(_triple(norm.get("mean", [0.485, 0.456, 0.406]), f"{where}: NormalizeImage.mean")),
        tuple(_triple(norm.get("std", [0.229, 0.224, 0.225]), f"{where}: NormalizeImage.std")),
    )
    return ClassificationPreprocess(int(short) if short else None,
                                    None if short else _pair(size, f"{where}: ResizeImage.size"), interp, crop,
                                    normalize)


def _op_mapping(transform_ops: Any, model: str, known: tuple[str, ...], section: str) -> dict[str, dict]:
    where = f"{model}: inference.yml {section}"
    if not isinstance(transform_ops, list):
        raise ModelError(f"{where} must be a list of ops, got {type(transform_ops).__name__}.")
    ops: dict[str, dict] = {}
    for entry in transform_ops:
        if not isinstance(entry, dict) or len(entry) != 1:
            raise ModelError(f"{where}: each op is a one-key mapping (op name: settings), got {entry!r:.80}.")
        (name, args), = entry.items()
        if name not in known:
            raise ModelError(f"{where}: pre-processing op {name!r} is not one hpi knows ({', '.join(known)}); "
                             f"PaddleX's predictor for this model does not know it either.")
        if args is not None and not isinstance(args, dict):
            raise ModelError(f"{where}: {name}'s settings must be a mapping, got {args!r:.80}.")
        ops[name] = dict(args or {})
    return ops


# ------------------------------------------------------------------------------------------------ detection

@dataclass
class DetectionInput:
    """One image through detection pre-processing: the tensor and what PaddleX gives the model with it."""

    image: np.ndarray  # float32, CHW after Permute
    img_size: tuple[int, int]  # (h, w) after the resize (PaddleX's im_shape)
    scale_factor: tuple[float, float]  # (h, w) resized over original
    ori_size: tuple[int, int]  # (h, w) of the input


@dataclass
class DetectionPreprocess:
    """PaddleX's detection pre-processing: a list of ops applied in order to a :class:`DetectionInput`."""

    ops: list[Callable[[DetectionInput], None]] = field(default_factory=list)
    names: list[str] = field(default_factory=list)

    def __call__(self, image: np.ndarray) -> DetectionInput:
        rgb = _to_rgb(image)
        h, w = rgb.shape[:2]
        data = DetectionInput(rgb, (h, w), (1.0, 1.0), (h, w))
        for op in self.ops:
            op(data)
        return data


def _det_resize(target_size: Any, keep_ratio: bool, interp: int, where: str) -> Callable[[DetectionInput], None]:
    target_h, target_w = _pair(target_size, f"{where}.target_size")

    def resize(data: DetectionInput) -> None:
        h, w = data.image.shape[:2]
        size_w, size_h = target_w, target_h
        if keep_ratio:  # PaddleX's _rescale_size over (w, h) and its [w, h] target
            scale = min(max(target_w, target_h) / max(w, h), min(target_w, target_h) / min(w, h))
            size_w, size_h = round(w * scale), round(h * scale)
        data.image = _resize(data.image, size_w, size_h, interp)
        new_h, new_w = data.image.shape[:2]
        data.img_size = (new_h, new_w)
        data.scale_factor = (new_h / data.ori_size[0], new_w / data.ori_size[1])

    return resize


def _det_pad(size: Any, fill_value: Any, where: str) -> Callable[[DetectionInput], None]:
    pad_h, pad_w = _pair(size, f"{where}.size")
    fill = np.array(_triple(fill_value, f"{where}.fill_value"), np.float32)

    def pad(data: DetectionInput) -> None:
        h, w = data.image.shape[:2]
        if (h, w) == (pad_h, pad_w):
            return
        if h > pad_h or w > pad_w:
            raise ModelError(f"{where}: an image of {h}×{w} does not fit the Pad size {pad_h}×{pad_w}.")
        canvas = np.ones((pad_h, pad_w, 3), np.float32) * fill
        canvas[:h, :w, :] = data.image.astype(np.float32)
        data.image = canvas

    return pad


def _det_pad_stride(stride: int) -> Callable[[DetectionInput], None]:
    def pad_stride(data: DetectionInput) -> None:
        if stride <= 0:
            return
        c, h, w = data.image.shape
        padded = np.zeros((c, int(math.ceil(h / stride) * stride), int(math.ceil(w / stride) * stride)), np.float32)
        padded[:, :h, :w] = data.image
        data.image = padded

    return pad_stride


def _det_warp_affine(input_h: int, input_w: int, keep_res: bool, pad: int = 31) -> Callable[[DetectionInput], None]:
    """PaddleX's WarpAffine (CenterNet): the image (turned back to BGR, as PaddleX does) warped about its
    centre into the input size."""

    def warp(data: DetectionInput) -> None:
        cv2 = _cv2()
        image = cv2.cvtColor(data.image, cv2.COLOR_RGB2BGR)
        h, w = image.shape[:2]
        if keep_res:
            out_h, out_w = (h | pad) + 1, (w | pad) + 1
            source_size = np.array([out_w, out_h], np.float32)
            centre = np.array([w // 2, h // 2], np.float32)
        else:
            out_h, out_w = input_h, input_w
            source_size = np.array([max(h, w) * 1.0] * 2, np.float32)
            centre = np.array([w / 2.0, h / 2.0], np.float32)
        matrix = _affine_transform(centre, source_size, (out_w, out_h))
        data.image = cv2.warpAffine(image, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR)

    return warp


def _affine_transform(centre: np.ndarray, source_size: np.ndarray, output: tuple[int, int]) -> np.ndarray:
    """PaddleX's get_affine_transform with no rotation or shift: three point pairs → a 2×3 matrix."""
    dst_w, dst_h = output
    src = np.zeros((3, 2), np.float32)
    dst = np.zeros((3, 2), np.float32)
    src[0] = centre
    src[1] = centre + np.array([0.0, source_size[0] * -0.5])
    dst[0] = [dst_w * 0.5, dst_h * 0.5]
    dst[1] = np.array([dst_w * 0.5, dst_h * 0.5]) + np.array([0.0, dst_w * -0.5])
    for points in (src, dst):  # the third point: a - b turned 90° anticlockwise about b
        direction = points[0] - points[1]
        points[2] = points[1] + np.array([-direction[1], direction[0]], np.float32)
    return _cv2().getAffineTransform(np.float32(src), np.float32(dst))


_DETECTION_OPS = ("Resize", "NormalizeImage", "Permute", "Pad", "PadStride", "WarpAffine")


def detection_preprocess(preprocess: Any, model: str) -> DetectionPreprocess:
    """The pre-processing of a detection model's top-level ``Preprocess`` list."""
    section = f"{model}: inference.yml Preprocess"
    if not isinstance(preprocess, list):
        raise ModelError(f"{section} must be a list of ops ({{type: ...}}), got {type(preprocess).__name__}.")
    result = DetectionPreprocess()
    for index, op in enumerate(preprocess):
        kind = op.get("type") if isinstance(op, dict) else None
        where = f"{section}[{index}] ({kind})"
        if kind not in _DETECTION_OPS:
            raise ModelError(f"{section}[{index}]: pre-processing op {kind!r} is not one hpi knows "
                             f"({', '.join(_DETECTION_OPS)}); PaddleX's detection predictor does not know it either.")
        if kind == "Resize":
            if not op.get("target_size"):
                raise ModelError(f"{where} needs target_size [h, w].")
            interp = _interp(op.get("interp", 2), where)
            result.ops.append(_det_resize(op["target_size"], bool(op.get("keep_ratio", False)), interp, where))
        elif kind == "NormalizeImage":
            norm_type = op.get("norm_type") or "mean_std"
            mean, std = op.get("mean", [0.485, 0.456, 0.406]), op.get("std", [0.229, 0.224, 0.225])
            if norm_type not in ("none", "mean_std"):
                mean, std = 0.0, 1.0  # PaddleX: any other norm type scales only
            normalize = Normalize(1.0 / 255.0 if op.get("is_scale", True) else 1.0,
                                  tuple(_triple(mean, f"{where}.mean")), tuple(_triple(std, f"{where}.std")))
            result.ops.append(lambda data, n=normalize: setattr(data, "image", n(data.image)))
        elif kind == "Permute":
            if result.names and result.names[-1] == "NormalizeImage":  # fused: normalise straight into CHW
                result.ops[-1] = lambda data, n=normalize: setattr(data, "image", n.chw(data.image))
            else:
                result.ops.append(lambda data: setattr(data, "image", data.image.transpose(2, 0, 1)))
        elif kind == "Pad":
            result.ops.append(_det_pad(op.get("size") or [640, 640], op.get("fill_value") or [127.5] * 3, where))
        elif kind == "PadStride":
            result.ops.append(_det_pad_stride(int(op.get("stride", 32))))
        else:
            result.ops.append(_det_warp_affine(int(op.get("input_h", 512)), int(op.get("input_w", 512)),
                                               bool(op.get("keep_res", True))))
        result.names.append(kind)
    return result


# ------------------------------------------------------------------------------------------- segmentation

_SEGMENTATION_OPS = ("Resize", "Normalize")


def check_target_size(value: Any, where: str) -> tuple[int, int] | None:
    """PaddleX's segmentation ``target_size``: -1 (no resize), a side, or ``[w, h]``; None stays None (as does
    the text ``None``, which PaddleX's own semantic_segmentation.yaml writes)."""
    if value is None or value == "None":
        return None
    pair = value
    if isinstance(value, int) and not isinstance(value, bool):
        if value == -1:
            return (-1, -1)
        pair = (value, value)
    if (isinstance(pair, (list, tuple)) and len(pair) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in pair)
            and (all(v > 0 for v in pair) or tuple(pair) == (-1, -1))):
        return int(pair[0]), int(pair[1])
    from ..errors import ConfigError

    raise ConfigError(f"{where} is {value!r}; it must be -1 (the image's own size), a positive whole number or a "
                      "[width, height] pair of them.")


@dataclass(frozen=True)
class SegmentationPreprocess:
    """PaddleX's semantic-segmentation pre-processing (``semantic_segmentation/predictor.py``): RGB, then
    ``Resize`` (``target_size`` (w, h), (-1, -1): none; ``keep_ratio``; ``size_divisor``: sides rounded up to
    a multiple), ``Normalize`` (1/255, mean, std), CHW; always in that order, whatever the YAML's order."""

    target_size: tuple[int, int]
    keep_ratio: bool
    size_divisor: int | None
    interp: int
    normalize: Normalize

    def input_size(self, width: int, height: int, target_size: tuple[int, int] | None = None) -> tuple[int, int]:
        """The (w, h) the model gets for a ``width``×``height`` image (PaddleX's Resize.resize)."""
        target = self.target_size if target_size is None else target_size
        if tuple(target) == (-1, -1):
            return width, height
        if self.keep_ratio:  # PaddleX's _rescale_size (Python's round)
            scale = min(max(target) / max(width, height), min(target) / min(width, height))
            target = (round(width * scale), round(height * scale))
        if self.size_divisor:
            target = tuple(math.ceil(side / self.size_divisor) * self.size_divisor for side in target)
        return int(target[0]), int(target[1])

    def __call__(self, image: np.ndarray, target_size: tuple[int, int] | None = None) -> np.ndarray:
        rgb = _to_rgb(image)
        width, height = self.input_size(rgb.shape[1], rgb.shape[0], target_size)
        return self.normalize.chw(np.ascontiguousarray(_resize(rgb, width, height, self.interp)))


# PaddleX's Resize defaults: the segmentation predictor's build_resize, and anomaly detection's.
SEGMENTATION_RESIZE = {"keep_ratio": True, "size_divisor": 32}
ANOMALY_RESIZE = {"keep_ratio": False, "size_divisor": None}


def segmentation_preprocess(transforms: Any, model: str, target_size: Any = None, *,
                            defaults: dict = SEGMENTATION_RESIZE, needs_resize: bool = False) -> SegmentationPreprocess:
    """The pre-processing of a segmentation model's ``Deploy.transforms`` (anomaly detection's too, with its
    ``defaults`` and a Resize it ``needs``); ``target_size`` (the predictor's, PaddleX's
    ``create_model(target_size=...)``) replaces the model's Resize by a default one, as PaddleX does."""
    section = f"{model}: inference.yml Deploy.transforms"
    if not isinstance(transforms, list):
        raise ModelError(f"{section} must be a list of ops ({{type: ...}}), got {type(transforms).__name__}.")
    if needs_resize and not any(isinstance(op, dict) and op.get("type") == "Resize" for op in transforms):
        raise ModelError(f"{section} has no Resize op; PaddleX's predictor for {model} needs one (target_size).")
    resize: dict = {"target_size": -1}  # PaddleX's default op when the model has none
    mean: Any = 0.5
    std: Any = 0.5
    for index, op in enumerate(transforms):
        kind = op.get("type") if isinstance(op, dict) else None
        if kind not in _SEGMENTATION_OPS:
            raise ModelError(f"{section}[{index}]: pre-processing op {kind!r} is not one hpi knows "
                             f"({', '.join(_SEGMENTATION_OPS)}); PaddleX's segmentation predictor does not know it "
                             "either.")
        if kind == "Resize":
            resize = {k: v for k, v in op.items() if k != "type"}
        else:
            mean, std = op.get("mean", 0.5), op.get("std", 0.5)
    if target_size is not None:
        resize = {"target_size": target_size}
    where = f"{section} Resize"
    target = check_target_size(resize.get("target_size", -1), f"{where}.target_size")
    divisor = resize.get("size_divisor", defaults["size_divisor"])
    if divisor is not None and (not isinstance(divisor, int) or isinstance(divisor, bool) or divisor < 1):
        raise ModelError(f"{where}.size_divisor must be a positive whole number or null, got {divisor!r}.")
    mean3 = [mean] * 3 if isinstance(mean, (int, float)) else mean
    std3 = [std] * 3 if isinstance(std, (int, float)) else std
    normalize = Normalize(1.0 / 255.0, tuple(_triple(mean3, f"{section} Normalize.mean")),
                          tuple(_triple(std3, f"{section} Normalize.std")))
    return SegmentationPreprocess(target, bool(resize.get("keep_ratio", defaults["keep_ratio"])), divisor,
                                  _interp(resize.get("interp", "LINEAR"), where), normalize)


__all__ = ["ClassificationPreprocess", "DetectionInput", "DetectionPreprocess", "Normalize", "SegmentationPreprocess",
           "check_target_size", "classification_preprocess", "detection_preprocess", "segmentation_preprocess"]
