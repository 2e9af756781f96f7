"""Compare two backends' fp32 outputs with the model's task rule (see :mod:`hpi.models.agreement`)."""

from __future__ import annotations

import numpy as np

from .agreement import Comparison
from .registry import ModelSpec
from .tasks import task_of


def compare_outputs(spec: ModelSpec | None, reference: np.ndarray, candidate: np.ndarray) -> Comparison:
    """Whether ``candidate`` agrees with ``reference`` for this model's task.

    Detection: thresholded bitmaps agree on ≥ 99.99% of pixels and max abs ≤ 1e-3.
    Others: max abs ≤ the model's tolerance (1e-4 for rec/cls).
    """
    if reference.shape != candidate.shape:
        return Comparison(float("inf"), None, False, f"shapes differ: {reference.shape} vs {candidate.shape}")
    if not np.all(np.isfinite(candidate)):
        return Comparison(float("inf"), None, False, "candidate output has NaN/Inf")
    diff = float(np.max(np.abs(reference.astype(np.float64) - candidate.astype(np.float64)))) if reference.size else 0.0
    tolerance = spec.tolerance if spec else 1e-4
    return task_of(spec).parity(spec, reference, candidate, diff, tolerance)


__all__ = ["Comparison", "compare_outputs"]
