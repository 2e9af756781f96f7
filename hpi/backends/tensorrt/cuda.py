"""CUDA memory and streams through cuda-python (``cuda.bindings.runtime``), as TensorRT's samples do.

Needs only cuda-python and a GPU, not TensorRT: the GPU self-check uses it to
prove the CUDA half of the TensorRT path on machines without TensorRT.

cuda-python returns ``(err, value...)`` tuples instead of raising;
:func:`cuda_call` turns a failure into a :class:`BackendError` naming the
call and the CUDA error. Pinned (page-locked) host memory is what lets
``cudaMemcpyAsync`` copy asynchronously; a numpy array is laid over it with
ctypes, exactly like ``HostDeviceMem`` in TensorRT's ``common_runtime.py``.
"""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

from ..._deps import import_cuda_runtime
from ...errors import BackendError


def cuda_call(result: Any, what: str, cudart=None) -> Any:
    """Unpack a cuda-python result tuple: the value(s) on success, a BackendError otherwise."""
    cudart = cudart or import_cuda_runtime()
    if isinstance(result, tuple):
        err, values = result[0], result[1:]
    else:  # a bare error code
        err, values = result, ()
    if err != cudart.cudaError_t.cudaSuccess:
        try:
            _, name = cudart.cudaGetErrorName(err)
            _, text = cudart.cudaGetErrorString(err)
            detail = f"{name.decode() if isinstance(name, bytes) else name}: {text.decode() if isinstance(text, bytes) else text}"
        except Exception:  # never hide the failing call behind a second failure
            detail = str(err)
        raise BackendError(f"CUDA call {what} failed ({detail}).")
    if not values:
        return None
    return values[0] if len(values) == 1 else values


def set_device(index: int) -> None:
    """Make GPU ``index`` current for the calling thread (CUDA's current device is per thread)."""
    cuda_call(import_cuda_runtime().cudaSetDevice(int(index)), f"cudaSetDevice({index})")


class CudaStream:
    """One CUDA stream; ``handle`` is the integer TensorRT's ``execute_async_v3`` takes."""

    def __init__(self) -> None:
        self._cudart = import_cuda_runtime()
        self.stream = cuda_call(self._cudart.cudaStreamCreate(), "cudaStreamCreate", self._cudart)
        self.handle = int(self.stream)

    def synchronize(self) -> None:
        cuda_call(self._cudart.cudaStreamSynchronize(self.stream), "cudaStreamSynchronize", self._cudart)

    def close(self) -> None:
        if self.stream is not None:
            cuda_call(self._cudart.cudaStreamDestroy(self.stream), "cudaStreamDestroy", self._cudart)
            self.stream = None


class HostDeviceBuffer:
    """A pinned host buffer and a device buffer of the same size, for one tensor.

    Allocated once for the largest shape the tensor can take (the profiles'
    max) and reused by every call: copies move only the bytes in use.
    """

    def __init__(self, nbytes: int, dtype: np.dtype, name: str = "") -> None:
        self._cudart = import_cuda_runtime()
        self.name = name
        self.dtype = np.dtype(dtype)
        self.nbytes = max(int(nbytes), self.dtype.itemsize)
        self.capacity = self.nbytes // self.dtype.itemsize
        self.host_ptr = 0
        self.device_ptr = 0
        try:
            self.host_ptr = int(cuda_call(self._cudart.cudaMallocHost(self.nbytes), f"cudaMallocHost({self.nbytes}) for {name}", self._cudart))
            self.device_ptr = int(cuda_call(self._cudart.cudaMalloc(self.nbytes), f"cudaMalloc({self.nbytes}) for {name}", self._cudart))
        except BaseException:
            self.free()
            raise
        byte_view = (ctypes.c_ubyte * self.nbytes).from_address(self.host_ptr)
        self.host = np.frombuffer(byte_view, dtype=np.uint8).view(self.dtype)[: self.capacity]

    def stage(self, array: np.ndarray) -> int:
        """Copy ``array`` into the pinned buffer; returns the number of bytes staged."""
        array = np.ascontiguousarray(array, dtype=self.dtype)
        if array.size > self.capacity:
            raise BackendError(
                f"Tensor {self.name!r} of shape {array.shape} needs {array.nbytes} bytes; its buffer holds "
                f"{self.nbytes} (sized for the largest optimization profile)."
            )
        np.copyto(self.host[: array.size], array.reshape(-1))
        return array.nbytes

    def to_device_async(self, nbytes: int, stream: CudaStream) -> None:
        kind = self._cudart.cudaMemcpyKind.cudaMemcpyHostToDevice
        cuda_call(self._cudart.cudaMemcpyAsync(self.device_ptr, self.host_ptr, nbytes, kind, stream.stream),
                  f"cudaMemcpyAsync host→device ({self.name})", self._cudart)

    def to_host_async(self, nbytes: int, stream: CudaStream) -> None:
        kind = self._cudart.cudaMemcpyKind.cudaMemcpyDeviceToHost
        cuda_call(self._cudart.cudaMemcpyAsync(self.host_ptr, self.device_ptr, nbytes, kind, stream.stream),
                  f"cudaMemcpyAsync device→host ({self.name})", self._cudart)

    def read(self, shape: tuple[int, ...]) -> np.ndarray:
        """A copy of the first ``prod(shape)`` elements (the buffer is reused by the next call)."""
        count = int(np.prod(shape)) if shape else 1
        return self.host[:count].reshape(shape).copy()

    def free(self) -> None:
        if self.device_ptr:
            self._cudart.cudaFree(self.device_ptr)
            self.device_ptr = 0
        if self.host_ptr:
            self.host = None
            self._cudart.cudaFreeHost(self.host_ptr)
            self.host_ptr = 0


def round_trip_check(nbytes: int = 1 << 20, seed: int = 0) -> dict:
    """Pinned host → device → pinned host through one stream; for the GPU self-check.

    Returns what was checked; raises BackendError if a CUDA call fails or the
    bytes that come back differ from what went in.
    """
    rng = np.random.default_rng(seed)
    data = rng.standard_normal(nbytes // 4).astype(np.float32)
    stream = CudaStream()
    source = HostDeviceBuffer(data.nbytes, np.float32, "round-trip-in")
    target = HostDeviceBuffer(data.nbytes, np.float32, "round-trip-out")
    try:
        staged = source.stage(data)
        source.to_device_async(staged, stream)
        cudart = import_cuda_runtime()
        cuda_call(cudart.cudaMemcpyAsync(target.device_ptr, source.device_ptr, staged,
                                         cudart.cudaMemcpyKind.cudaMemcpyDeviceToDevice, stream.stream),
                  "cudaMemcpyAsync device→device", cudart)
        target.host[: data.size] = 0
        target.to_host_async(staged, stream)
        stream.synchronize()
        back = target.read(data.shape)
        if not np.array_equal(back, data):
            raise BackendError("CUDA round trip corrupted data: the bytes read back differ from those written.")
        return {"bytes": staged, "equal": True}
    finally:
        source.free()
        target.free()
        stream.close()
