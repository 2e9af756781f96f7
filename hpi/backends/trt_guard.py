"""The FP16 accuracy guard: does an FP16 engine change a model's results?

Pure numpy (no TensorRT), so CI tests the decision on synthetic outputs.
FP16 moves raw outputs by far more than FP32 backends differ from each other
(STACK.md: ≤ 1e-3 det, ≤ 1e-4 rec/cls), so the guard does not compare raw
values against those tolerances; it asks whether what the pipeline derives
from the outputs changes:

* detection: the thresholded probability map (the DB bitmap) — at most
  0.1% of pixels may flip, and the mean absolute difference stays ≤ 0.01;
* recognition: the greedy CTC decoding (argmax, merge repeats, drop blank 0)
  of every item is identical and each line's score moves by ≤ 0.02;
* classification: the argmax label and whether its probability passes the
  threshold are identical for every item, probabilities move by ≤ 0.02;
* other tasks: max abs difference ≤ 1% of the reference's range.

When the guard fails, the runner falls back to FP32 for that model and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

DET_MAX_FLIPPED = 1e-3
DET_MAX_MEAN_ABS = 1e-2
REC_MAX_SCORE_SHIFT = 2e-2
CLS_MAX_PROB_SHIFT = 2e-2
GENERIC_MAX_REL = 1e-2


@dataclass(frozen=True)
class GuardResult:
    ok: bool
    reason: str
    details: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"ok": self.ok, "reason": self.reason, **self.details}


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


def _bad_values(candidate: np.ndarray) -> GuardResult | None:
    if not np.all(np.isfinite(candidate)):
        return GuardResult(False, "the FP16 output has NaN/Inf (overflow in half precision)")
    return None


def guard_detection(reference: np.ndarray, candidate: np.ndarray, thresh: float = 0.3) -> GuardResult:
    flipped = float(np.mean((reference > thresh) != (candidate > thresh))) if reference.size else 0.0
    mean_abs = float(np.mean(np.abs(reference.astype(np.float64) - candidate))) if reference.size else 0.0
    ok = flipped <= DET_MAX_FLIPPED and mean_abs <= DET_MAX_MEAN_ABS
    reason = (
        f"det bitmap (> {thresh}) flipped on {flipped:.4%} of pixels (limit {DET_MAX_FLIPPED:.1%}), "
        f"mean abs {mean_abs:.2e} (limit {DET_MAX_MEAN_ABS:g})"
    )
    return GuardResult(ok, reason, {"flipped_pixels": flipped, "mean_abs": mean_abs})


def guard_recognition(reference: np.ndarray, candidate: np.ndarray) -> GuardResult:
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


def guard_classification(reference: np.ndarray, candidate: np.ndarray, thresh: float = 0.9) -> GuardResult:
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


def guard_generic(reference: np.ndarray, candidate: np.ndarray) -> GuardResult:
    scale = float(np.max(np.abs(reference))) if reference.size else 0.0
    diff = float(np.max(np.abs(reference.astype(np.float64) - candidate))) if reference.size else 0.0
    limit = GENERIC_MAX_REL * max(scale, 1e-6)
    return GuardResult(diff <= limit, f"max abs {diff:.2e} (limit {limit:.2e}: 1% of the output range)",
                       {"max_abs": diff})


def fp16_guard(task: str | None, reference: np.ndarray, candidate: np.ndarray, postprocess: dict | None = None) -> GuardResult:
    """Whether ``candidate`` (FP16) gives the same results as ``reference`` (FP32 / ONNX Runtime)."""
    postprocess = postprocess or {}
    reference = np.asarray(reference, np.float32)
    candidate = np.asarray(candidate, np.float32)
    if reference.shape != candidate.shape:
        return GuardResult(False, f"output shapes differ: {reference.shape} vs {candidate.shape}")
    bad = _bad_values(candidate)
    if bad is not None:
        return bad
    if task == "text_detection":
        return guard_detection(reference, candidate, float(postprocess.get("thresh", 0.3)))
    if task == "text_recognition" and reference.ndim == 3:
        return guard_recognition(reference, candidate)
    if task in ("textline_orientation", "doc_orientation") and reference.ndim >= 2:
        return guard_classification(reference, candidate, float(postprocess.get("cls_thresh", 0.9)))
    return guard_generic(reference, candidate)


def combine(results: Iterable[GuardResult]) -> GuardResult:
    """One verdict over several inputs: failed if any failed, with the first failure's reason."""
    results = list(results)
    if not results:
        return GuardResult(False, "no representative inputs were checked")
    failures = [r for r in results if not r.ok]
    if failures:
        return GuardResult(False, failures[0].reason, {"checked": len(results), "failed": len(failures)})
    return GuardResult(True, results[-1].reason, {"checked": len(results), "failed": 0})


def choose_precision(requested: str, guard: GuardResult | None) -> tuple[str, str | None]:
    """The precision to run and, when it differs from ``requested``, the sentence to log."""
    if requested != "fp16" or guard is None or guard.ok:
        return requested, None
    return "fp32", f"FP16 changes results ({guard.reason}); falling back to FP32 for this model"


def outputs_guard(task: str | None, references: Sequence[dict], candidates: Sequence[dict], postprocess: dict | None = None) -> GuardResult:
    """Guard over several runs: each a name→array dict; every output of every run is compared."""
    results = []
    for reference, candidate in zip(references, candidates):
        for name, ref in reference.items():
            if name not in candidate:
                results.append(GuardResult(False, f"output {name!r} is missing from the FP16 engine"))
                continue
            results.append(fp16_guard(task, ref, candidate[name], postprocess))
    return combine(results)


_WORDS = (
    "Invoice total 1,234.50 EUR paid on 2026-11-25 order #48213 shipped to 17 Main Street "
    "High performance inference engine for text detection and recognition The quick brown fox "
    "jumps over the lazy dog Customer reference 0042-7781 Page 3 of 12 Subtotal VAT 19% Due date"
).split()


def _line_text(width: int, height: int, seed: int) -> str:
    """Words (rotating through a fixed corpus) that fill about 85% of a ``width`` wide line."""
    import cv2

    scale = height / 40.0
    words: list[str] = []
    index = seed * 7
    while True:
        candidate = " ".join(words + [_WORDS[index % len(_WORDS)]])
        (tw, _), _ = cv2.getTextSize(candidate, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
        if words and tw > 0.85 * (width - 4):
            return " ".join(words)
        words.append(_WORDS[index % len(_WORDS)])
        index += 1
        if len(words) > 200:
            return " ".join(words)


def representative_feeds(spec, profiles) -> list[dict]:
    """Inputs the FP16 guard runs: legible, upright text like the pipeline feeds, at every profile's opt shape.

    Detection: a rendered page. Recognition: text lines whose words fill the
    line at the model's height (a squeezed or upside-down line decodes to
    low-confidence noise that flips under any precision change and says
    nothing about real results). Orientation: upright and upside-down lines.
    Unknown tasks: seeded noise (see :func:`hpi.models.probe_inputs.probe_input`).
    """
    from ..models.probe_inputs import normalize, probe_input, render_line

    feeds = []
    for seed, profile in enumerate(profiles):
        feed = {}
        for name, shape_range in profile.inputs:
            shape = tuple(shape_range.opt)
            task = getattr(spec, "task", None)
            if task in ("text_recognition", "textline_orientation") and len(shape) == 4:
                n, _, h, w = shape
                items = []
                for i in range(n):
                    text = _line_text(w, h, seed * n + i)
                    upside_down = task == "textline_orientation" and i % 2 == 1
                    items.append(normalize(render_line(h, w, text, upside_down=upside_down), spec))
                feed[name] = np.concatenate(items, axis=0)
            else:
                feed[name] = probe_input(spec, shape, seed=seed)
        feeds.append(feed)
    return feeds
