"""Whether two runs of a model agree: the rules each task row of :mod:`hpi.models.tasks` names.

Pure numpy. Three questions, each with per-task rules:

* **fp32 parity** (two fp32 backends, or an export vs Paddle Inference):
  raw values within the model's tolerance (≤ 1e-3 det, ≤ 1e-4 rec/cls: measured
  across ONNX Runtime, OpenVINO and Paddle Inference on real text images, det moved
  by up to 4.4e-4 and rec by 9e-6, with identical bitmaps and texts); detection also needs the thresholded bitmaps to agree on
  ≥ 99.99% of pixels.
* **low precision** (bf16/fp16 candidates during selection): raw values move
  far beyond fp32 noise, so the task's result is compared instead — the det
  bitmap or the per-row argmax on ≥ 98%, rec's decoded lines on ≥ 80%.
* **FP16 guard** (a TensorRT FP16 engine): does what the pipeline derives
  change? det: ≤ 0.1% of bitmap pixels flip and mean abs ≤ 0.01; rec: every
  CTC-decoded line identical, scores move ≤ 0.02; cls: label and threshold
  decision identical, probabilities move ≤ 0.02; other tasks: max abs ≤ 1% of
  the reference's range.

Each rule gets arrays already checked for equal shapes and finite values
(the callers do that once).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .registry import ModelSpec

FP32_BITMAP_AGREEMENT = 0.9999
# fp16/bf16 move outputs far beyond fp32 noise (OpenVINO bf16 rec: up to 1.0 on one step); they
# are held to the task's result instead: the same argmax per step / the same det bitmap, almost always.
LOW_PRECISION_AGREEMENT = 0.98
# Recognition at bf16/fp16 is judged on decoded lines of the probe batch (6 lines): at most one may
# change. Measured: OpenVINO bf16 kept 98.3% of 1139 real line texts identical with equal accuracy
# against ground truth (AVX-512 bf16 machine, November 2026); on the 6 probe lines it adds a trailing
# ideographic space to one.
LOW_PRECISION_LINE_AGREEMENT = 0.8
DET_MAX_FLIPPED = 1e-3
DET_MAX_MEAN_ABS = 1e-2
REC_MAX_SCORE_SHIFT = 2e-2
CLS_MAX_PROB_SHIFT = 2e-2
GENERIC_MAX_REL = 1e-2


@dataclass(frozen=True)
class Comparison:
    """The fp32 parity verdict of two outputs."""

    max_abs: float
    bitmap_agreement: float | None  # detection only: share of pixels equal after thresholding
    ok: bool
    reason: str

    def as_dict(self) -> dict:
        return {"max_abs": self.max_abs, "bitmap_agreement": self.bitmap_agreement, "ok": self.ok}


@dataclass(frozen=True)
class GuardResult:
    """The FP16 guard's verdict: ``ok`` when FP16 keeps the results."""

    ok: bool
    reason: str
    details: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"ok": self.ok, "reason": self.reason, **self.details}


# --------------------------------------------------------------------------- the shared measures


def bitmap_agreement(reference: np.ndarray, candidate: np.ndarray, thresh: float) -> tuple[float, float]:
    """(agreement, flipped): shares of pixels on the same / the other side of ``thresh``; (1.0, 0.0) when empty.

    Both come from one count, so ``agreement`` is exactly ``mean(a == b)``
    and ``flipped`` exactly ``mean(a != b)``.
    """
    if not reference.size:
        return 1.0, 0.0
    flipped = int(np.count_nonzero((reference > thresh) != (candidate > thresh)))
    return (reference.size - flipped) / reference.size, flipped / reference.size


def ctc_greedy_decode(probs: np.ndarray, blank: int = 0) -> tuple[list[tuple[int, ...]], list[float]]:
    """Per item of an (N, T, C) output: label indices after CTC greedy decoding, and the mean max prob."""
    indices = probs.argmax(axis=-1)
    maxima = probs.max(axis=-1)
    sequences, scores = [], []
    for row, row_max in zip(indices, maxima):
        keep = np.ones(row.shape, bool)
        keep[1:] = row[1:] != row[:-1]
        keep &= row != blank
        sequences.append(tuple(int(i) for i in row[keep]))
        scores.append(float(row_max[keep].mean()) if keep.any() else 0.0)
    return sequences, scores


def _det_thresh(spec: ModelSpec | None) -> float:
    return float(spec.postprocess.get("thresh", 0.3)) if spec is not None else 0.3


# --------------------------------------------------------------------------- fp32 parity rules


def parity_max_abs(spec: ModelSpec | None, reference: np.ndarray, candidate: np.ndarray, diff: float, tolerance: float) -> Comparison:
    """Raw outputs within the model's tolerance."""
    return Comparison(diff, None, diff <= tolerance, f"max abs {diff:.2e} (≤ {tolerance:g})")


def parity_bitmap(spec: ModelSpec | None, reference: np.ndarray, candidate: np.ndarray, diff: float, tolerance: float) -> Comparison:
    """Detection: thresholded bitmaps agree on ≥ 99.99% of pixels, and raw values within the tolerance."""
    agreement, _ = bitmap_agreement(reference, candidate, _det_thresh(spec))
    ok = agreement >= FP32_BITMAP_AGREEMENT and diff <= tolerance
    reason = f"max abs {diff:.2e} (≤ {tolerance:g}), bitmap agreement {agreement:.6f} (≥ {FP32_BITMAP_AGREEMENT})"
    return Comparison(diff, agreement, ok, reason)


# Detection rows in pixels: coordinates of a 1000-px image move by ~1e-4 between fp32 runtimes; 0.01 px is
# far below what a box drawn or cropped can show.
DET_ROW_COORD_TOLERANCE = 1e-2


def parity_detection_rows(spec: ModelSpec | None, reference: np.ndarray, candidate: np.ndarray, diff: float,
                          tolerance: float) -> Comparison:
    """Object detection's ``[N, 6]`` rows (class, score, x1, y1, x2, y2; ``[N, 10]``: four corners), in any
    order among equal scores
    (NMS implementations order ties differently): the same rows once sorted, classes equal, scores within
    the tolerance, coordinates within 0.01 px. The box count: exactly equal; masks: ≥ 99.9% of pixels; raw
    head outputs (a detector without NMS in its graph): within the tolerance."""
    if reference.ndim == 3:  # instance masks: a pixel on a mask's edge may flip with float noise
        agreement = float(np.mean(reference == candidate)) if reference.size else 1.0
        return Comparison(diff, agreement, agreement >= LABEL_MAP_AGREEMENT,
                          f"mask agreement {agreement:.6f} (≥ {LABEL_MAP_AGREEMENT})")
    if reference.ndim == 1:  # the box count
        return Comparison(diff, None, diff == 0.0, f"max abs {diff:.2e} (exact)")
    if reference.ndim != 2 or reference.shape[1] not in (6, 10):  # raw head outputs (PicoDet without NMS)
        return parity_max_abs(spec, reference, candidate, diff, tolerance)

    def ordered(rows: np.ndarray) -> np.ndarray:
        rows = rows.astype(np.float64)
        keys = [rows[:, i] for i in range(rows.shape[1] - 1, 1, -1)]
        return rows[np.lexsort((*keys, -np.round(rows[:, 1], 4), rows[:, 0]))]

    ref, got = ordered(reference), ordered(candidate)
    classes_equal = bool(np.array_equal(ref[:, 0], got[:, 0]))
    score_diff = float(np.max(np.abs(ref[:, 1] - got[:, 1]))) if len(ref) else 0.0
    coord_diff = float(np.max(np.abs(ref[:, 2:] - got[:, 2:]))) if len(ref) else 0.0
    ok = classes_equal and score_diff <= tolerance and coord_diff <= DET_ROW_COORD_TOLERANCE
    reason = (f"{len(ref)} boxes, classes {'equal' if classes_equal else 'differ'}, score max abs {score_diff:.2e} "
              f"(≤ {tolerance:g}), coordinates max abs {coord_diff:.2e} px (≤ {DET_ROW_COORD_TOLERANCE:g})")
    return Comparison(max(score_diff, coord_diff), None, ok, reason)


LABEL_MAP_AGREEMENT = 0.999


def parity_label_map(spec: ModelSpec | None, reference: np.ndarray, candidate: np.ndarray, diff: float,
                     tolerance: float) -> Comparison:
    """Semantic segmentation: a label map (whole numbers, argmax inside the model) agrees on ≥ 99.9% of
    pixels (a pixel whose two best classes tie within float noise may flip); logits within the tolerance."""
    if np.issubdtype(reference.dtype, np.integer) or (reference.size and np.all(reference == np.round(reference))
                                                       and reference.ndim == 3):
        agreement = float(np.mean(reference == candidate)) if reference.size else 1.0
        ok = agreement >= LABEL_MAP_AGREEMENT
        return Comparison(diff, agreement, ok, f"label map agreement {agreement:.6f} (≥ {LABEL_MAP_AGREEMENT})")
    return Comparison(diff, None, diff <= tolerance, f"max abs {diff:.2e} (≤ {tolerance:g})")


# fp32 recognition: float noise between runtimes (measured: OpenVINO's f32 rec output 2.6e-4 from ONNX Runtime's
# on an AVX-512 machine, every one of 1139 decoded lines identical) is judged by what the task derives: every
# CTC-decoded line identical, each line's score within 1e-3; raw values within 1e-2 (beyond that the
# outputs are not the same model's, whatever the lines say).
REC_FP32_SCORE_SHIFT = 1e-3
REC_FP32_MAX_ABS = 1e-2


def parity_decoded_lines(spec: ModelSpec | None, reference: np.ndarray, candidate: np.ndarray, diff: float,
                         tolerance: float) -> Comparison:
    """Recognition at fp32: raw values within the tolerance, or else every decoded line identical with scores
    within 1e-3 (and raw values within 1e-2)."""
    if diff <= tolerance or reference.ndim != 3:
        return parity_max_abs(spec, reference, candidate, diff, tolerance)
    ref_lines, ref_scores = ctc_greedy_decode(reference)
    got_lines, got_scores = ctc_greedy_decode(candidate)
    same = sum(a == b for a, b in zip(ref_lines, got_lines))
    shift = max((abs(a - b) for a, b in zip(ref_scores, got_scores)), default=0.0)
    ok = same == len(ref_lines) and shift <= REC_FP32_SCORE_SHIFT and diff <= REC_FP32_MAX_ABS
    reason = (f"max abs {diff:.2e} (> {tolerance:g}, ≤ {REC_FP32_MAX_ABS:g} allowed when the lines agree), "
              f"{same}/{len(ref_lines)} decoded lines identical, line score shift {shift:.2e} "
              f"(≤ {REC_FP32_SCORE_SHIFT:g})")
    return Comparison(diff, None, ok, reason)


# --------------------------------------------------------------------------- low-precision rules


def _below(agreement: float, limit: float, what: str) -> str:
    return f"{what} {agreement:.4f} < {limit} at reduced precision" if agreement < limit else ""


def low_precision_argmax(spec: ModelSpec | None, reference: np.ndarray, candidate: np.ndarray) -> str:
    """The same argmax per row on ≥ 98% of rows (nothing to judge for 1-D outputs)."""
    if reference.ndim < 2:
        return ""
    agreement = float(np.mean(reference.argmax(-1) == candidate.argmax(-1)))
    return _below(agreement, LOW_PRECISION_AGREEMENT, "argmax agreement")


def low_precision_bitmap(spec: ModelSpec | None, reference: np.ndarray, candidate: np.ndarray) -> str:
    """Detection: the same DB bitmap on ≥ 98% of pixels."""
    agreement, _ = bitmap_agreement(reference, candidate, _det_thresh(spec))
    return _below(agreement, LOW_PRECISION_AGREEMENT, "det bitmap agreement")


def low_precision_lines(spec: ModelSpec | None, reference: np.ndarray, candidate: np.ndarray) -> str:
    """Recognition (N×T×C): ≥ 80% of the CTC-decoded lines identical; other ranks by argmax.

    What matters is the decoded text, not every time step: near-ties between
    the blank and a repeated character flip step argmaxes without changing a
    line (measured: 96.7% of steps, 100% of lines equal for OpenVINO bf16 on
    the probe lines).
    """
    if reference.ndim != 3:
        return low_precision_argmax(spec, reference, candidate)
    ref_lines, _ = ctc_greedy_decode(reference)
    got_lines, _ = ctc_greedy_decode(candidate)
    lines = [a == b for a, b in zip(ref_lines, got_lines)]
    agreement = float(np.mean(lines)) if lines else 1.0
    return _below(agreement, LOW_PRECISION_LINE_AGREEMENT, "decoded-line agreement")


# --------------------------------------------------------------------------- FP16 guard rules


def guard_generic(reference: np.ndarray, candidate: np.ndarray, postprocess: dict | None = None) -> GuardResult:
    """Max abs difference ≤ 1% of the reference's range."""
    scale = float(np.max(np.abs(reference))) if reference.size else 0.0
    diff = float(np.max(np.abs(reference.astype(np.float64) - candidate))) if reference.size else 0.0
    limit = GENERIC_MAX_REL * max(scale, 1e-6)
    return GuardResult(diff <= limit, f"max abs {diff:.2e} (limit {limit:.2e}: 1% of the output range)",
                       {"max_abs": diff})


def guard_detection(reference: np.ndarray, candidate: np.ndarray, postprocess: dict | None = None) -> GuardResult:
    """The DB bitmap (> ``postprocess["thresh"]``, 0.3) flips on ≤ 0.1% of pixels, mean abs ≤ 0.01."""
    thresh = float((postprocess or {}).get("thresh", 0.3))
    _, flipped = bitmap_agreement(reference, candidate, thresh)
    mean_abs = float(np.mean(np.abs(reference.astype(np.float64) - candidate))) if reference.size else 0.0
    ok = flipped <= DET_MAX_FLIPPED and mean_abs <= DET_MAX_MEAN_ABS
    reason = (
        f"det bitmap (> {thresh}) flipped on {flipped:.4%} of pixels (limit {DET_MAX_FLIPPED:.1%}), "
        f"mean abs {mean_abs:.2e} (limit {DET_MAX_MEAN_ABS:g})"
    )
    return GuardResult(ok, reason, {"flipped_pixels": flipped, "mean_abs": mean_abs})


def guard_recognition(reference: np.ndarray, candidate: np.ndarray, postprocess: dict | None = None) -> GuardResult:
    """N×T×C: every CTC-decoded line identical, each line's score within 0.02; other ranks: generic."""
    if reference.ndim != 3:
        return guard_generic(reference, candidate)
    ref_text, ref_score = ctc_greedy_decode(reference)
    cand_text, cand_score = ctc_greedy_decode(candidate)
    changed = [i for i, (a, b) in enumerate(zip(ref_text, cand_text)) if a != b]
    shift = max((abs(a - b) for a, b in zip(ref_score, cand_score)), default=0.0)
    ok = not changed and shift <= REC_MAX_SCORE_SHIFT
    reason = (
        f"rec: {len(changed)} of {len(ref_text)} decoded lines changed, max score shift {shift:.2e} "
        f"(limit {REC_MAX_SCORE_SHIFT:g})"
    )
    return GuardResult(ok, reason, {"changed_lines": changed, "max_score_shift": shift})


def guard_classification(reference: np.ndarray, candidate: np.ndarray, postprocess: dict | None = None) -> GuardResult:
    """Label and ``score >= postprocess["cls_thresh"]`` (0.9) identical per item, probabilities within 0.02."""
    if reference.ndim < 2:
        return guard_generic(reference, candidate)
    thresh = float((postprocess or {}).get("cls_thresh", 0.9))
    ref = reference.reshape(reference.shape[0], -1)
    cand = candidate.reshape(candidate.shape[0], -1)
    ref_label, cand_label = ref.argmax(-1), cand.argmax(-1)
    ref_pass = ref.max(-1) >= thresh
    cand_pass = cand[np.arange(len(cand)), cand_label] >= thresh
    changed = [int(i) for i in np.nonzero((ref_label != cand_label) | (ref_pass != cand_pass))[0]]
    shift = float(np.max(np.abs(ref.astype(np.float64) - cand))) if ref.size else 0.0
    ok = not changed and shift <= CLS_MAX_PROB_SHIFT
    reason = (
        f"cls: {len(changed)} of {len(ref)} decisions (label, score >= {thresh}) changed, "
        f"max prob shift {shift:.2e} (limit {CLS_MAX_PROB_SHIFT:g})"
    )
    return GuardResult(ok, reason, {"changed_items": changed, "max_prob_shift": shift})
