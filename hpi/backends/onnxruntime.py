"""ONNX Runtime runner: CPU, and the CUDA / TensorRT execution providers with onnxruntime-gpu."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from .._deps import INSTALL_GPU, import_onnxruntime
from ..cache import cache_dir
from ..errors import BackendError, BackendUnavailableError
from .base import Runner

log = logging.getLogger(__name__)

_CONV_ALGO_SEARCH = ("HEURISTIC", "DEFAULT", "EXHAUSTIVE")


def _gpu_index(device: str) -> int:
    return int(device.split(":")[1]) if ":" in device else 0


class OnnxRuntimeRunner(Runner):
    """ONNX Runtime.

    Options (declared in ``BACKENDS["onnxruntime"].options``): ``providers``
    (overrides the default for the device), ``enable_cpu_mem_arena``,
    ``trt_cache_dir``, ``use_trt_ep``, ``cudnn_conv_algo_search``,
    ``graph_optimization_level``, ``allow_spinning`` (False: idle worker
    threads sleep instead of spinning, see ``_activate_impl``).
    """

    backend_name = "onnxruntime"

    def _providers(self, ort) -> list:
        """Execution providers for the device, best first, CPU last.

        On ``gpu:N`` with onnxruntime-gpu: the TensorRT EP (engine and timing
        caches under ``$HPI_HOME/engines/onnxruntime-trt/<model>``, explicit
        profile shapes from the model's shape rules so a new input shape does
        not rebuild the engine, FP16 when ``precision="fp16"``), then the CUDA
        EP (``cudnn_conv_algo_search`` HEURISTIC: the exhaustive default
        benchmarks every new shape, which costs seconds per det size).
        ``options``: ``providers`` (used as given), ``use_trt_ep`` (True),
        ``trt_cache_dir``, ``cudnn_conv_algo_search`` (HEURISTIC / DEFAULT /
        EXHAUSTIVE). onnxruntime-gpu lists these providers even without a
        GPU and falls back to CPU silently, so ``_activate_impl`` checks
        ``session.get_providers()`` after creating the session.
        """
        if self.options.get("providers") is not None:
            return list(self.options["providers"])
        if not self.device.startswith("gpu"):
            return ["CPUExecutionProvider"]
        index = _gpu_index(self.device)
        available = list(ort.get_available_providers())
        providers: list = []
        if "TensorrtExecutionProvider" in available and self.option("use_trt_ep"):
            cache_path = self.option("trt_cache_dir")
            if not cache_path:
                # Without a path the EP writes its caches into the current directory.
                cache_path = cache_dir("engines") / "onnxruntime-trt" / f"{self.model.name}-{self.model.content_hash[:16]}"
            Path(cache_path).mkdir(parents=True, exist_ok=True)
            trt_options = {
                "device_id": index,
                "trt_fp16_enable": self.precision == "fp16",
                "trt_engine_cache_enable": True,
                "trt_engine_cache_path": str(cache_path),
                "trt_timing_cache_enable": True,
                "trt_timing_cache_path": str(cache_path),
            }
            spec = self.model.spec
            if spec is not None and spec.inputs and all(len(rule.min_shape) == len(rule.max_shape) for rule in spec.inputs):
                from .tensorrt.profiles import Profile, onnxruntime_trt_profile_options, rule_profile

                profile = Profile("full", tuple(item for rule in spec.inputs for item in rule_profile(rule).inputs))
                trt_options.update(onnxruntime_trt_profile_options(profile))
            providers.append(("TensorrtExecutionProvider", trt_options))
        if "CUDAExecutionProvider" in available:
            algo = str(self.option("cudnn_conv_algo_search")).upper()
            if algo not in _CONV_ALGO_SEARCH:
                raise BackendError(f"cudnn_conv_algo_search must be HEURISTIC, DEFAULT or EXHAUSTIVE; got {algo!r}.")
            providers.append(("CUDAExecutionProvider", {"device_id": index, "cudnn_conv_algo_search": algo}))
            if self.precision == "fp16" and not any(p[0] == "TensorrtExecutionProvider" for p in providers):
                log.warning(
                    "onnxruntime's CUDA execution provider runs %s in fp32: fp16 needs its TensorRT "
                    "execution provider (not available here: %s).", self.model.name, available,
                )
        if not providers:
            raise BackendUnavailableError(
                f"device {self.device!r} asks for a GPU but this onnxruntime has no GPU providers "
                f"(available: {available}). Install onnxruntime-gpu ({INSTALL_GPU}) "
                "in place of onnxruntime."
            )
        providers.append("CPUExecutionProvider")
        return providers

    def _activate_impl(self) -> None:
        ort = import_onnxruntime()
        if self.model.onnx_path is None:
            raise BackendError(f"{self.model.name} has no ONNX file; onnxruntime needs one.")
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        options.enable_cpu_mem_arena = bool(self.option("enable_cpu_mem_arena"))
        # Spinning worker threads hold the cores after each run. When anything else wants them
        # (the next model of the pipeline on another backend, other processes) that cost 2x here:
        # rec 6x3x48x320 with 2 threads at load 4 on 2 cores, min 113-166 ms spinning vs 66-76 ms not.
        options.add_session_config_entry(
            "session.intra_op.allow_spinning", "1" if self.option("allow_spinning") else "0"
        )
        levels = {
            "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
            "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
            "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
            "none": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
        }
        level = self.option("graph_optimization_level")
        if level not in levels:
            raise BackendError(f"graph_optimization_level must be one of {', '.join(levels)}; got {level!r}.")
        options.graph_optimization_level = levels[level]
        providers = self._providers(ort)
        try:
            self.session = ort.InferenceSession(
                str(self.model.onnx_path), sess_options=options, providers=providers
            )
        except Exception as exc:  # onnxruntime raises its own exception types
            raise BackendError(
                f"onnxruntime could not load {self.model.onnx_path} ({exc})."
            ) from exc
        # onnxruntime-gpu silently falls back to CPU when CUDA is unusable: check what we got.
        active = self.session.get_providers()
        wanted = [p if isinstance(p, str) else p[0] for p in providers]
        on_gpu = {"TensorrtExecutionProvider", "CUDAExecutionProvider"} & set(active)
        if self.device.startswith("gpu") and self.options.get("providers") is None and not on_gpu:
            self.session = None
            raise BackendUnavailableError(
                f"onnxruntime was asked to run {self.model.name} on {self.device} with {wanted[:-1]} "
                f"but the session runs on {active} only: onnxruntime-gpu fell back to the CPU. "
                "Its CUDA/cuDNN libraries are probably missing or do not match the driver "
                "(see onnxruntime's CUDA requirements); use device='cpu' to run on the CPU."
            )
        if wanted[0] != "CPUExecutionProvider" and wanted[0] not in active:
            log.warning(
                "onnxruntime asked for %s for %s but the session runs on %s (fell back).",
                wanted[0], self.model.name, active,
            )
        self.active_providers = active
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.output_names = [o.name for o in self.session.get_outputs()]

    def _infer_impl(self, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        try:
            outputs = self.session.run(self.output_names, feed)
        except Exception as exc:
            shapes = {k: v.shape for k, v in feed.items()}
            raise BackendError(f"onnxruntime failed on {self.model.name} with inputs {shapes}: {exc}") from exc
        return dict(zip(self.output_names, outputs))

    def _deactivate_impl(self) -> None:
        self.session = None

    def describe(self) -> str:
        providers = getattr(self, "active_providers", None) or ["?"]
        return f"onnxruntime [{providers[0]}] ({self.threads} threads)"
