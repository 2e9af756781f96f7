"""Choosing a backend for a model on a device.

PLACEHOLDER until measured selection lands: a static preference order.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from ..device import Device, parse_device
from ..errors import BackendUnavailableError
from ..models.artifacts import ModelArtifacts
from . import create_runner, get_backend_info, installed_backends
from .base import Runner

log = logging.getLogger("hpi")

STATIC_PREFERENCE = {
    "cpu": ("openvino", "onnxruntime", "paddle"),
    "gpu": ("tensorrt", "onnxruntime", "paddle"),
}


@dataclass(frozen=True)
class Decision:
    backend: str
    reason: str
    timings_ms: dict = field(default_factory=dict)


def decide_backend(
    artifacts: ModelArtifacts, device: Device, backend: str = "auto", threads: int | None = None,
    precision: str = "fp32", measure: bool | None = None,
) -> Decision:
    if backend != "auto":
        get_backend_info(backend)
        return Decision(backend, "requested by the user")
    installed = installed_backends(device.kind)
    for name in STATIC_PREFERENCE[device.kind]:
        if name in installed:
            return Decision(name, f"static preference {STATIC_PREFERENCE[device.kind]}")
    raise BackendUnavailableError(f"No backend for {device} is installed. pip install \"hpi[cpu]\".")


def choose_runner(
    artifacts: ModelArtifacts, *, device: str | Device = "cpu", backend: str = "auto",
    threads: int | None = None, precision: str = "fp32", measure: bool | None = None,
    options: dict | None = None,
) -> Runner:
    """An active runner for ``artifacts``: the requested backend, or the one chosen for the device."""
    dev = parse_device(device) if isinstance(device, str) else device
    decision = decide_backend(artifacts, dev, backend, threads, precision, measure)
    log.info("Backend for %s on %s: %s (%s)", artifacts.name, dev, decision.backend, decision.reason)
    runner = create_runner(decision.backend, artifacts, device=str(dev), threads=threads,
                           precision=precision, options=options)
    return runner.activate()
