"""Decisions of automatic selection: what they are keyed by, and their cache under ``$HPI_HOME/decisions``.

A decision is keyed by the model's content hash, the device identity (CPU
model and flags, or GPU name), the installed candidates' versions, the
precision, the thread count and the candidates' options, so any change
measures again. The load average is recorded with a measured decision: one
taken on a busy machine is measured again once the machine is quiet. A
decision that cannot be stored (a read-only ``$HPI_HOME``, a full disk) is
used for this process only, with one warning.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping

from ... import device as device_module
from ...cache import atomic_write_json, cache_dir, is_writable, read_json
from ...device import Device, cpu_identity
from ...errors import CacheError
from ...models.artifacts import ModelArtifacts
from .. import backend_version
from ..base import default_threads

log = logging.getLogger(__name__)

# Bump when the measuring method changes: old decisions are then measured again.
SELECTION_VERSION = 2  # 2: shapes timed in turn, not one shape repeated


@dataclass(frozen=True)
class Decision:
    """The backend chosen for one model on one device, and why.

    ``timings_ms`` maps each measured backend to its time over the typical
    shapes (sum of per-shape minima, in ms); empty when nothing was measured.
    ``device`` is set when the model runs elsewhere than asked (a ``gpu``
    request with no GPU backend installed falls back to ``"cpu"``).
    """

    backend: str
    reason: str
    timings_ms: dict = field(default_factory=dict)
    device: str | None = None
    precision: str | None = None


def device_identity(device: Device) -> dict:
    """What the speed of a backend depends on: the CPU (model, flags, cores) or the GPU's name."""
    if device.kind == "cpu":
        return {"cpu": cpu_identity()}
    gpu: object = f"gpu:{device.index}"
    probe = getattr(device_module, "probe_gpus", None)
    if probe is not None:
        try:
            gpus = probe()
            if len(gpus) > device.index:
                info = gpus[device.index]
                gpu = info.as_dict() if hasattr(info, "as_dict") else _jsonable(info)
        except Exception:  # no driver, no cuda-python: the index alone still keys the decision
            pass
    return {"gpu": gpu}


def candidate_options(candidates: list[str], backend_config: Mapping[str, Mapping] | None) -> dict:
    """The options given to each candidate (only those given some): part of the decision key."""
    config = backend_config or {}
    return {name: dict(config[name]) for name in candidates if config.get(name)}


def decision_key(
    artifacts: ModelArtifacts, device: Device, candidates: list[str], precision: str,
    threads: int, backend_config: Mapping[str, Mapping] | None = None,
) -> str:
    """sha256 of everything a measured decision depends on."""
    payload = {
        "selection": SELECTION_VERSION,
        "model": artifacts.content_hash,
        "onnx": (artifacts.export_meta or {}).get("onnx_sha256"),
        "device": str(device),
        "identity": device_identity(device),
        "backends": {name: backend_version(name) for name in candidates},
        "precision": precision,
        "threads": threads,
        "options": _jsonable(candidate_options(candidates, backend_config)),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def decision_path(artifacts: ModelArtifacts, key: str) -> Path:
    slug = "".join(c if c.isalnum() or c in "-_." else "_" for c in artifacts.name)
    return cache_dir("decisions") / f"{slug}-{key[:16]}.json"


def load_decision(path: Path, key: str, candidates: list[str]) -> dict | None:
    """The stored record when it is valid for ``key`` and still worth using; None to measure again."""
    if not path.exists():
        return None
    record = read_json(path)  # warns when corrupt
    if record is None:
        return None
    backend = record.get("backend")
    if record.get("key") != key or backend not in candidates or not isinstance(record.get("timings_ms", {}), dict):
        log.warning("Cached backend decision %s is invalid; measuring again.", path)
        return None
    if was_busy(record.get("load_average")) and not was_busy(load_average()):
        # Timings taken while other work held the cores are worth one more look on a quiet machine.
        log.debug("Backend decision %s was measured on a busy machine; measuring again now.", path)
        return None
    return record


_UNSTORED_WARNED = False  # one warning per process when decisions cannot be cached


def store_decision(path: Path, record: dict) -> None:
    """Cache a decision; one that cannot be written is just not cached (one warning per process)."""
    global _UNSTORED_WARNED
    if is_writable():
        try:
            atomic_write_json(path, record)
            return
        except (OSError, CacheError) as exc:
            why = getattr(exc, "strerror", None) or str(exc)
    else:
        why = "HPI_HOME is read-only"
    if _UNSTORED_WARNED:
        log.debug("Backend decision %s not stored (%s).", path.name, why)
        return
    _UNSTORED_WARNED = True
    log.warning(
        "Backend decisions cannot be stored in %s (%s): they are not cached, so each new process measures "
        "again (HPI_MEASURE_BACKENDS=0 skips measuring).", path.parent, why,
    )


def load_average() -> dict | None:
    """The 1-minute load and the cores it is shared by (None where the platform has no load average)."""
    try:
        load1 = os.getloadavg()[0]
    except (AttributeError, OSError):  # not on every platform
        return None
    return {"load1": round(load1, 2), "cores": default_threads()}


def was_busy(load: dict | None) -> bool:
    return bool(load) and load.get("load1", 0.0) > load.get("cores", 1)


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def log_decision(artifacts: ModelArtifacts, device: Device, decision: Decision) -> None:
    log.info("Backend for %s on %s: %s (%s)", artifacts.name, device, decision.backend, decision.reason)


def _jsonable(value):
    try:
        return json.loads(json.dumps(value, sort_keys=True, default=str))
    except (TypeError, ValueError):
        return str(value)
