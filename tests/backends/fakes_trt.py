"""Fakes of cuda-python's runtime and of ``tensorrt``, for driving hpi's TensorRT code without a GPU.

They follow TensorRT's and cuda-python's documented contracts (name-based
tensors, optimization profiles that reject shapes outside [min, max],
``execute_async_v3`` reading/writing the addresses given by
``set_tensor_address``, cuda-python's ``(err, value)`` tuples) and move real
bytes: "device" memory is host memory, ``cudaMemcpyAsync`` is ``memmove``, and
the fake engine computes ``sigmoid(mean over channels)`` of its input
(:func:`model_function`). :func:`install_fakes` routes hpi to them.
"""

from __future__ import annotations

import ctypes
import json
import threading
import types

import numpy as np

from hpi import _deps
from hpi import device as device_mod
from hpi.backends.tensorrt import cuda as trt_cuda
from hpi.backends.tensorrt import runner as trt_runner

# --------------------------------------------------------------------------- fake CUDA


class _Err:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


class FakeCudart:
    """cuda.bindings.runtime's calls used by hpi, over host memory."""

    def __init__(self):
        self.ok = _Err("cudaSuccess")
        self.cudaError_t = types.SimpleNamespace(cudaSuccess=self.ok)
        self.cudaMemcpyKind = types.SimpleNamespace(
            cudaMemcpyHostToDevice="H2D", cudaMemcpyDeviceToHost="D2H", cudaMemcpyDeviceToDevice="D2D")
        self.blocks: dict[int, ctypes.Array] = {}
        self.mallocs = 0
        self.copies: list[tuple[str, int]] = []
        self.current_device = {}
        self.streams = 0

    def cudaGetErrorName(self, err):
        return self.ok, err.name.encode()

    def cudaGetErrorString(self, err):
        return self.ok, b"fake"

    def cudaGetDeviceCount(self):
        return self.ok, 1

    def cudaGetDeviceProperties(self, index):
        return self.ok, types.SimpleNamespace(name=b"Fake GPU 80GB\0", major=9, minor=0, totalGlobalMem=80 << 30)

    def cudaDriverGetVersion(self):
        return self.ok, 13000

    def cudaRuntimeGetVersion(self):
        return self.ok, 13040

    def cudaSetDevice(self, index):
        self.current_device[threading.get_ident()] = index
        return (self.ok,)

    def _alloc(self, nbytes):
        block = (ctypes.c_ubyte * nbytes)()
        address = ctypes.addressof(block)
        self.blocks[address] = block
        self.mallocs += 1
        return self.ok, address

    cudaMalloc = _alloc
    cudaMallocHost = _alloc

    def _free(self, address):
        assert address in self.blocks, "free of an address that was not allocated"
        del self.blocks[address]
        return (self.ok,)

    cudaFree = _free
    cudaFreeHost = _free

    def cudaMemcpyAsync(self, dst, src, count, kind, stream):
        assert isinstance(dst, int) and isinstance(src, int)
        ctypes.memmove(dst, src, count)
        self.copies.append((kind, count))
        return (self.ok,)

    def cudaStreamCreate(self):
        self.streams += 1
        return self.ok, 1000 + self.streams

    def cudaStreamSynchronize(self, stream):
        return (self.ok,)

    def cudaStreamDestroy(self, stream):
        return (self.ok,)


# --------------------------------------------------------------------------- fake TensorRT


def _read(address, shape, dtype=np.float32):
    count = int(np.prod(shape))
    raw = (ctypes.c_ubyte * (count * 4)).from_address(address)
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def _write(address, array):
    array = np.ascontiguousarray(array, np.float32)
    ctypes.memmove(address, array.ctypes.data, array.nbytes)


def model_function(x, fp16=False, broken_fp16=False):
    """What the fake engine and the tiny ONNX model compute: sigmoid(mean over channels)."""
    if fp16:
        x = x.astype(np.float16)
    y = 1.0 / (1.0 + np.exp(-x.mean(axis=1, keepdims=True, dtype=x.dtype)))
    y = y.astype(np.float32)
    return 1.0 - y if broken_fp16 else y


class FakeTensorRT(types.ModuleType):
    """A fake ``tensorrt`` whose engines compute :func:`model_function` on their one input into output "y".

    A subclass runs another model by overriding :meth:`io_names`,
    :meth:`output_shape` and :meth:`compute`; the plan records the ONNX path
    the network was parsed from.
    """

    def io_names(self, plan) -> tuple[list[str], list[str]]:
        """(inputs, outputs) of the engine built as ``plan``: the parsed network's input (ONNX files name it
        ``x``, UVDoc ``input``), one output."""
        return list(plan.get("inputs") or ["x"])[:1], ["y"]

    def output_shape(self, plan, name, input_shapes) -> list[int]:
        n, _, h, w = input_shapes[self.io_names(plan)[0][0]]
        return [n, 1, h, w]

    def compute(self, plan, feed) -> dict:
        x = feed[self.io_names(plan)[0][0]]
        y = model_function(x, fp16=plan["fp16"], broken_fp16=self.broken_fp16 and plan["fp16"])
        return {"y": y}

    def __init__(self, version="10.9.0.34", with_fp16_flag=True):
        super().__init__("tensorrt")
        self.__version__ = version
        self.builds = 0
        self.executions: list[int] = []  # profile index of each execute_async_v3
        self.broken_fp16 = False
        self.reject_plans = False
        trt = self

        class Logger:
            WARNING = 2

            def __init__(self, severity=2):
                self.severity = severity

        class IProgressMonitor:
            def __init__(self):
                pass

        self.Logger = Logger
        self.IProgressMonitor = IProgressMonitor
        flags = {"TF32": "tf32"}
        if with_fp16_flag:
            flags["FP16"] = "fp16"
        self.BuilderFlag = types.SimpleNamespace(**flags)
        self.MemoryPoolType = types.SimpleNamespace(WORKSPACE="workspace")
        self.TensorIOMode = types.SimpleNamespace(INPUT="in", OUTPUT="out")
        self.NetworkDefinitionCreationFlag = types.SimpleNamespace(EXPLICIT_BATCH=0)
        self.nptype = lambda dtype: np.float32

        class Tensor:
            def __init__(self, name, shape):
                self.name, self.shape = name, shape

        class Network:
            def __init__(self):
                self.inputs = []
                self.onnx_path = None

            @property
            def num_inputs(self):
                return len(self.inputs)

            def get_input(self, i):
                return self.inputs[i]

        class Parser:
            def __init__(self, network, logger):
                self.network = network
                self.num_errors = 0

            def parse_from_file(self, path):
                import onnx

                self.network.onnx_path = str(path)
                model = onnx.load(path)
                for value in model.graph.input:
                    dims = [d.dim_value if d.HasField("dim_value") else -1 for d in value.type.tensor_type.shape.dim]
                    self.network.inputs.append(Tensor(value.name, dims))
                return True

        class OptimizationProfile:
            def __init__(self):
                self.shapes = {}

            def set_shape(self, name, mn, opt, mx):
                self.shapes[name] = [list(mn), list(opt), list(mx)]

        class TimingCache:
            def __init__(self, data):
                self.data = data or b"TIMING"

            def serialize(self):
                return self.data + b"+"

            def combine(self, other, ignore_mismatch):
                return True

        class Config:
            def __init__(self):
                self.flags, self.profiles, self.timing_cache = set(), [], None
                self.builder_optimization_level = 3
                self.progress_monitor = None

            def set_flag(self, flag):
                self.flags.add(flag)

            def clear_flag(self, flag):
                self.flags.discard(flag)

            def set_memory_pool_limit(self, pool, size):
                pass

            def add_optimization_profile(self, profile):
                self.profiles.append(profile.shapes)
                return len(self.profiles) - 1

            def create_timing_cache(self, data):
                return TimingCache(data)

            def set_timing_cache(self, cache, ignore_mismatch):
                self.timing_cache = cache
                return True

            def get_timing_cache(self):
                return self.timing_cache

        class Builder:
            def __init__(self, logger):
                pass

            def create_network(self, flags):
                return Network()

            def create_builder_config(self):
                return Config()

            def create_optimization_profile(self):
                return OptimizationProfile()

            def build_serialized_network(self, network, config):
                trt.builds += 1
                if config.progress_monitor is not None:
                    config.progress_monitor.phase_start("Building engine", None, 2)
                    config.progress_monitor.step_complete("Building engine", 0)
                    config.progress_monitor.phase_finish("Building engine")
                plan = {"profiles": config.profiles, "fp16": "fp16" in config.flags, "version": trt.__version__,
                        "inputs": [t.name for t in network.inputs], "onnx_path": network.onnx_path}
                return bytearray(b"FAKEPLAN" + json.dumps(plan).encode())

        class Context:
            def __init__(self, engine):
                self.engine, self.profile, self.shapes, self.addresses = engine, 0, {}, {}

            def set_optimization_profile_async(self, index, stream):
                assert isinstance(stream, int)
                self.profile = index
                return True

            def set_input_shape(self, name, shape):
                mn, _, mx = self.engine.plan["profiles"][self.profile][name]
                shape = [int(d) for d in shape]
                if len(shape) != len(mn) or any(not lo <= d <= hi for lo, d, hi in zip(mn, shape, mx)):
                    return False  # TensorRT refuses shapes outside the active profile
                self.shapes[name] = shape
                return True

            def get_tensor_shape(self, name):
                if name in self.engine.inputs:
                    return self.shapes.get(name, [-1] * 4)
                return list(trt.output_shape(self.engine.plan, name, self.shapes))

            def set_tensor_address(self, name, address):
                self.addresses[name] = address
                return True

            def execute_async_v3(self, stream):
                assert isinstance(stream, int)
                trt.executions.append(self.profile)
                feed = {name: _read(self.addresses[name], self.shapes[name]) for name in self.engine.inputs}
                for name, value in trt.compute(self.engine.plan, feed).items():
                    _write(self.addresses[name], value)
                return True

        class Engine:
            def __init__(self, plan):
                self.plan = plan
                self.inputs, outputs = trt.io_names(plan)
                self.names = self.inputs + outputs
                self.num_io_tensors = len(self.names)
                self.num_optimization_profiles = len(plan["profiles"])

            def get_tensor_name(self, i):
                return self.names[i]

            def get_tensor_mode(self, name):
                return trt.TensorIOMode.INPUT if name in self.inputs else trt.TensorIOMode.OUTPUT

            def get_tensor_dtype(self, name):
                return "float"

            def get_tensor_profile_shape(self, name, index):
                return self.plan["profiles"][index][name]

            def create_execution_context(self):
                return Context(self)

        class Runtime:
            def __init__(self, logger):
                pass

            def deserialize_cuda_engine(self, data):
                data = bytes(data)
                if trt.reject_plans or not data.startswith(b"FAKEPLAN"):
                    return None
                try:
                    return Engine(json.loads(data[8:]))
                except ValueError:
                    return None

        self.Builder, self.OnnxParser, self.Runtime = Builder, Parser, Runtime


def install_fakes(monkeypatch, cudart, trt, *, patch_deps: bool = True, report_installed: bool = False) -> None:
    """Make hpi's device probe, CUDA helpers and TensorRT runner use the fakes.

    ``patch_deps`` also routes ``hpi._deps.import_cuda_runtime`` to the fake;
    ``report_installed`` makes ``_deps.is_available`` say TensorRT and cuda-python
    are installed (what selection and ``hpi info`` look at).
    """
    monkeypatch.setattr(device_mod, "_cuda_runtime", lambda: cudart)
    monkeypatch.setattr(trt_cuda, "import_cuda_runtime", lambda: cudart)
    monkeypatch.setattr(trt_runner, "import_cuda_runtime", lambda: cudart)
    monkeypatch.setattr(trt_runner, "import_tensorrt", lambda: trt)
    if patch_deps:
        monkeypatch.setattr(_deps, "import_cuda_runtime", lambda: cudart)
    if report_installed:
        real_available = _deps.is_available
        monkeypatch.setattr(
            _deps, "is_available", lambda name: True if name in ("tensorrt", "cuda") else real_available(name)
        )

