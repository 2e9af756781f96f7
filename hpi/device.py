"""Device strings ("cpu", "gpu", "gpu:0") and what the machine has."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import DeviceError

_DEVICE_RE = re.compile(r"^(cpu|gpu)(?::(\d+))?$")


@dataclass(frozen=True)
class Device:
    kind: str  # "cpu" or "gpu"
    index: int = 0

    def __str__(self) -> str:
        return "cpu" if self.kind == "cpu" else f"gpu:{self.index}"


def parse_device(device: str | None) -> Device:
    """Parse a PaddleX-style device string. ``None`` means ``"cpu"``.

    Only the syntax is checked here; whether the GPU exists is checked when a
    GPU backend starts (see :func:`hpi.device.probe_gpus`).
    """
    if device is None:
        return Device("cpu")
    text = str(device).strip().lower()
    match = _DEVICE_RE.match(text)
    if not match:
        raise DeviceError(
            f"Unknown device {device!r}. Use 'cpu', 'gpu' (= gpu:0) or 'gpu:N' (N = the GPU index)."
        )
    kind, index = match.group(1), match.group(2)
    if kind == "cpu" and index is not None:
        raise DeviceError(f"Unknown device {device!r}: the CPU takes no index; use 'cpu'.")
    return Device(kind, int(index or 0))


def cpu_identity() -> dict:
    """CPU model, flags that matter for backends (AVX-512, bf16, AMX), and core count."""
    import os
    import platform

    model = platform.processor() or "unknown"
    flags: set[str] = set()
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name") and model in ("unknown", "", "x86_64"):
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    break
    except OSError:
        pass
    interesting = sorted(f for f in flags if f in {"avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile", "avx512_vnni", "fma"})
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        cores = os.cpu_count() or 1
    return {"model": model, "machine": platform.machine(), "cores": cores, "flags": interesting}
