"""What a GPU device gets when TensorRT is not there, and the one warning that says so.

:mod:`hpi.backends.select` (automatic choice) calls :func:`gpu_fallback_note` after picking
a backend for a ``gpu`` device. The static GPU order is TensorRT, then ONNX
Runtime's TensorRT/CUDA execution providers (onnxruntime-gpu), then Paddle
(hpi runs Paddle on the CPU only: paddlepaddle-gpu 3.x is not on PyPI), then
the CPU. Every step down is logged once, with what was missing and how to
install it.
"""

from __future__ import annotations

from typing import Mapping

from ... import _deps
from ..._deps import INSTALL_GPU

INSTALL_TENSORRT = (
    "install TensorRT from NVIDIA (pip install tensorrt-cu12 or tensorrt-cu13 with NVIDIA's package index, "
    "or use an NVIDIA TensorRT container) plus cuda-python; see docs/GPU.md"
)
INSTALL_ORT_GPU = f"pip uninstall onnxruntime && pip install onnxruntime-gpu (or {INSTALL_GPU})"


def gpu_backend_problems() -> dict[str, str | None]:
    """For each GPU-capable backend: None when it can run on a GPU here, else why not.

    Only imports are checked (cheap); whether a GPU exists is
    :func:`hpi.device.check_gpu`'s job.
    """
    problems: dict[str, str | None] = {}
    missing = [name for name in ("tensorrt", "cuda") if not _deps.is_available(name)]
    problems["tensorrt"] = (
        f"{' and '.join('cuda-python' if m == 'cuda' else m for m in missing)} not installed" if missing else None
    )
    if not _deps.is_available("onnxruntime"):
        problems["onnxruntime"] = "onnxruntime not installed"
    else:
        try:
            ort = _deps.import_onnxruntime()
            available = ort.get_available_providers()
        except Exception as exc:  # a broken install must not break selection
            problems["onnxruntime"] = f"onnxruntime failed to load ({exc})"
        else:
            gpu_eps = [p for p in ("TensorrtExecutionProvider", "CUDAExecutionProvider") if p in available]
            problems["onnxruntime"] = None if gpu_eps else "the installed onnxruntime is the CPU build"
    problems["paddle"] = "hpi runs Paddle on the CPU only (paddlepaddle-gpu 3.x is not on PyPI)"
    return problems


def gpu_fallback_note(chosen: str | None, problems: Mapping[str, str | None] | None = None, model: str = "") -> str | None:
    """The warning for a ``gpu`` device that did not get TensorRT; None when it did.

    ``chosen`` is the backend picked (``"onnxruntime"``, ``"paddle"``,
    ``"openvino"``) or None / ``"cpu"`` when the model falls back to the CPU.
    ``problems`` defaults to :func:`gpu_backend_problems`.
    """
    if chosen == "tensorrt":
        return None
    problems = gpu_backend_problems() if problems is None else problems
    subject = f" for {model}" if model else ""
    trt_why = problems.get("tensorrt") or "not selected"
    if chosen == "onnxruntime" and not problems.get("onnxruntime"):
        return (
            f"TensorRT is not available ({trt_why}); using ONNX Runtime's GPU execution providers{subject}. "
            f"For the fastest GPU path, {INSTALL_TENSORRT}."
        )
    reasons = "; ".join(f"{name}: {why}" for name, why in problems.items() if why)
    where = f"backend {chosen!r} on the CPU" if chosen not in (None, "cpu") else "the CPU"
    return (
        f"A GPU was requested but no GPU backend is usable ({reasons}); running{subject} on {where}. "
        f"To use the GPU, {INSTALL_TENSORRT}; or {INSTALL_ORT_GPU}."
    )
