"""TensorRT runner: ONNX → engine (built once, cached by content), run with cuda-python buffers.

What happens on :meth:`TensorRTRunner.activate`:

1. the device (``gpu:N``) is probed with cuda-python (:func:`hpi.device.check_gpu`);
2. optimization profiles come from the model's shape rules
   (:mod:`hpi.backends.trt_profiles`: det aspect buckets, rec width buckets);
3. the engine is loaded from ``$HPI_HOME/engines`` if an entry with the same
   key exists and validates (:mod:`hpi.backends.trt_cache`), else built from
   the ONNX file (explicit batch, FP32 or FP16, the builder timing cache
   persisted per GPU + TensorRT version, progress logged) and stored;
4. for FP16, the accuracy guard (:mod:`hpi.backends.trt_guard`) compares the
   engine with ONNX Runtime on CPU (or the FP32 engine) on rendered inputs at
   every profile's opt shape; if results change, the runner says so and uses
   an FP32 engine for this model. The verdict is stored in the engine's
   meta.json, so it runs once per engine;
5. one execution context per profile, one CUDA stream, and one pinned host +
   device buffer pair per I/O tensor, sized for the largest profile and
   reused by every call.

Thread safety: the contexts, buffers and stream belong to the runner, so
``infer`` holds the runner's lock for the whole call (``thread_safe =
False``); calls from several threads are safe and run one at a time. For
parallel GPU work create one runner per thread (they share the cached engine
file, not the contexts).

The TensorRT API used is the name-based one of TensorRT 10/11
(``num_io_tensors``, ``set_input_shape``, ``set_tensor_address``,
``execute_async_v3``); 8.6 also has it. TensorRT 11 removed
``BuilderFlag.FP16`` (networks are strongly typed): there FP16 means
converting the ONNX graph to float16 first (onnxconverter-common, inputs and
outputs kept float32).
"""

from __future__ import annotations

import logging
import math
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from .. import __version__ as hpi_version
from .._deps import import_cuda_runtime, import_tensorrt
from ..cache import atomic_write_bytes, file_lock, sha256_file
from ..device import GpuInfo, check_gpu, parse_device
from ..errors import BackendError, BackendUnavailableError
from .base import Runner
from .trt_cache import EngineCache, EngineKey
from .trt_cuda import CudaStream, HostDeviceBuffer, cuda_call, set_device
from .trt_guard import GuardResult, choose_precision, outputs_guard
from .trt_profiles import Profile, ProfileError, ShapeRange, profiles_as_json, profiles_for_rules, route

log = logging.getLogger("hpi")

MIN_TENSORRT = (8, 6)


# --------------------------------------------------------------------------- helpers


def tensorrt_version(trt) -> tuple[int, ...]:
    parts = []
    for piece in str(trt.__version__).split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def import_checked_tensorrt():
    """``tensorrt``, or a clear error when it is missing or older than 8.6."""
    trt = import_tensorrt()
    if tensorrt_version(trt)[:2] < MIN_TENSORRT:
        raise BackendUnavailableError(
            f"TensorRT {trt.__version__} is too old: hpi needs {MIN_TENSORRT[0]}.{MIN_TENSORRT[1]} or newer "
            "(the name-based tensor API and execute_async_v3). Install a newer TensorRT from NVIDIA."
        )
    return trt


def fp16_mode(trt) -> str:
    """How this TensorRT builds FP16: ``builder_flag`` (8.6/10.x) or ``onnx_float16`` (11.x, strongly typed)."""
    return "builder_flag" if hasattr(trt.BuilderFlag, "FP16") else "onnx_float16"


def builder_flags(trt, precision: str, options: Mapping) -> dict:
    """The builder settings that change the engine (part of its cache key)."""
    flags: dict[str, Any] = {
        "optimization_level": int(options.get("builder_optimization_level", 3)),
        "workspace_bytes": options.get("workspace_bytes"),
        # TF32 (on by default in TensorRT) rounds FP32 matmuls/convs to a 10-bit mantissa on Ampere+;
        # "fp32" means FP32 here, so it is off unless asked for (fp16 is the fast option).
        "tf32": bool(options.get("tf32", False)),
    }
    if precision == "fp16":
        flags["fp16_mode"] = fp16_mode(trt)
        if flags["fp16_mode"] == "onnx_float16":
            flags["float16_converter"] = _float16_converter_version()
    return flags


def _float16_converter_version() -> str:
    from importlib import metadata

    try:
        return "onnxconverter-common==" + metadata.version("onnxconverter-common")
    except metadata.PackageNotFoundError:
        return "onnxconverter-common (missing)"


# Ops kept in float32 when converting for TensorRT 11: the layer-norm pattern (mean, variance,
# square root, division) and softmax lose too much in float16 (measured on PP-OCRv4 rec: a decoded
# line changed with them converted).
FLOAT16_KEEP_FP32_OPS = ("ReduceMean", "Pow", "Sqrt", "Div", "Softmax")
FLOAT16_MAX = 65504.0


def convert_onnx_to_float16(onnx_path: Path, out_dir: Path) -> Path:
    """A float16 copy of an ONNX model (inputs/outputs stay float32), for TensorRT 11's strong typing.

    Three things keep the converted model's results those of the original
    (checked with ONNX Runtime on PP-OCRv4 det/rec and the cls model):
    ``Constant`` nodes become initializers (paddle2onnx stores every weight
    as a Constant, which the converter would otherwise convert blindly);
    nodes reading a constant that float16 cannot represent (det's head has a
    batch-norm variance of ~1e8) stay float32; and the ops in
    :data:`FLOAT16_KEEP_FP32_OPS` stay float32. The FP16 guard still checks
    the built engine.
    """
    try:
        from onnxconverter_common import float16
    except ImportError as exc:
        raise BackendUnavailableError(
            "precision='fp16' with TensorRT 11 or newer needs the ONNX model converted to float16 first "
            "(TensorRT 11 removed BuilderFlag.FP16); install onnxconverter-common "
            "(pip install onnxconverter-common), or use precision='fp32'."
        ) from exc
    import warnings

    from .._deps import import_onnx

    onnx = import_onnx()
    from onnx import numpy_helper

    model = onnx.load(str(onnx_path))
    _constants_to_initializers(onnx, model)
    too_large = set()
    for init in model.graph.initializer:
        if init.data_type == onnx.TensorProto.FLOAT:
            values = numpy_helper.to_array(init)
            if values.size and float(np.abs(values).max()) > FLOAT16_MAX:
                too_large.add(init.name)
    changed = True
    while changed:  # paddle2onnx routes weights through Identity nodes
        changed = False
        for node in model.graph.node:
            if node.op_type == "Identity" and node.input and node.input[0] in too_large and node.output[0] not in too_large:
                too_large.add(node.output[0])
                changed = True
    keep_fp32 = [n.name for n in model.graph.node if n.op_type != "Identity" and any(i in too_large for i in n.input)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one warning per clamped tiny weight otherwise
        converted = float16.convert_float_to_float16(
            model, keep_io_types=True, max_finite_val=FLOAT16_MAX,
            op_block_list=list(float16.DEFAULT_OP_BLOCK_LIST) + list(FLOAT16_KEEP_FP32_OPS),
            node_block_list=keep_fp32,
        )
    path = out_dir / "model_fp16.onnx"
    onnx.save(converted, str(path))
    return path


def _constants_to_initializers(onnx, model) -> None:
    nodes = []
    for node in model.graph.node:
        if node.op_type == "Constant" and len(node.attribute) == 1 and node.attribute[0].name == "value":
            tensor = onnx.TensorProto()
            tensor.CopyFrom(node.attribute[0].t)
            tensor.name = node.output[0]
            model.graph.initializer.append(tensor)
        else:
            nodes.append(node)
    del model.graph.node[:]
    model.graph.node.extend(nodes)


def _dims(dims) -> tuple[int, ...]:
    return tuple(int(d) for d in dims)


def _progress_monitor(trt, label: str):
    """A ``trt.IProgressMonitor`` that logs the builder's top-level phases (None before TensorRT 10)."""
    if not hasattr(trt, "IProgressMonitor"):
        return None

    class _BuildProgress(trt.IProgressMonitor):
        # TensorRT calls these from its own threads: state behind a lock.
        def __init__(self) -> None:
            trt.IProgressMonitor.__init__(self)
            self._lock = threading.Lock()
            self._started: dict[str, float] = {}
            self._top: set[str] = set()

        def phase_start(self, phase_name, parent_phase, num_steps):
            with self._lock:
                self._started[phase_name] = time.perf_counter()
                if parent_phase is None:
                    self._top.add(phase_name)
                    log.info("Building %s: %s (%d steps) ...", label, phase_name, num_steps)

        def step_complete(self, phase_name, step):
            return True  # never cancel the build

        def phase_finish(self, phase_name):
            with self._lock:
                start = self._started.pop(phase_name, None)
                if phase_name in self._top and start is not None:
                    self._top.discard(phase_name)
                    log.info("Building %s: %s done in %.1f s.", label, phase_name, time.perf_counter() - start)

    return _BuildProgress()


def _load_timing_cache(config, path: Path):
    data = b""
    if path.is_file():
        data = path.read_bytes()
    try:
        cache = config.create_timing_cache(data)
    except Exception as exc:  # TensorRT raises its own error types for a corrupt cache
        log.warning("TensorRT timing cache %s is unusable (%s); starting a new one.", path, exc)
        cache = None
    if cache is None:
        cache = config.create_timing_cache(b"")
    if not config.set_timing_cache(cache, ignore_mismatch=False):
        log.warning("TensorRT rejected the timing cache %s; building without it.", path)
    return cache


def _save_timing_cache(config, path: Path) -> None:
    """Merge this build's timing cache with what is on disk and write it back atomically."""
    cache = config.get_timing_cache()
    if cache is None:
        return
    with file_lock(f"trt-timing-{path.name}"):
        if path.is_file():
            try:
                previous = config.create_timing_cache(path.read_bytes())
                if previous is not None:
                    cache.combine(previous, ignore_mismatch=True)
            except Exception as exc:
                log.warning("Could not merge the old TensorRT timing cache %s (%s); replacing it.", path, exc)
        atomic_write_bytes(path, memoryview(cache.serialize()).tobytes())


def build_serialized_engine(
    trt,
    onnx_path: Path,
    profiles: Sequence[Profile],
    precision: str,
    flags: Mapping,
    timing_cache_path: Path | None,
    label: str,
) -> bytes:
    """Build an engine from an ONNX file; returns the serialized plan."""
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    # Explicit batch is the only mode in TensorRT 10+ (flag 0); 8.6 still needs the flag.
    network_flags = 0 if tensorrt_version(trt)[0] >= 10 else 1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH)
    network = builder.create_network(network_flags)
    parser = trt.OnnxParser(network, logger)
    with tempfile.TemporaryDirectory(prefix="hpi-trt-") as tmp:
        source = Path(onnx_path)
        if precision == "fp16" and flags.get("fp16_mode") == "onnx_float16":
            source = convert_onnx_to_float16(source, Path(tmp))
        if not parser.parse_from_file(str(source)):
            errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
            raise BackendError(f"TensorRT's ONNX parser rejected {onnx_path}: {errors or 'no details'}.")

    _check_profiles_match_network(network, profiles, onnx_path)

    config = builder.create_builder_config()
    if flags.get("workspace_bytes"):
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, int(flags["workspace_bytes"]))
    if hasattr(config, "builder_optimization_level"):
        config.builder_optimization_level = int(flags.get("optimization_level", 3))
    if precision == "fp16" and flags.get("fp16_mode") == "builder_flag":
        config.set_flag(trt.BuilderFlag.FP16)
    if not flags.get("tf32", False) and hasattr(trt.BuilderFlag, "TF32"):
        config.clear_flag(trt.BuilderFlag.TF32)
    for index, profile in enumerate(profiles):
        trt_profile = builder.create_optimization_profile()
        for name, shape_range in profile.inputs:
            trt_profile.set_shape(name, shape_range.min, shape_range.opt, shape_range.max)
        added = config.add_optimization_profile(trt_profile)
        if added != index:
            raise BackendError(f"TensorRT rejected optimization profile {profile.describe()} (returned {added}).")
    if timing_cache_path is not None:
        _load_timing_cache(config, timing_cache_path)
    monitor = _progress_monitor(trt, label)
    if monitor is not None:
        config.progress_monitor = monitor

    log.info("Building TensorRT engine for %s with %d profile(s); this can take minutes.", label, len(profiles))
    plan = builder.build_serialized_network(network, config)
    if plan is None:
        raise BackendError(
            f"TensorRT failed to build an engine for {label} (see TensorRT's messages above). "
            "Try precision='fp32', or another backend (backend='onnxruntime')."
        )
    if timing_cache_path is not None:
        try:
            _save_timing_cache(config, timing_cache_path)
        except OSError as exc:
            log.warning("Could not save the TensorRT timing cache %s (%s).", timing_cache_path, exc)
    return memoryview(plan).tobytes()


def _check_profiles_match_network(network, profiles: Sequence[Profile], onnx_path: Path) -> None:
    inputs = {}
    for i in range(network.num_inputs):
        tensor = network.get_input(i)
        inputs[tensor.name] = _dims(tensor.shape)
    for profile in profiles:
        unknown = [name for name in profile.input_names if name not in inputs]
        if unknown:
            raise ProfileError(
                f"Profile {profile.name!r} names inputs {unknown} that {onnx_path} does not have "
                f"(its inputs: {sorted(inputs)})."
            )
        for name, shape in inputs.items():
            if any(d < 0 for d in shape) and name not in profile.input_names:
                raise ProfileError(
                    f"Input {name!r} of {onnx_path} has dynamic shape {shape} but profile "
                    f"{profile.name!r} gives it no range."
                )


def onnx_input_profiles(onnx_path: Path) -> list[Profile]:
    """One profile from the ONNX file's own input shapes, when every dimension is fixed."""
    from .._deps import import_onnx

    onnx = import_onnx()
    model = onnx.load(str(onnx_path), load_external_data=False)
    initializers = {init.name for init in model.graph.initializer}
    inputs = []
    for value in model.graph.input:
        if value.name in initializers:
            continue
        dims = [d.dim_value if d.HasField("dim_value") else -1 for d in value.type.tensor_type.shape.dim]
        if any(d <= 0 for d in dims):
            raise ProfileError(
                f"{onnx_path} input {value.name!r} has dynamic shape {dims} and the model has no shape "
                "rules; pass options['profiles'] = [{'name': ..., 'inputs': {name: {'min', 'opt', 'max'}}}]."
            )
        shape = tuple(dims)
        inputs.append((value.name, ShapeRange(shape, shape, shape)))
    return [Profile("static", tuple(inputs))]


# --------------------------------------------------------------------------- execution


class _Execution:
    """A deserialized engine ready to run: one context per profile, shared stream and buffers.

    The buffers are sized for the largest shape any profile allows and shared
    by the contexts; the runner's lock serialises calls, so sharing is safe.
    """

    def __init__(self, trt, plan: bytes, profiles: Sequence[Profile], label: str) -> None:
        self.trt = trt
        self.label = label
        self.profiles = list(profiles)
        self.buffers: dict[str, HostDeviceBuffer] = {}
        self.contexts: list = []
        self.stream: CudaStream | None = None
        self.logger = trt.Logger(trt.Logger.WARNING)
        self.runtime = trt.Runtime(self.logger)
        self.engine = self.runtime.deserialize_cuda_engine(plan)
        if self.engine is None:
            raise _PlanRejected(f"TensorRT {trt.__version__} could not deserialize the engine")
        try:
            self._setup()
        except BaseException:
            self.close()
            raise

    def _setup(self) -> None:
        trt, engine = self.trt, self.engine
        names = [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)]
        self.input_names = [n for n in names if engine.get_tensor_mode(n) == trt.TensorIOMode.INPUT]
        self.output_names = [n for n in names if engine.get_tensor_mode(n) == trt.TensorIOMode.OUTPUT]
        self.dtypes = {n: np.dtype(trt.nptype(engine.get_tensor_dtype(n))) for n in names}
        if engine.num_optimization_profiles != len(self.profiles):
            raise _PlanRejected(
                f"the engine has {engine.num_optimization_profiles} profiles, hpi expected {len(self.profiles)}"
            )
        self.stream = CudaStream()
        largest: dict[str, int] = {n: 1 for n in names}
        for index, profile in enumerate(self.profiles):
            context = engine.create_execution_context()
            if context is None:
                raise BackendError(f"TensorRT could not create an execution context for {self.label} (out of GPU memory?).")
            if not context.set_optimization_profile_async(index, self.stream.handle):
                raise BackendError(f"TensorRT could not select optimization profile {index} ({profile.name}).")
            for name in self.input_names:
                engine_max = _dims(engine.get_tensor_profile_shape(name, index)[2])
                if engine_max != profile[name].max:
                    raise _PlanRejected(f"profile {index} of the engine has max {engine_max} for {name!r}, expected {profile[name].max}")
                if not context.set_input_shape(name, engine_max):
                    raise BackendError(f"TensorRT refused input shape {engine_max} for {name!r}.")
            for name in names:
                shape = _dims(context.get_tensor_shape(name))
                if any(d < 0 for d in shape):
                    raise BackendError(
                        f"{self.label}: output {name!r} has a data-dependent shape {shape}; hpi's TensorRT runner "
                        "needs output shapes known from the input shapes."
                    )
                largest[name] = max(largest[name], math.prod(shape))
            self.contexts.append(context)
        for name in names:
            self.buffers[name] = HostDeviceBuffer(largest[name] * self.dtypes[name].itemsize, self.dtypes[name], name)
        for context in self.contexts:
            for name in names:
                if not context.set_tensor_address(name, self.buffers[name].device_ptr):
                    raise BackendError(f"TensorRT refused the device address of {name!r}.")
        self.stream.synchronize()

    def infer(self, feed: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        shapes = {name: tuple(feed[name].shape) for name in self.input_names}
        index = route(self.profiles, shapes)
        context = self.contexts[index]
        stream = self.stream
        for name in self.input_names:
            array = feed[name]
            if not context.set_input_shape(name, shapes[name]):
                raise BackendError(f"TensorRT refused input shape {shapes[name]} for {name!r} in profile {self.profiles[index].name}.")
            staged = self.buffers[name].stage(array)
            self.buffers[name].to_device_async(staged, stream)
        out_shapes = {name: _dims(context.get_tensor_shape(name)) for name in self.output_names}
        for name, shape in out_shapes.items():
            # Never let TensorRT or the copy back write past a buffer sized at activation.
            if any(d < 0 for d in shape) or math.prod(shape) > self.buffers[name].capacity:
                raise BackendError(
                    f"{self.label}: output {name!r} has shape {shape} for inputs {shapes}, larger than its buffer "
                    f"({self.buffers[name].capacity} elements, sized at the profiles' max)."
                )
        if not context.execute_async_v3(stream.handle):
            raise BackendError(f"TensorRT execute_async_v3 failed for {self.label} with inputs {shapes}.")
        for name in self.output_names:
            nbytes = math.prod(out_shapes[name]) * self.dtypes[name].itemsize
            self.buffers[name].to_host_async(nbytes, stream)
        stream.synchronize()
        return {name: self.buffers[name].read(out_shapes[name]) for name in self.output_names}

    def close(self) -> None:
        # Contexts before the engine before the runtime, then the memory they pointed at.
        if self.stream is not None:
            try:
                self.stream.synchronize()
            except BackendError:
                pass
        self.contexts = []
        self.engine = None
        self.runtime = None
        for buffer in self.buffers.values():
            buffer.free()
        self.buffers = {}
        if self.stream is not None:
            try:
                self.stream.close()
            except BackendError:
                pass
            self.stream = None


class _PlanRejected(BackendError):
    """A cached plan that TensorRT will not load or that does not match its metadata."""


# --------------------------------------------------------------------------- runner


class TensorRTRunner(Runner):
    """TensorRT on an NVIDIA GPU.

    Options: ``profiles`` (explicit list of profile dicts), ``det_limit``
    (960), ``rec_widths`` ((320, 960)), ``max_batch``, ``workspace_bytes``,
    ``builder_optimization_level`` (3), ``tf32`` (False: FP32 means FP32),
    ``accuracy_guard`` (True: check FP16 against a reference and fall back
    to FP32), ``engine_dir`` (default ``$HPI_HOME/engines``).

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
        rules = self.model.spec.inputs if self.model.spec is not None else ()
        if rules or self.options.get("profiles"):
            self.profiles = profiles_for_rules(rules, self.options)
        else:
            self.profiles = onnx_input_profiles(Path(self.model.onnx_path))
        self.cache = EngineCache(Path(self.options["engine_dir"]) if self.options.get("engine_dir") else None)
        self.onnx_sha256 = sha256_file(self.model.onnx_path)
        self.requested_precision = self.precision
        self.engine_info: dict[str, Any] = {"gpu": self.gpu.as_dict(), "tensorrt": self.trt.__version__}

        execution = self._open(self.precision)
        try:
            if self.precision == "fp16" and self.options.get("accuracy_guard", True):
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

    def _open(self, precision: str) -> _Execution:
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
                execution = _Execution(self.trt, plan, self.profiles, label)
            except _PlanRejected as exc:
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
        """Representative inputs at every profile's opt shape (see :func:`trt_guard.representative_feeds`)."""
        from .trt_guard import representative_feeds

        return representative_feeds(self.model.spec, self.profiles)

    def _reference_outputs(self, feeds: list[dict]) -> tuple[str, list[dict]]:
        """Outputs of ONNX Runtime on CPU (or, without it, of the FP32 engine) for ``feeds``."""
        try:
            from .onnxruntime import OnnxRuntimeRunner

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

    def _guard_verdict(self, execution: _Execution) -> GuardResult:
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
        :class:`~hpi.backends.trt_profiles.ProfileError` instead of rebuilding.
        """
        name = name or self.input_names[0]
        shapes = [profile[name].max for profile in self.profiles if name in profile.input_names]
        if not shapes:
            raise KeyError(name)
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
    from .. import _deps
    from ..device import driver_status, probe_gpus
    from ..errors import DeviceError

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
