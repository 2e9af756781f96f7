"""Building a TensorRT engine from ONNX: network parsing, builder flags, FP16 conversion, timing cache.

Pure functions of ``trt`` (the imported module), so tests drive them with a
fake. The TensorRT API used is the name-based one of TensorRT 10/11; 8.6
also has it. TensorRT 11 removed ``BuilderFlag.FP16`` (networks are strongly
typed): there FP16 means converting the ONNX graph to float16 first
(onnxconverter-common, inputs and outputs kept float32).
"""

from __future__ import annotations

import logging
from importlib import metadata
import tempfile
import threading
import time
import warnings
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ..._deps import import_onnx
from ...cache import atomic_write_bytes, file_lock
from ...errors import BackendError, BackendUnavailableError
from .profiles import Profile, ProfileError, as_shape

log = logging.getLogger(__name__)


def tensorrt_version(trt) -> tuple[int, ...]:
    parts = []
    for piece in str(trt.__version__).split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


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
    if plan is None or not memoryview(plan).nbytes:
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
        inputs[tensor.name] = as_shape(tensor.shape)
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
