"""OpenVINO runner (CPU). f32 precision unless the user asks for bf16/f16."""

from __future__ import annotations

import threading

import numpy as np

from .._deps import import_openvino
from ..errors import BackendError
from .base import Runner

_PRECISION_HINT = {"fp32": "f32", "bf16": "bf16", "fp16": "f16"}


class OpenVINORunner(Runner):
    """OpenVINO on CPU.

    On CPUs with bf16 (AVX-512 bf16 / AMX) OpenVINO's default silently lowers
    precision; hpi always sets ``INFERENCE_PRECISION_HINT`` explicitly (f32
    unless ``precision="bf16"``/``"fp16"``). One infer request per thread keeps
    ``infer`` safe to call from several threads.
    Options (``BACKENDS["openvino"].options``): ``performance_hint``, ``cache_dir``.
    """

    backend_name = "openvino"

    def _activate_impl(self) -> None:
        ov = import_openvino()
        if self.device.startswith("gpu"):
            raise BackendError(
                "hpi runs OpenVINO on the CPU only; for NVIDIA GPUs use backend='tensorrt' "
                "or 'onnxruntime' (onnxruntime-gpu)."
            )
        if self.model.onnx_path is None:
            raise BackendError(f"{self.model.name} has no ONNX file; OpenVINO needs one.")
        if self.precision not in _PRECISION_HINT:
            raise BackendError(
                f"OpenVINO precision {self.precision!r} is not supported; use one of {list(_PRECISION_HINT)}."
            )
        core = ov.Core()
        config = {
            "INFERENCE_PRECISION_HINT": _PRECISION_HINT[self.precision],
            "INFERENCE_NUM_THREADS": str(self.threads),
            "PERFORMANCE_HINT": self.option("performance_hint"),
        }
        if self.option("cache_dir"):
            config["CACHE_DIR"] = str(self.option("cache_dir"))
        try:
            model = core.read_model(str(self.model.onnx_path))
            self.compiled = core.compile_model(model, "CPU", config)
        except Exception as exc:
            raise BackendError(f"OpenVINO could not compile {self.model.onnx_path} ({exc}).") from exc
        self.input_names = [port.get_any_name() for port in self.compiled.inputs]
        self.output_names = [port.get_any_name() for port in self.compiled.outputs]
        self._local = threading.local()

    def _request(self):
        request = getattr(self._local, "request", None)
        if request is None:
            request = self.compiled.create_infer_request()
            self._local.request = request
        return request

    def _infer_impl(self, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        request = self._request()
        try:
            result = request.infer(feed)
        except Exception as exc:
            shapes = {k: v.shape for k, v in feed.items()}
            raise BackendError(f"OpenVINO failed on {self.model.name} with inputs {shapes}: {exc}") from exc
        # Copy: the request's output tensors are overwritten by the next call.
        return {
            name: np.array(result[port], copy=True)
            for name, port in zip(self.output_names, self.compiled.outputs)
        }

    def _deactivate_impl(self) -> None:
        self.compiled = None
        self._local = threading.local()
