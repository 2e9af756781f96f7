"""Compare two backends' outputs with per-task tolerances (see STACK.md)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .registry import ModelSpec


@dataclass(frozen=True)
class Comparison:
    max_abs: float
    bitmap_agreement: float | None  # detection only: share of pixels equal after thresholding
    ok: bool
    reason: str

    def as_dict(self) -> dict:
        return {"max_abs": self.max_abs, "bitmap_agreement": self.bitmap_agreement, "ok": self.ok}


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
    if spec is not None and spec.task == "text_detection":
        thresh = float(spec.postprocess.get("thresh", 0.3))
        agreement = float(np.mean((reference > thresh) == (candidate > thresh))) if reference.size else 1.0
        ok = agreement >= 0.9999 and diff <= tolerance
        reason = f"max abs {diff:.2e} (≤ {tolerance:g}), bitmap agreement {agreement:.6f} (≥ 0.9999)"
        return Comparison(diff, agreement, ok, reason)
    ok = diff <= tolerance
    return Comparison(diff, None, ok, f"max abs {diff:.2e} (≤ {tolerance:g})")
