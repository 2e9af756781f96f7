"""A deserialized TensorRT engine ready to run: per-profile contexts, shared buffers, ``execute_async_v3``."""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np

from ...errors import BackendError
from .cuda import CudaStream, HostDeviceBuffer
from .profiles import Profile, as_shape, route


class PlanRejected(BackendError):
    """A cached plan that TensorRT will not load or that does not match its metadata."""


class Execution:
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
            raise PlanRejected(f"TensorRT {trt.__version__} could not deserialize the engine")
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
            raise PlanRejected(
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
                engine_max = as_shape(engine.get_tensor_profile_shape(name, index)[2])
                if engine_max != profile[name].max:
                    raise PlanRejected(f"profile {index} of the engine has max {engine_max} for {name!r}, expected {profile[name].max}")
                if not context.set_input_shape(name, engine_max):
                    raise BackendError(f"TensorRT refused input shape {engine_max} for {name!r}.")
            for name in names:
                shape = as_shape(context.get_tensor_shape(name))
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
        out_shapes = {name: as_shape(context.get_tensor_shape(name)) for name in self.output_names}
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
