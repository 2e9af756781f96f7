"""The TensorRT engine cache: content-keyed entries with metadata, validated on every load.

Pure logic (no TensorRT import). Layout under ``$HPI_HOME/engines``::

    <model>-<precision>-<digest16>/engine.plan   the serialized engine
    <model>-<precision>-<digest16>/meta.json     every key component, plan sha256, build facts
    timing/<gpu>-<sm>-trt<version>.cache         the builder's timing cache, shared by models

A TensorRT engine only runs on the TensorRT version and GPU architecture it
was built for, and only accepts the shapes of its profiles; so the key is a
digest of the ONNX file's sha256, the TensorRT version, the GPU name and
compute capability, the precision, the profiles and the builder flags. A
load re-checks every component and the plan's sha256 against ``meta.json``:
a mismatch or a corrupt/missing file logs one line and the engine is
rebuilt, never reused stale. Entries are written to a temporary directory
and renamed into place, under a file lock, so concurrent processes building
the same engine build it once. In a read-only ``$HPI_HOME`` cached engines are
loaded as they are; one that would have to be built is a
:class:`~hpi.errors.CacheError` naming it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from ...cache import (
    _safe, atomic_write_bytes, atomic_write_json, cache_dir, file_lock, in_read_only_home, read_json, replace_dir,
    require_writable, sha256_file, temp_dir,
)

log = logging.getLogger(__name__)

# Bump when the layout or the way engines are built changes incompatibly.
ENGINE_FORMAT = 1
PLAN_FILE = "engine.plan"
META_FILE = "meta.json"


@dataclass(frozen=True)
class EngineKey:
    """Everything an engine depends on. Two keys are equal iff an engine can be reused."""

    model_name: str
    onnx_sha256: str
    tensorrt_version: str
    gpu_name: str
    compute_capability: tuple[int, int]
    precision: str
    profiles: tuple[Mapping, ...]  # Profile.as_dict() of each optimization profile, in order
    builder_flags: Mapping[str, Any] = field(default_factory=dict)

    def components(self) -> dict:
        """The key as plain JSON data (what meta.json records and loads compare)."""
        return json.loads(json.dumps({
            "format": ENGINE_FORMAT,
            "model_name": self.model_name,
            "onnx_sha256": self.onnx_sha256,
            "tensorrt_version": self.tensorrt_version,
            "gpu_name": self.gpu_name,
            "compute_capability": list(self.compute_capability),
            "precision": self.precision,
            "profiles": list(self.profiles),
            "builder_flags": dict(sorted(self.builder_flags.items())),
        }, sort_keys=True))

    def digest(self) -> str:
        canonical = json.dumps(self.components(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def dirname(self) -> str:
        return f"{_safe(self.model_name)}-{self.precision}-{self.digest()[:16]}"


def mismatched_components(expected: Mapping, found: Mapping | None) -> list[str]:
    """Names of key components that differ between ``expected`` and a meta.json's ``key``."""
    if not isinstance(found, Mapping):
        return ["key (missing)"]
    names = sorted(set(expected) | set(found))
    return [name for name in names if expected.get(name) != found.get(name)]


def validate_meta(meta: Mapping | None, key: EngineKey, plan_path: Path) -> str | None:
    """None when ``meta`` describes a usable engine for ``key`` at ``plan_path``; else why not."""
    if meta is None:
        return "meta.json is missing or corrupt"
    differing = mismatched_components(key.components(), meta.get("key"))
    if differing:
        return f"it was built for a different {', '.join(differing)}"
    if not plan_path.is_file():
        return f"{PLAN_FILE} is missing"
    size = plan_path.stat().st_size
    if size == 0 or size != meta.get("plan_bytes"):
        return f"{PLAN_FILE} has {size} bytes, meta.json says {meta.get('plan_bytes')}"
    if sha256_file(plan_path) != meta.get("plan_sha256"):
        return f"{PLAN_FILE}'s sha256 does not match meta.json (corrupt or modified)"
    return None


def timing_cache_name(gpu_name: str, compute_capability: Sequence[int], tensorrt_version: str) -> str:
    major, minor = compute_capability
    return f"{_safe(gpu_name)}-sm{major}{minor}-trt{_safe(tensorrt_version)}.cache"


class EngineCache:
    """Engines on disk, keyed by :class:`EngineKey`."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else cache_dir("engines")
        if not in_read_only_home(self.root):
            self.root.mkdir(parents=True, exist_ok=True)

    def entry_dir(self, key: EngineKey) -> Path:
        return self.root / key.dirname()

    def plan_path(self, key: EngineKey) -> Path:
        return self.entry_dir(key) / PLAN_FILE

    def timing_cache_path(self, key: EngineKey) -> Path:
        return self.root / "timing" / timing_cache_name(key.gpu_name, key.compute_capability, key.tensorrt_version)

    def read_meta(self, key: EngineKey) -> dict | None:
        return read_json(self.entry_dir(key) / META_FILE)

    def load(self, key: EngineKey) -> bytes | None:
        """The plan bytes when a valid entry exists; None (after one log line) when it must be (re)built."""
        entry = self.entry_dir(key)
        if not entry.exists():
            return None
        problem = validate_meta(self.read_meta(key), key, entry / PLAN_FILE)
        if problem:
            log.warning("TensorRT engine cache entry %s is unusable (%s); rebuilding it.", entry, problem)
            return None
        return (entry / PLAN_FILE).read_bytes()

    def store(self, key: EngineKey, plan: bytes, extra: Mapping | None = None) -> Path:
        """Write plan + meta.json atomically (temp dir renamed into place); returns the entry dir."""
        if not plan:
            raise ValueError("refusing to cache an empty engine")
        meta = {
            "key": key.components(),
            "digest": key.digest(),
            "plan_sha256": hashlib.sha256(plan).hexdigest(),
            "plan_bytes": len(plan),
            "created_unix": time.time(),
            **dict(extra or {}),
        }
        final = self.entry_dir(key)
        with temp_dir(self.root, f".{final.name}.") as tmp:
            staging = tmp / "entry"
            atomic_write_bytes(staging / PLAN_FILE, plan)
            atomic_write_json(staging / META_FILE, meta)
            replace_dir(staging, final)
        return final

    def update_meta(self, key: EngineKey, **fields: Any) -> None:
        """Add facts to an existing entry's meta.json (e.g. the FP16 accuracy-guard verdict)."""
        meta = self.read_meta(key)
        if meta is None:
            return
        if in_read_only_home(self.entry_dir(key)):
            log.debug("Engine cache %s is read-only; not recording %s.", self.entry_dir(key), ", ".join(fields))
            return
        meta.update(fields)
        atomic_write_json(self.entry_dir(key) / META_FILE, meta)

    def invalidate(self, key: EngineKey, reason: str) -> None:
        """Drop an entry that TensorRT refused to load (one log line); the next load rebuilds it."""
        entry = self.entry_dir(key)
        if entry.exists():
            log.warning("TensorRT engine %s cannot be used (%s); rebuilding it.", entry, reason)
            shutil.rmtree(entry, ignore_errors=True)

    def get_or_build(
        self, key: EngineKey, build: Callable[[], bytes], extra: Mapping | None = None
    ) -> tuple[bytes, bool]:
        """``(plan, built)``: the cached plan, or ``build()``'s result after storing it.

        Held under a per-key file lock, so two processes needing the same
        engine build it once and the second loads what the first stored. In a
        read-only ``$HPI_HOME`` only a cached engine can be used.
        """
        if in_read_only_home(self.root):
            plan = self.load(key)
            if plan is not None:
                log.info("TensorRT engine for %s (%s) loaded from read-only cache %s.",
                         key.model_name, key.precision, self.entry_dir(key))
                return plan, False
            require_writable(
                f"no usable TensorRT engine for {key.model_name} ({key.precision}) is there "
                f"({self.entry_dir(key)}), so it must be built (`hpi build` fills the cache ahead of time)"
            )
        with file_lock(f"engine-{key.digest()[:24]}"):
            plan = self.load(key)
            if plan is not None:
                log.info("TensorRT engine for %s (%s) loaded from cache %s.", key.model_name, key.precision, self.entry_dir(key))
                return plan, False
            start = time.perf_counter()
            plan = bytes(build())
            seconds = time.perf_counter() - start
            entry = self.store(key, plan, {"build_seconds": round(seconds, 3), **dict(extra or {})})
            log.info("TensorRT engine for %s (%s) built in %.1f s, cached at %s.", key.model_name, key.precision, seconds, entry)
            return plan, True
