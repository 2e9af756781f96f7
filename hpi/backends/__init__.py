"""Backends: one table of what each supports, and a factory for runners.

| backend     | model format | devices  | package (extra)                     | precisions        |
|-------------|--------------|----------|-------------------------------------|-------------------|
| onnxruntime | ONNX         | cpu, gpu | onnxruntime / onnxruntime-gpu       | fp32 (fp16 TRT EP)|
| openvino    | ONNX         | cpu      | openvino (cpu)                      | fp32, bf16, fp16  |
| paddle      | Paddle       | cpu      | paddlepaddle (cpu)                  | fp32              |
| tensorrt    | ONNX→engine  | gpu      | tensorrt (NVIDIA) + cuda-python     | fp32, fp16        |
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from .. import _deps
from ..errors import BackendUnavailableError
from ..models.artifacts import ModelArtifacts
from .base import Runner


@dataclass(frozen=True)
class BackendInfo:
    name: str
    module: str  # hpi.backends.<module>, or a dotted module path
    runner_class: str
    packages: tuple[str, ...]  # keys of hpi._deps' table
    model_format: str  # "onnx" or "paddle"
    devices: tuple[str, ...]
    precisions: tuple[str, ...]
    install_hint: str


BACKENDS: dict[str, BackendInfo] = {
    info.name: info
    for info in (
        BackendInfo(
            "onnxruntime", "onnxruntime", "OnnxRuntimeRunner", ("onnxruntime",), "onnx",
            ("cpu", "gpu"), ("fp32", "fp16"), 'pip install "hpi[cpu]" (GPU: "hpi[gpu]")',
        ),
        BackendInfo(
            "openvino", "openvino", "OpenVINORunner", ("openvino",), "onnx",
            ("cpu",), ("fp32", "bf16", "fp16"), 'pip install "hpi[cpu]"',
        ),
        BackendInfo(
            "paddle", "paddle", "PaddleRunner", ("paddle",), "paddle",
            ("cpu",), ("fp32",), 'pip install "hpi[cpu]"',
        ),
        BackendInfo(
            "tensorrt", "tensorrt", "TensorRTRunner", ("tensorrt", "cuda"), "onnx",
            ("gpu",), ("fp32", "fp16"),
            "install TensorRT from NVIDIA and pip install \"hpi[gpu]\"",
        ),
    )
}


def backend_names() -> list[str]:
    return list(BACKENDS)


def get_backend_info(name: str) -> BackendInfo:
    try:
        return BACKENDS[name]
    except KeyError:
        raise BackendUnavailableError(
            f"Unknown backend {name!r}. Available backends: auto, {', '.join(BACKENDS)}."
        ) from None


def is_installed(name: str) -> bool:
    info = get_backend_info(name)
    return all(_deps.is_available(pkg) for pkg in info.packages)


def installed_backends(device_kind: str = "cpu") -> list[str]:
    """Backends whose packages import here and that support ``device_kind`` (cpu/gpu)."""
    names = []
    for name, info in BACKENDS.items():
        if device_kind not in info.devices or not is_installed(name):
            continue
        if name == "onnxruntime" and device_kind == "gpu" and not _onnxruntime_has_gpu():
            continue
        names.append(name)
    return names


def _onnxruntime_has_gpu() -> bool:
    try:
        ort = _deps.import_onnxruntime()
    except BackendUnavailableError:
        return False
    available = ort.get_available_providers()
    return "CUDAExecutionProvider" in available or "TensorrtExecutionProvider" in available


def backend_version(name: str) -> str | None:
    info = get_backend_info(name)
    return _deps.version_of(info.packages[0])


def runner_class(name: str) -> type[Runner]:
    info = get_backend_info(name)
    if not is_installed(name):
        missing = [pkg for pkg in info.packages if not _deps.is_available(pkg)]
        raise BackendUnavailableError(
            f"Backend {name!r} needs {', '.join(missing)}, which is not installed. "
            f"To install: {info.install_hint}. Installed backends: "
            f"{', '.join(n for n in BACKENDS if is_installed(n)) or 'none'}."
        )
    # A dotted module names a runner outside hpi.backends (plug-ins, test doubles).
    module = importlib.import_module(info.module if "." in info.module else f"{__name__}.{info.module}")
    return getattr(module, info.runner_class)


def create_runner(
    name: str,
    model: ModelArtifacts,
    *,
    device: str = "cpu",
    threads: int | None = None,
    precision: str = "fp32",
    options: dict | None = None,
) -> Runner:
    """An inactive runner of backend ``name`` for ``model``."""
    info = get_backend_info(name)
    kind = device.split(":")[0]
    if kind not in info.devices:
        raise BackendUnavailableError(
            f"Backend {name!r} does not run on {device!r}; it supports {', '.join(info.devices)}."
        )
    if precision not in info.precisions:
        raise BackendUnavailableError(
            f"Backend {name!r} does not support precision {precision!r}; it supports "
            f"{', '.join(info.precisions)}."
        )
    cls = runner_class(name)
    return cls(model, device=device, threads=threads, precision=precision, options=options)


__all__ = [
    "BACKENDS", "BackendInfo", "Runner", "backend_names", "backend_version", "create_runner",
    "get_backend_info", "installed_backends", "is_installed",
]
