"""The FP16 accuracy guard: does an FP16 engine change a model's results?

Pure numpy (no TensorRT), so CI tests the decision on synthetic outputs.
FP16 moves raw outputs by far more than FP32 backends differ from each other
(≤ 1e-3 det, ≤ 1e-4 rec/cls, the parity tolerances of :mod:`hpi.models.agreement`), so the guard does not compare raw
values against those tolerances; it asks whether what the pipeline derives
from the outputs changes, by the rule of the model's task
(:mod:`hpi.models.tasks`, rules in :mod:`hpi.models.agreement`):

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

from typing import Iterable, Sequence

import numpy as np

from ...models.agreement import GuardResult, ctc_greedy_decode
from ...models.probe_inputs import probe_input
from ...models.tasks import get_task


def fp16_guard(task: str | None, reference: np.ndarray, candidate: np.ndarray, postprocess: dict | None = None) -> GuardResult:
    """Whether ``candidate`` (FP16) gives the same results as ``reference`` (FP32 / ONNX Runtime)."""
    reference = np.asarray(reference, np.float32)
    candidate = np.asarray(candidate, np.float32)
    if reference.shape != candidate.shape:
        return GuardResult(False, f"output shapes differ: {reference.shape} vs {candidate.shape}")
    if not np.all(np.isfinite(candidate)):
        return GuardResult(False, "the FP16 output has NaN/Inf (overflow in half precision)")
    return get_task(task).fp16_guard(reference, candidate, postprocess or {})


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


def representative_feeds(spec, profiles) -> list[dict]:
    """Inputs the FP16 guard runs: legible, upright text like the pipeline feeds, at every profile's opt shape.

    Detection: a rendered page. Recognition: text lines whose words fill the
    line at the model's height (a squeezed or upside-down line decodes to
    low-confidence noise that flips under any precision change and says
    nothing about real results). Orientation: upright and upside-down lines.
    Unknown tasks: seeded noise (see :func:`hpi.models.probe_inputs.probe_input`).
    """
    return [
        {name: probe_input(spec, tuple(shape_range.opt), seed=seed, fill_lines=True) for name, shape_range in profile.inputs}
        for seed, profile in enumerate(profiles)
    ]


__all__ = [
    "GuardResult", "choose_precision", "combine", "ctc_greedy_decode", "fp16_guard", "outputs_guard",
    "representative_feeds",
]
