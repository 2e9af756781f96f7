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
from dataclasses import dataclass, field
from typing import Mapping

from .. import _deps
from .._deps import INSTALL_BACKENDS, INSTALL_CPU, INSTALL_GPU
from ..errors import BackendUnavailableError, ConfigError, did_you_mean
from ..models.artifacts import ModelArtifacts
from .base import Runner
from .options import PATH, SEQUENCE, Option, check_options


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
    # What the runner reads from its options: name -> Option(type, default, help).
    options: Mapping[str, Option] = field(default_factory=dict)


_ONNXRUNTIME_OPTIONS = {
    "providers": Option(SEQUENCE, None, "execution providers used as given (default: by device, CPU last)"),
    "use_trt_ep": Option(bool, True, "on a GPU, try the TensorRT execution provider before CUDA"),
    "trt_cache_dir": Option(PATH, None, "engine/timing caches of the TensorRT EP ($HPI_HOME/engines/onnxruntime-trt)"),
    "cudnn_conv_algo_search": Option(str, "HEURISTIC", "CUDA EP: HEURISTIC, DEFAULT or EXHAUSTIVE"),
    "enable_cpu_mem_arena": Option(bool, True, "ONNX Runtime's CPU memory arena (1.05-1.28x faster here)"),
    "graph_optimization_level": Option(str, "all", "all, extended, basic or none"),
    "allow_spinning": Option(bool, False, "idle worker threads spin instead of sleeping"),
}
_OPENVINO_OPTIONS = {
    "performance_hint": Option(str, "LATENCY", "OpenVINO PERFORMANCE_HINT (LATENCY or THROUGHPUT)"),
    "cache_dir": Option(PATH, None, "OpenVINO's compiled-model cache (CACHE_DIR)"),
}
_PADDLE_OPTIONS = {
    "mkldnn": Option(bool, True, "oneDNN kernels (False: the plain reference)"),
    "ir_optim": Option(bool, True, "Paddle Inference's IR optimisation passes"),
    "mkldnn_cache_capacity": Option(int, 10, "input shapes whose oneDNN kernels are kept (PaddleX's default; "
                                             "0: every shape, memory grows with each new one)"),
}
# The defaults match hpi.backends.tensorrt.profiles / .build (tests/backends/test_options.py checks).
_TENSORRT_OPTIONS = {
    "engine_dir": Option(PATH, None, "engine cache directory ($HPI_HOME/engines)"),
    "profiles": Option(SEQUENCE, None, "explicit optimization profiles [{'name', 'inputs': {x: {min, opt, max}}}]"),
    "det_limit": Option(int, 960, "long side the detection profiles are tuned for"),
    "rec_widths": Option(SEQUENCE, (320, 960), "recognition width buckets (the rule's max is added)"),
    "max_batch": Option(int, None, "largest batch of recognition/classification profiles (the rule's max)"),
    "accuracy_guard": Option(bool, True, "check FP16 against a reference and fall back to FP32"),
    "builder_optimization_level": Option(int, 3, "TensorRT builder optimization level (0-5)"),
    "workspace_bytes": Option(int, None, "builder workspace memory pool limit"),
    "tf32": Option(bool, False, "TF32 for FP32 engines (rounds matmuls/convs on Ampere+)"),
}

BACKENDS: dict[str, BackendInfo] = {
    info.name: info
    for info in (
        BackendInfo(
            "onnxruntime", "onnxruntime", "OnnxRuntimeRunner", ("onnxruntime",), "onnx",
            ("cpu", "gpu"), ("fp32", "fp16"), INSTALL_BACKENDS, _ONNXRUNTIME_OPTIONS,
        ),
        BackendInfo(
            "openvino", "openvino", "OpenVINORunner", ("openvino",), "onnx",
            ("cpu",), ("fp32", "bf16", "fp16"), INSTALL_CPU, _OPENVINO_OPTIONS,
        ),
        BackendInfo(
            "paddle", "paddle", "PaddleRunner", ("paddle",), "paddle",
            ("cpu",), ("fp32",), INSTALL_CPU, _PADDLE_OPTIONS,
        ),
        BackendInfo(
            "tensorrt", "tensorrt", "TensorRTRunner", ("tensorrt", "cuda"), "onnx",
            ("gpu",), ("fp32", "fp16"), f"install TensorRT from NVIDIA and {INSTALL_GPU}", _TENSORRT_OPTIONS,
        ),
    )
}


def get_backend_info(name: str) -> BackendInfo:
    try:
        return BACKENDS[name]
    except KeyError:
        raise BackendUnavailableError(
            f"Unknown backend {name!r}{did_you_mean(name, BACKENDS)}. "
            f"Available backends: auto, {', '.join(BACKENDS)}."
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


def validate_backend_config(backend_config: Mapping[str, Mapping] | None) -> dict[str, dict]:
    """Check ``backend_config`` (PaddleX's ``hpi_config.backend_config``: backend name → its options).

    Returns a plain copy. An unknown backend, an unknown option or a value of
    the wrong type raises :class:`~hpi.errors.ConfigError` naming the valid
    ones.
    """
    if backend_config is None:
        return {}
    if not isinstance(backend_config, Mapping):
        raise ConfigError(
            f"backend_config must map backend names to their options ({', '.join(BACKENDS)}); got {backend_config!r}."
        )
    checked: dict[str, dict] = {}
    for name, options in backend_config.items():
        if name not in BACKENDS:
            raise ConfigError(
                f"Unknown backend {name!r} in backend_config{did_you_mean(name, BACKENDS)}. "
                f"Backends with options: {', '.join(BACKENDS)}."
            )
        checked[name] = check_options(name, BACKENDS[name].options, options)
    return checked


def create_runner(
    name: str,
    model: ModelArtifacts,
    *,
    device: str = "cpu",
    threads: int | None = None,
    precision: str = "fp32",
    options: Mapping | None = None,
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
    "BACKENDS", "BackendInfo", "Option", "Runner", "backend_version", "create_runner",
    "get_backend_info", "installed_backends", "is_installed", "validate_backend_config",
]
