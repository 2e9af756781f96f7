"""The choice itself: requested backend, static preference, measured (or cached) winner, GPU fallback.

``backend="auto"`` (the default) measures the installed candidates
(:mod:`.measure`) once per model and machine and caches the decision
(:mod:`.decisions`). With measuring switched off (``measure=False`` or
``HPI_MEASURE_BACKENDS=0``) the static preference order decides. A ``gpu``
device without a GPU backend runs on the CPU with one warning
(:mod:`hpi.backends.tensorrt.fallback`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Mapping

from ..._deps import INSTALL_BACKENDS
from ...cache import file_lock
from ...device import Device, check_gpu, parse_device
from ...errors import BackendError, BackendUnavailableError
from ...models.artifacts import ModelArtifacts
from .. import (
    BACKENDS, backend_version, create_runner, get_backend_info, installed_backends, runner_class,
    validate_backend_config,
)
from ..base import Runner, default_threads
from ..tensorrt.fallback import gpu_fallback_note
from . import measure as measuring
from .decisions import Decision, decision_key, decision_path, load_decision, log_decision, now, store_decision

log = logging.getLogger(__name__)

STATIC_PREFERENCE = {
    "cpu": ("openvino", "onnxruntime", "paddle"),
    "gpu": ("tensorrt", "onnxruntime", "paddle"),
}
MEASURE_ENV = "HPI_MEASURE_BACKENDS"


@dataclass(frozen=True)
class _Request:
    """What stays the same while one choice falls back across devices and precisions."""

    artifacts: ModelArtifacts
    threads: int | None
    measure: bool | None
    backend_config: Mapping[str, Mapping]


# ---------------------------------------------------------------------------
# Public API


def decide_backend(
    artifacts: ModelArtifacts,
    device: Device | str,
    backend: str = "auto",
    threads: int | None = None,
    precision: str = "fp32",
    measure: bool | None = None,
    backend_config: Mapping[str, Mapping] | None = None,
) -> Decision:
    """The backend to use for ``artifacts`` on ``device`` (measured or cached for ``"auto"``).

    ``backend_config`` maps backend names to their runner options (each
    candidate gets its own). Runners built while measuring are released; use
    :func:`choose_runner` to keep the measured winner.
    """
    device = parse_device(device) if isinstance(device, str) else device
    request = _Request(artifacts, threads, measure, validate_backend_config(backend_config))
    decision, runner = _decide(request, device, backend, precision)
    if runner is not None:
        runner.deactivate()
    return decision


def choose_runner(
    artifacts: ModelArtifacts,
    *,
    device: str | Device = "cpu",
    backend: str = "auto",
    threads: int | None = None,
    precision: str = "fp32",
    measure: bool | None = None,
    backend_config: Mapping[str, Mapping] | None = None,
) -> Runner:
    """An ACTIVE runner for ``artifacts``: the requested backend, or the one chosen for the device.

    ``backend_config`` maps backend names to their runner options
    (PaddleX's ``hpi_config.backend_config``; see
    :func:`hpi.backends.validate_backend_config`). When the choice was just
    measured, the runner that won the measurement is returned as is (it is
    not built twice).
    """
    dev = parse_device(device) if isinstance(device, str) else device
    request = _Request(artifacts, threads, measure, validate_backend_config(backend_config))
    decision, runner = _decide(request, dev, backend, precision)
    if runner is None:
        runner = create_runner(
            decision.backend, artifacts, device=decision.device or str(dev), threads=threads,
            precision=decision.precision or precision, options=request.backend_config.get(decision.backend),
        )
        runner.activate()
    return runner


def measuring_enabled(measure: bool | None = None) -> bool:
    """``measure`` if given, else True unless ``HPI_MEASURE_BACKENDS=0``."""
    if measure is not None:
        return bool(measure)
    from ...env import env_flag

    return env_flag(MEASURE_ENV, True)


def candidates_for(artifacts: ModelArtifacts, device: Device, precision: str = "fp32") -> list[str]:
    """Installed backends that can run this model's files on ``device`` at ``precision``."""
    names = []
    for name in installed_backends(device.kind):
        info = BACKENDS[name]
        if precision not in info.precisions:
            continue
        if info.model_format == "paddle" and artifacts.paddle_files is None:
            continue
        if info.model_format == "onnx" and artifacts.onnx_path is None:
            continue
        names.append(name)
    order = STATIC_PREFERENCE.get(device.kind, ())
    return sorted(names, key=lambda n: order.index(n) if n in order else len(order))


# ---------------------------------------------------------------------------
# The decision


def _decide(request: _Request, device: Device, backend: str, precision: str) -> tuple[Decision, Runner | None]:
    artifacts = request.artifacts
    if backend != "auto":
        get_backend_info(backend)  # unknown name: error listing the available ones
        runner_class(backend)  # missing package: error naming the extra to install
        if device.kind == "gpu":
            check_gpu(device)  # no driver / no GPU / wrong index: a clear error, before any build
        decision = Decision(backend, "requested")
        log_decision(artifacts, device, decision)
        return decision, None

    if device.kind == "gpu":
        # The user asked for a GPU: one that does not exist is an error; a GPU without a GPU
        # backend (no TensorRT, CPU-only onnxruntime) runs on the CPU with one warning.
        check_gpu(device)
        if not candidates_for(artifacts, device, precision):
            log.warning(gpu_fallback_note(None, model=artifacts.name))
            cpu = Device("cpu")
            cpu_precision = precision if candidates_for(artifacts, cpu, precision) else "fp32"
            decision, runner = _decide(request, cpu, backend, cpu_precision)
            return replace(decision, device="cpu", precision=cpu_precision), runner
        decision, runner = _decide_on_device(request, device, precision)
        note = gpu_fallback_note(decision.backend, model=artifacts.name)
        if note:
            log.warning(note)
        return decision, runner
    return _decide_on_device(request, device, precision)


def _decide_on_device(request: _Request, device: Device, precision: str) -> tuple[Decision, Runner | None]:
    artifacts = request.artifacts
    candidates = candidates_for(artifacts, device, precision)
    if not candidates:
        installed = installed_backends(device.kind)
        raise BackendUnavailableError(
            f"No installed backend can run {artifacts.name} on {device} at {precision} "
            f"(installed for {device.kind}: {', '.join(installed) or 'none'}; the model has "
            f"{'ONNX' if artifacts.onnx_path else 'no ONNX'} and "
            f"{'Paddle' if artifacts.paddle_files else 'no Paddle'} files). "
            f"Install a backend: {INSTALL_BACKENDS}."
        )
    # A lone candidate needs no timing, but at bf16/fp16 it still needs the accuracy check.
    if (len(candidates) == 1 and precision == "fp32") or not measuring_enabled(request.measure):
        switch = f"{MEASURE_ENV}=0" if request.measure is None else "measure=False"
        why = "the only installed candidate" if len(candidates) == 1 else (
            f"static preference {' > '.join(candidates)}; measuring is off ({switch})"
        )
        decision = Decision(candidates[0], why)
        log_decision(artifacts, device, decision)
        return decision, None

    threads = request.threads or default_threads()
    key = decision_key(artifacts, device, candidates, precision, threads, request.backend_config)
    path = decision_path(artifacts, key)
    cached = load_decision(path, key, candidates)
    if cached is None:
        # One process measures at a time: parallel measuring would skew every timing.
        with file_lock(f"decision-{key[:16]}"):
            cached = load_decision(path, key, candidates)
            if cached is None:
                try:
                    decision, runner, record = measuring.measure_candidates(
                        artifacts, device, candidates, request.threads, precision, request.backend_config
                    )
                except BackendError as exc:
                    if precision == "fp32":
                        raise
                    store_decision(path, {
                        "key": key, "model": artifacts.name, "backend": candidates[0],
                        "device": str(device), "precision": precision, "threads": threads,
                        "fallback_precision": "fp32", "reason": str(exc), "created": now(),
                    })
                    return _low_precision_fallback(request, device, precision, str(exc))
                record.update({"key": key, "model": artifacts.name, "device": str(device),
                               "precision": precision, "threads": threads,
                               "backends": {n: backend_version(n) for n in candidates}})
                store_decision(path, record)
                log_decision(artifacts, device, decision)
                return decision, runner
    created = cached.get("created", "an earlier run")
    if cached.get("fallback_precision"):
        return _low_precision_fallback(request, device, precision, f"cached verdict from {created}: {cached.get('reason', '')}")
    decision = Decision(
        cached["backend"],
        f"cached decision from {created}; {cached.get('reason', '')}".rstrip("; "),
        dict(cached.get("timings_ms") or {}),
    )
    log_decision(artifacts, device, decision)
    return decision, None


def _low_precision_fallback(request: _Request, device: Device, precision: str, why: str) -> tuple[Decision, Runner | None]:
    """bf16/fp16 changed this model's results on every candidate: run it at fp32, and say so once."""
    log.warning(
        "%s at %s fails the accuracy check on every backend (%s); running it at fp32.",
        request.artifacts.name, precision, why.splitlines()[0][:300],
    )
    decision, runner = _decide_on_device(request, device, "fp32")
    return replace(decision, precision="fp32"), runner
