"""TensorRT runner: ONNX → engine (built once, cached by content), run with cuda-python buffers.

What happens on :meth:`TensorRTRunner.activate`:

1. the device (``gpu:N``) is probed with cuda-python (:func:`hpi.device.check_gpu`);
2. optimization profiles come from the model's shape rules and its task's
   recipe (:mod:`.profiles`: det aspect buckets, rec width buckets);
3. the engine is loaded from ``$HPI_HOME/engines`` if an entry with the same
   key exists and validates (:mod:`.cache`), else built from the ONNX file
   (:mod:`.build`: explicit batch, FP32 or FP16, the builder timing cache
   persisted per GPU + TensorRT version, progress logged) and stored;
4. for FP16, the accuracy guard (:mod:`.guard`) compares the engine with
   ONNX Runtime on CPU (or the FP32 engine) on rendered inputs at every
   profile's opt shape; if results change, the runner says so and uses an
   FP32 engine for this model. The verdict is stored in the engine's
   meta.json, so it runs once per engine;
5. one execution context per profile, one CUDA stream, and one pinned host +
   device buffer pair per I/O tensor, sized for the largest profile and
   reused by every call (:mod:`.execution`).

Thread safety: the contexts, buffers and stream belong to the runner, so
``infer`` holds the runner's lock for the whole call (``thread_safe =
False``); calls from several threads are safe and run one at a time. For
parallel GPU work create one runner per thread (they share the cached engine
file, not the contexts).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from ... import __version__ as hpi_version
from ..._deps import import_cuda_runtime, import_tensorrt
from ...cache import sha256_file
from ...device import GpuInfo, check_gpu, parse_device
from ...errors import BackendError, BackendUnavailableError
from ..base import Runner
from .build import build_serialized_engine, builder_flags, tensorrt_version
from .cache import EngineCache, EngineKey
from .cuda import set_device
from .execution import Execution, PlanRejected
from .guard import GuardResult, choose_precision, outputs_guard, representative_feeds
from .profiles import onnx_input_profiles, profiles_as_json, profiles_for_rules

log = logging.getLogger(__name__)

MIN_TENSORRT = (8, 6)



def import_checked_tensorrt():
    """``tensorrt``, or a clear error when it is missing or older than 8.6."""
    trt = import_tensorrt()
    if tensorrt_version(trt)[:2] < MIN_TENSORRT:
        raise BackendUnavailableError(
            f"TensorRT {trt.__version__} is too old: hpi needs {MIN_TENSORRT[0]}.{MIN_TENSORRT[1]} or newer "
            "(the name-based tensor API and execute_async_v3). Install a newer TensorRT from NVIDIA."
        )
    return trt


# --------------------------------------------------------------------------- runner


class TensorRTRunner(Runner):
    """TensorRT on an NVIDIA GPU.

    Options (``BACKENDS["tensorrt"].options``): ``profiles`` (explicit
    list of profile dicts), ``det_limit``, ``rec_widths``, ``max_batch``,
    ``workspace_bytes``, ``builder_optimization_level``, ``tf32`` (off:
    FP32 means FP32), ``accuracy_guard`` (check FP16 against a reference and
    fall back to FP32), ``engine_dir`` (default ``$HPI_HOME/engines``).

    ``infer`` holds the runner's lock for the whole call (see the module
    docstring): one runner serves one call at a time.
    """

    backend_name = "tensorrt"
    thread_safe = False

    def _activate_impl(self) -> None:
        self.trt = import_checked_tensorrt()
        import_cuda_runtime()
        if self.model.onnx_path is None:
            raise BackendError(f"{self.model.name} has no ONNX file; TensorRT builds engines from ONNX.")
        device = parse_device(self.device)
        self.gpu: GpuInfo = check_gpu(device)
        set_device(self.gpu.index)
        if self.precision not in ("fp32", "fp16"):
            raise BackendError(f"TensorRT precision {self.precision!r} is not supported; use 'fp32' or 'fp16'.")
        spec = self.model.spec
        rules = spec.inputs if spec is not None else ()
        if rules or self.option("profiles"):
            self.profiles = profiles_for_rules(rules, self.options, task=spec.task if spec is not None else None)
        else:
            self.profiles = onnx_input_profiles(Path(self.model.onnx_path), self.option("max_batch"))
        engine_dir = self.option("engine_dir")
        self.cache = EngineCache(Path(engine_dir) if engine_dir else None)
        self.onnx_sha256 = sha256_file(self.model.onnx_path)
        self.requested_precision = self.precision
        self.engine_info: dict[str, Any] = {"gpu": self.gpu.as_dict(), "tensorrt": self.trt.__version__}

        execution = self._open(self.precision)
        try:
            if self.precision == "fp16" and self.option("accuracy_guard"):
                verdict = self._guard_verdict(execution)
                precision, message = choose_precision("fp16", verdict)
                self.engine_info["accuracy_guard"] = verdict.as_dict()
                if message:
                    log.warning("TensorRT %s: %s.", self.model.name, message)
                    execution.close()
                    execution = None
                    execution = self._open("fp32")
                    self.precision = precision
        except BaseException:
            if execution is not None:
                execution.close()  # GPU memory must not outlive a failed activation
            raise
        self.execution = execution
        self.input_names = list(execution.input_names)
        self.output_names = list(execution.output_names)

    # -- engines ------------------------------------------------------------
    def engine_key(self, precision: str) -> EngineKey:
        return EngineKey(
            model_name=self.model.name,
            onnx_sha256=self.onnx_sha256,
            tensorrt_version=str(self.trt.__version__),
            gpu_name=self.gpu.name,
            compute_capability=self.gpu.compute_capability,
            precision=precision,
            profiles=tuple(profiles_as_json(self.profiles)),
            builder_flags=builder_flags(self.trt, precision, self.options),
        )

    def _open(self, precision: str) -> Execution:
        """Load (or build) the engine for ``precision`` and prepare it to run; rebuild once if rejected."""
        key = self.engine_key(precision)
        label = f"{self.model.name} ({precision}, {self.gpu.name})"

        def build() -> bytes:
            return build_serialized_engine(
                self.trt, Path(self.model.onnx_path), self.profiles, precision, key.builder_flags,
                self.cache.timing_cache_path(key), label,
            )

        extra = {"hpi_version": hpi_version, "onnx_path": str(self.model.onnx_path)}
        for attempt in (1, 2):
            plan, built = self.cache.get_or_build(key, build, extra)
            try:
                execution = Execution(self.trt, plan, self.profiles, label)
            except PlanRejected as exc:
                if attempt == 2:
                    raise BackendError(f"TensorRT rejected a freshly built engine for {label}: {exc}.") from exc
                self.cache.invalidate(key, str(exc))
                continue
            self.engine_info[precision] = {"engine_dir": str(self.cache.entry_dir(key)), "built": built}
            self._key = key
            return execution
        raise AssertionError("unreachable")

    # -- FP16 accuracy guard ------------------------------------------------
    def guard_inputs(self) -> list[dict[str, np.ndarray]]:
        """Representative inputs at every profile's opt shape (see :func:`.guard.representative_feeds`)."""
        return representative_feeds(self.model.spec, self.profiles)

    def _reference_outputs(self, feeds: list[dict]) -> tuple[str, list[dict]]:
        """Outputs of ONNX Runtime on CPU (or, without it, of the FP32 engine) for ``feeds``."""
        try:
            from ..onnxruntime import OnnxRuntimeRunner

            with OnnxRuntimeRunner(self.model, device="cpu", threads=self.threads,
                                   options={"providers": ["CPUExecutionProvider"]}) as reference:
                return "onnxruntime-cpu", [reference.infer(feed) for feed in feeds]
        except BackendError as exc:  # no onnxruntime, or it cannot run this model: use the FP32 engine
            log.info("FP16 guard for %s: ONNX Runtime CPU unavailable (%s); comparing with the FP32 engine.", self.model.name, exc)
            execution = self._open("fp32")
            try:
                return "tensorrt-fp32", [execution.infer(feed) for feed in feeds]
            finally:
                execution.close()

    def _guard_verdict(self, execution: Execution) -> GuardResult:
        key = self._key
        meta = self.cache.read_meta(key) or {}
        stored = meta.get("accuracy_guard")
        if isinstance(stored, dict) and "ok" in stored:
            return GuardResult(bool(stored["ok"]), str(stored.get("reason", "")), {"cached": True})
        feeds = self.guard_inputs()
        candidates = [execution.infer(feed) for feed in feeds]
        reference_name, references = self._reference_outputs(feeds)
        spec = self.model.spec
        verdict = outputs_guard(spec.task if spec else None, references, candidates, spec.postprocess if spec else None)
        verdict = GuardResult(verdict.ok, verdict.reason, {**verdict.details, "reference": reference_name})
        log.info("TensorRT %s FP16 accuracy guard vs %s: %s (%s).", self.model.name, reference_name,
                 "ok" if verdict.ok else "FAILED", verdict.reason)
        self.cache.update_meta(key, accuracy_guard=verdict.as_dict())
        return verdict

    def max_input_shape(self, name: str | None = None) -> tuple[int, ...]:
        """The largest shape (per dimension, over all profiles) input ``name`` accepts.

        A pipeline on TensorRT should keep its inputs inside this (e.g. clamp
        the detection side limit): shapes outside every profile raise a
        :class:`~hpi.backends.tensorrt.profiles.ProfileError` instead of rebuilding.
        """
        name = name or self.input_names[0]
        shapes = [profile[name].max for profile in self.profiles if name in profile.input_names]
        if not shapes:
            raise BackendError(f"{name!r} is not an input of {self.model.name} (its inputs: {self.input_names}).")
        return tuple(max(dims) for dims in zip(*shapes))

    # -- inference ----------------------------------------------------------
    def _infer_impl(self, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        set_device(self.gpu.index)  # the current device is per thread
        return self.execution.infer(feed)

    def _deactivate_impl(self) -> None:
        execution = getattr(self, "execution", None)
        if execution is not None:
            execution.close()
        self.execution = None

    def describe(self) -> str:
        gpu = getattr(self, "gpu", None)
        where = f", {gpu.name}" if gpu else ""
        fallback = " (fell back from fp16)" if getattr(self, "requested_precision", self.precision) != self.precision else ""
        return f"tensorrt ({self.precision}{fallback}, {len(getattr(self, 'profiles', []))} profiles{where})"


def tensorrt_status() -> dict:
    """What the TensorRT path has here: packages, versions, GPUs (for ``hpi info`` and the self-check)."""
    from ... import _deps
    from ...device import driver_status, probe_gpus
    from ...errors import DeviceError

    status: dict[str, Any] = {
        "tensorrt": _deps.version_of("tensorrt") if _deps.is_available("tensorrt") else None,
        "cuda_python": _deps.version_of("cuda") if _deps.is_available("cuda") else None,
    }
    try:
        status["gpus"] = [gpu.as_dict() for gpu in probe_gpus()]
        status["driver"] = driver_status()
    except DeviceError as exc:
        status["gpus"] = []
        status["driver"] = str(exc)
    return status
