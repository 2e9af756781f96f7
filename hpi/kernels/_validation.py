"""Input checks shared by the reference and compiled kernels, so both accept and reject the same inputs."""

from __future__ import annotations

import math
from typing import Sequence

import cv2
import numpy as np

from ..errors import InputError

DB_MIN_SIZE = 3  # PaddleOCR DBPostProcess.min_size

# --------------------------------------------------------------------------- validation


def _validate_image(image, what: str = "image") -> np.ndarray:
    """An H×W×3 uint8 C-contiguous BGR image; gray and BGRA are converted."""
    if not isinstance(image, np.ndarray):
        raise InputError(f"{what} must be a numpy array, got {type(image).__name__}.")
    if image.dtype != np.uint8:
        raise InputError(
            f"{what} must be uint8 (as cv2.imread returns), got dtype {image.dtype}; "
            "convert it with np.clip(x, 0, 255).astype(np.uint8)."
        )
    if image.ndim == 2:
        image = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_GRAY2BGR)
    elif image.ndim == 3 and image.shape[2] == 1:
        image = cv2.cvtColor(np.ascontiguousarray(image[:, :, 0]), cv2.COLOR_GRAY2BGR)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_BGRA2BGR)
    elif not (image.ndim == 3 and image.shape[2] == 3):
        raise InputError(f"{what} must be H×W×3 (BGR), H×W (gray) or H×W×4 (BGRA), got shape {image.shape}.")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise InputError(f"{what} is empty (shape {image.shape}); it needs at least 1×1 pixels.")
    return np.ascontiguousarray(image)


def _validate_norm(mean, std, scale) -> tuple[np.ndarray, np.ndarray, np.float32]:
    mean32 = np.asarray(mean, dtype=np.float32).reshape(-1)
    std32 = np.asarray(std, dtype=np.float32).reshape(-1)
    if mean32.size != 3 or std32.size != 3:
        raise InputError(f"mean and std need 3 values (one per channel), got {mean!r} and {std!r}.")
    if not np.all(np.isfinite(std32)) or np.any(std32 == 0) or not np.all(np.isfinite(mean32)):
        raise InputError(f"std must be finite and non-zero and mean finite, got mean={mean!r} std={std!r}.")
    return mean32, std32, np.float32(scale)


def _det_resize_shape(h: int, w: int, limit_side_len: int, limit_type: str, max_side_limit: int) -> tuple[int, int]:
    """PaddleX DetResizeForTest (resize_image_type0): the network input size (h, w)."""
    if limit_side_len <= 0 or max_side_limit <= 0:
        raise InputError(f"limit_side_len and max_side_limit must be positive, got {limit_side_len}, {max_side_limit}.")
    if limit_type == "max":
        ratio = float(limit_side_len) / max(h, w) if max(h, w) > limit_side_len else 1.0
    elif limit_type == "min":
        ratio = float(limit_side_len) / min(h, w) if min(h, w) < limit_side_len else 1.0
    else:
        raise InputError(f"limit_type must be 'max' or 'min', got {limit_type!r}.")
    resize_h, resize_w = int(h * ratio), int(w * ratio)
    if max(resize_h, resize_w) > max_side_limit:
        ratio = float(max_side_limit) / max(resize_h, resize_w)
        resize_h, resize_w = int(resize_h * ratio), int(resize_w * ratio)
    # Python's round() (half to even), as PaddleX does.
    resize_h = max(int(round(resize_h / 32) * 32), 32)
    resize_w = max(int(round(resize_w / 32) * 32), 32)
    return resize_h, resize_w


def _validate_out(out, shape: tuple[int, ...]) -> np.ndarray:
    if out is None:
        return np.empty(shape, dtype=np.float32)
    if not isinstance(out, np.ndarray) or out.dtype != np.float32 or not out.flags.c_contiguous or not out.flags.writeable:
        raise InputError("out must be a writeable C-contiguous float32 numpy array.")
    if out.shape != shape:
        if out.size >= math.prod(shape):
            # A larger preallocated buffer is fine: use its head.
            return out.reshape(-1)[: math.prod(shape)].reshape(shape)
        raise InputError(f"out has shape {out.shape} but the resized image needs {shape}.")
    return out


def _validate_prob_map(prob) -> np.ndarray:
    """A 2-D float32 C-contiguous map; 1×1×h×w and 1×h×w are squeezed."""
    if not isinstance(prob, np.ndarray):
        raise InputError(f"the probability map must be a numpy array, got {type(prob).__name__}.")
    while prob.ndim > 2 and prob.shape[0] == 1:
        prob = prob[0]
    if prob.ndim != 2:
        raise InputError(f"the probability map must be h×w (or 1×1×h×w), got shape {prob.shape}.")
    if prob.dtype.kind not in "fiu":
        raise InputError(f"the probability map must be real numbers, got dtype {prob.dtype}.")
    prob = np.ascontiguousarray(prob, dtype=np.float32)
    return prob


def _check_db_args(src_h, src_w, score_mode, box_type, max_candidates, unclip_ratio) -> None:
    if int(src_h) < 1 or int(src_w) < 1:
        raise InputError(f"src_h and src_w must be ≥ 1, got {src_h}×{src_w}.")
    if score_mode not in ("fast", "slow"):
        raise InputError(f"score_mode must be 'fast' or 'slow', got {score_mode!r}.")
    if box_type not in ("quad", "poly"):
        raise InputError(f"box_type must be 'quad' or 'poly', got {box_type!r}.")
    if int(max_candidates) < 0:
        raise InputError(f"max_candidates must be ≥ 0, got {max_candidates}.")
    if not math.isfinite(unclip_ratio) or unclip_ratio < 0:
        raise InputError(f"unclip_ratio must be finite and ≥ 0, got {unclip_ratio}.")


def _validate_ctc_probs(probs) -> np.ndarray:
    if not isinstance(probs, np.ndarray):
        raise InputError(f"CTC probabilities must be a numpy array, got {type(probs).__name__}.")
    if probs.ndim == 2:
        probs = probs[None]
    if probs.ndim != 3:
        raise InputError(f"CTC probabilities must be N×T×C, got shape {probs.shape}.")
    if probs.dtype.kind != "f":
        raise InputError(f"CTC probabilities must be floating point, got dtype {probs.dtype}.")
    return np.ascontiguousarray(probs, dtype=np.float32)


def _check_characters(characters: Sequence[str], num_classes: int, has_steps: bool) -> None:
    if has_steps and num_classes > len(characters):
        raise InputError(
            f"the model outputs {num_classes} classes but the character list has only {len(characters)} "
            "entries; build it with build_ctc_characters(dict_lines, use_space_char=True) from the model's dictionary."
        )
