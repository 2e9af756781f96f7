"""TensorRT: ONNX → engine (cached by content), run with cuda-python buffers.

| module         | owns                                                                                 |
|----------------|--------------------------------------------------------------------------------------|
| ``runner``     | :class:`TensorRTRunner` (activate → profiles, cached or built engine, FP16 guard), :func:`tensorrt_status`, :func:`import_checked_tensorrt` |
| ``build``      | network parsing, builder flags, FP16 conversion for TensorRT 11, timing cache, serialized engine |
| ``execution``  | a deserialized engine: one context per profile, shared buffers, ``execute_async_v3`` |
| ``profiles``   | optimization profiles from shape rules and the task's recipe; routing shapes to them |
| ``cache``      | the engine cache key and validated entries under ``$HPI_HOME/engines``               |
| ``guard``      | the FP16 accuracy guard and its representative inputs                                |
| ``cuda``       | cuda-python buffers and streams                                                      |
| ``fallback``   | what a GPU device gets without TensorRT, and the warning that says so                |

Every module imports without TensorRT (the runner imports it on activation).
The names below load their module on first use, so importing this package
(e.g. for :mod:`.fallback` during backend selection) costs nothing.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "TensorRTRunner": "runner",
    "import_checked_tensorrt": "runner",
    "tensorrt_status": "runner",
    "MIN_TENSORRT": "runner",
    "build_serialized_engine": "build",
    "builder_flags": "build",
    "convert_onnx_to_float16": "build",
    "fp16_mode": "build",
    "tensorrt_version": "build",
    "Execution": "execution",
    "Profile": "profiles",
    "ProfileError": "profiles",
    "ShapeRange": "profiles",
    "onnx_input_profiles": "profiles",
    "profiles_for_rules": "profiles",
    "route": "profiles",
    "EngineCache": "cache",
    "EngineKey": "cache",
    "GuardResult": "guard",
    "fp16_guard": "guard",
    "outputs_guard": "guard",
    "representative_feeds": "guard",
    "gpu_fallback_note": "fallback",
}


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


__all__ = sorted(_EXPORTS)
