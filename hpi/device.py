"""Device strings ("cpu", "gpu", "gpu:0") and what the machine has.

GPUs are probed with cuda-python (``cuda.bindings.runtime``), the same CUDA
runtime bindings TensorRT's own samples use; nothing here needs TensorRT.
"""

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


# --------------------------------------------------------------------------- GPUs


@dataclass(frozen=True)
class GpuInfo:
    """One CUDA device as the CUDA runtime reports it."""

    index: int
    name: str
    compute_capability: tuple[int, int]
    total_memory_bytes: int

    @property
    def sm(self) -> str:
        """``"sm_90"`` style: what TensorRT engines are specific to."""
        return f"sm_{self.compute_capability[0]}{self.compute_capability[1]}"

    def describe(self) -> str:
        gib = self.total_memory_bytes / (1 << 30)
        major, minor = self.compute_capability
        return f"gpu:{self.index} {self.name} (compute capability {major}.{minor}, {gib:.1f} GiB)"

    def as_dict(self) -> dict:
        return {
            "index": self.index,
            "name": self.name,
            "compute_capability": list(self.compute_capability),
            "total_memory_bytes": self.total_memory_bytes,
        }


# CUDA runtime errors that mean "no usable driver" rather than "no device".
_NO_DRIVER_ERRORS = {
    "cudaErrorInsufficientDriver",
    "cudaErrorNoDevice",
    "cudaErrorSystemDriverMismatch",
    "cudaErrorCompatNotSupportedOnDevice",
    "cudaErrorInitializationError",
    "cudaErrorStubLibrary",
    "cudaErrorDevicesUnavailable",
    "cudaErrorCallRequiresNewerDriver",
}


def _cuda_runtime():
    """``cuda.bindings.runtime``, or a DeviceError saying how to install cuda-python."""
    from . import _deps
    from .errors import BackendUnavailableError

    try:
        return _deps.import_cuda_runtime()
    except BackendUnavailableError as exc:
        raise DeviceError(
            f"Cannot look for NVIDIA GPUs: {exc} GPU devices need cuda-python; on a machine "
            "without a GPU use device='cpu'."
        ) from exc


def _error_name(cudart, err) -> str:
    try:
        status, name = cudart.cudaGetErrorName(err)
        return name.decode() if isinstance(name, bytes) else str(name)
    except Exception:  # a broken binding must not hide the original error
        return str(err)


def _error_text(cudart, err) -> str:
    try:
        status, text = cudart.cudaGetErrorString(err)
        text = text.decode() if isinstance(text, bytes) else str(text)
    except Exception:
        text = ""
    name = _error_name(cudart, err)
    return f"{name}: {text}" if text else name


def _is_success(cudart, err) -> bool:
    return err == cudart.cudaError_t.cudaSuccess


def probe_gpus() -> list[GpuInfo]:
    """Every CUDA device this process can see, via cuda-python.

    Returns ``[]`` when the CUDA runtime reports no device or no usable driver
    (a CPU machine); raises :class:`DeviceError` when cuda-python is missing or
    the runtime fails in another way. ``CUDA_VISIBLE_DEVICES`` applies, as for
    every CUDA program.
    """
    cudart = _cuda_runtime()
    err, count = cudart.cudaGetDeviceCount()
    if not _is_success(cudart, err):
        if _error_name(cudart, err) in _NO_DRIVER_ERRORS:
            return []
        raise DeviceError(f"The CUDA runtime failed to count GPUs ({_error_text(cudart, err)}).")
    gpus = []
    for index in range(int(count)):
        err, props = cudart.cudaGetDeviceProperties(index)
        if not _is_success(cudart, err):
            raise DeviceError(
                f"The CUDA runtime sees {count} GPU(s) but cannot read gpu:{index}'s properties "
                f"({_error_text(cudart, err)})."
            )
        name = props.name
        if isinstance(name, (bytes, bytearray)):
            name = bytes(name).split(b"\0", 1)[0].decode(errors="replace")
        gpus.append(
            GpuInfo(index, str(name).strip(), (int(props.major), int(props.minor)), int(props.totalGlobalMem))
        )
    return gpus


def driver_status() -> str:
    """A short description of the CUDA driver/runtime versions (for error messages and reports)."""
    try:
        cudart = _cuda_runtime()
    except DeviceError:
        return "cuda-python not installed"
    err, driver = cudart.cudaDriverGetVersion()
    driver_text = "no NVIDIA driver" if not _is_success(cudart, err) or not driver else f"driver {_version(driver)}"
    err, runtime = cudart.cudaRuntimeGetVersion()
    runtime_text = _version(runtime) if _is_success(cudart, err) else "unknown"
    return f"{driver_text}, CUDA runtime {runtime_text}"


def _version(number: int) -> str:
    # CUDA encodes 13.0 as 13000, 12.4 as 12040.
    return f"{number // 1000}.{(number % 1000) // 10}"


def check_gpu(device: str | Device) -> GpuInfo:
    """The :class:`GpuInfo` of a ``gpu``/``gpu:N`` device, or a DeviceError saying what was found."""
    dev = parse_device(device) if not isinstance(device, Device) else device
    if dev.kind != "gpu":
        raise DeviceError(f"Device {str(dev)!r} is not a GPU; use 'gpu' or 'gpu:N'.")
    gpus = probe_gpus()
    if not gpus:
        raise DeviceError(
            f"Device {str(dev)!r} was requested but no NVIDIA GPU is usable here "
            f"({driver_status()}). Use device='cpu', or run on a machine with an NVIDIA GPU and driver."
        )
    if dev.index >= len(gpus):
        found = "; ".join(g.describe() for g in gpus)
        raise DeviceError(
            f"Device {str(dev)!r} does not exist: this machine has {len(gpus)} GPU(s): {found}. "
            f"Use an index from 0 to {len(gpus) - 1} (CUDA_VISIBLE_DEVICES also renumbers them)."
        )
    return gpus[dev.index]
