"""Choosing a backend for a model on a device: measured once, then cached.

``backend="auto"`` (the default) times every installed candidate on the
model's typical input shapes (rendered text, see
:mod:`hpi.models.probe_inputs`), drops any whose outputs disagree with the
reference (Paddle Inference when the model has Paddle files, else ONNX
Runtime on the CPU), and picks the fastest. The decision is stored under
``$HPI_HOME/decisions`` keyed by the model's content hash, the device
identity (CPU model and flags, or GPU name), the installed backends'
versions, the precision, the thread count and the candidates' options, so
later runs reuse it instantly and any change measures again. With measuring
switched off (``measure=False`` or ``HPI_MEASURE_BACKENDS=0``) a static
preference order decides.

| module        | owns                                                                       |
|---------------|----------------------------------------------------------------------------|
| ``policy``    | :func:`choose_runner`, :func:`decide_backend`, candidates, static order, the measuring switch, GPU and low-precision fallback |
| ``measure``   | the timed trials, the reference outputs, the per-task agreement checks     |
| ``decisions`` | :class:`Decision`, the decision key and path, the cache, busy-machine logic |
"""

from __future__ import annotations

from . import decisions, measure, policy
from .decisions import SELECTION_VERSION, Decision, decision_key, decision_path, device_identity
from .measure import BUDGET_ENV, ROUNDS, SLOWER_THAN_BEST
from .policy import MEASURE_ENV, STATIC_PREFERENCE, candidates_for, choose_runner, decide_backend, measuring_enabled

__all__ = [
    "BUDGET_ENV", "Decision", "MEASURE_ENV", "ROUNDS", "SELECTION_VERSION", "SLOWER_THAN_BEST",
    "STATIC_PREFERENCE", "candidates_for", "choose_runner", "decide_backend", "decision_key", "decision_path",
    "decisions", "device_identity", "measure", "measuring_enabled", "policy",
]
