"""Device strings, and GPU probing through cuda-python (faked here; the real call must not crash)."""

from __future__ import annotations

import types

import pytest

from hpi import device as device_mod
from hpi.device import Device, GpuInfo, check_gpu, parse_device, probe_gpus
from hpi.errors import DeviceError


@pytest.mark.parametrize(
    "text, expected",
    [(None, Device("cpu")), ("cpu", Device("cpu")), ("gpu", Device("gpu", 0)), ("gpu:0", Device("gpu", 0)),
     ("GPU:3", Device("gpu", 3)), (" gpu:1 ", Device("gpu", 1))],
)
def test_parse_device(text, expected):
    assert parse_device(text) == expected


@pytest.mark.parametrize("text", ["cuda", "gpu:", "gpu:-1", "cpu:0", "gpu:a", "npu:0", ""])
def test_parse_device_rejects(text):
    with pytest.raises(DeviceError, match="device"):
        parse_device(text)


class _Err:
    """Stands in for cudaError_t members: compared by identity like the real enum."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


def _fake_cudart(count=None, props=(), count_error="cudaSuccess", props_error=None):
    errors = {name: _Err(name) for name in ("cudaSuccess", "cudaErrorInsufficientDriver", "cudaErrorNoDevice",
                                            "cudaErrorUnknown", "cudaErrorInvalidDevice")}
    cudart = types.SimpleNamespace()
    cudart.cudaError_t = types.SimpleNamespace(cudaSuccess=errors["cudaSuccess"])
    cudart.cudaGetErrorName = lambda err: (errors["cudaSuccess"], err.name.encode())
    cudart.cudaGetErrorString = lambda err: (errors["cudaSuccess"], b"explained")
    cudart.cudaGetDeviceCount = lambda: (errors[count_error], count)
    cudart.cudaDriverGetVersion = lambda: (errors["cudaSuccess"], 13000 if count else 0)
    cudart.cudaRuntimeGetVersion = lambda: (errors["cudaSuccess"], 13040)

    def get_props(index):
        if props_error:
            return errors[props_error], None
        name, major, minor, mem = props[index]
        return errors["cudaSuccess"], types.SimpleNamespace(
            name=name.encode() + b"\0\0garbage", major=major, minor=minor, totalGlobalMem=mem)

    cudart.cudaGetDeviceProperties = get_props
    return cudart


@pytest.fixture
def fake_cuda(monkeypatch):
    def install(**kwargs):
        cudart = _fake_cudart(**kwargs)
        monkeypatch.setattr(device_mod, "_cuda_runtime", lambda: cudart)
        return cudart
    return install


H100 = ("NVIDIA H100 80GB HBM3", 9, 0, 85_000_000_000)
T4 = ("Tesla T4", 7, 5, 15_000_000_000)


def test_probe_gpus_reads_properties(fake_cuda):
    fake_cuda(count=2, props=[H100, T4])
    gpus = probe_gpus()
    assert gpus == [
        GpuInfo(0, "NVIDIA H100 80GB HBM3", (9, 0), 85_000_000_000),
        GpuInfo(1, "Tesla T4", (7, 5), 15_000_000_000),
    ]
    assert gpus[1].sm == "sm_75"
    assert "compute capability 9.0" in gpus[0].describe()


@pytest.mark.parametrize("error", ["cudaErrorInsufficientDriver", "cudaErrorNoDevice"])
def test_probe_gpus_without_driver_is_empty(fake_cuda, error):
    fake_cuda(count=None, count_error=error)
    assert probe_gpus() == []


def test_probe_gpus_other_runtime_error_is_clear(fake_cuda):
    fake_cuda(count=None, count_error="cudaErrorUnknown")
    with pytest.raises(DeviceError, match="cudaErrorUnknown"):
        probe_gpus()


def test_probe_gpus_unreadable_properties(fake_cuda):
    fake_cuda(count=1, props_error="cudaErrorInvalidDevice")
    with pytest.raises(DeviceError, match="gpu:0.*cudaErrorInvalidDevice"):
        probe_gpus()


def test_check_gpu_picks_index(fake_cuda):
    fake_cuda(count=2, props=[H100, T4])
    assert check_gpu("gpu").name.startswith("NVIDIA H100")
    assert check_gpu("gpu:1").compute_capability == (7, 5)


def test_check_gpu_index_out_of_range_lists_what_exists(fake_cuda):
    fake_cuda(count=2, props=[H100, T4])
    with pytest.raises(DeviceError) as info:
        check_gpu("gpu:5")
    message = str(info.value)
    assert "'gpu:5' does not exist" in message and "2 GPU(s)" in message
    assert "Tesla T4" in message and "0 to 1" in message


def test_check_gpu_no_gpu_says_what_was_found(fake_cuda):
    fake_cuda(count=None, count_error="cudaErrorInsufficientDriver")
    with pytest.raises(DeviceError, match="no NVIDIA GPU is usable here .*no NVIDIA driver"):
        check_gpu("gpu:0")


def test_check_gpu_rejects_cpu():
    with pytest.raises(DeviceError, match="not a GPU"):
        check_gpu("cpu")


def test_missing_cuda_python_is_clear(monkeypatch):
    from hpi import _deps
    from hpi.errors import BackendUnavailableError

    def missing():
        raise BackendUnavailableError("'cuda' is needed here but cannot be imported (x). Install it: pip.")

    monkeypatch.setattr(_deps, "import_cuda_runtime", missing)
    with pytest.raises(DeviceError, match="cuda-python"):
        probe_gpus()


def test_real_probe_on_this_machine():
    """The real cuda-python call: a list of GPUs on a GPU machine, [] or a clear DeviceError elsewhere."""
    try:
        gpus = probe_gpus()
    except DeviceError as exc:
        assert "cuda" in str(exc).lower()
        return
    assert isinstance(gpus, list)
    for gpu in gpus:
        assert gpu.name and gpu.compute_capability[0] >= 3 and gpu.total_memory_bytes > 0
    if not gpus:
        with pytest.raises(DeviceError, match="no NVIDIA GPU is usable"):
            check_gpu("gpu:0")
        assert "driver" in device_mod.driver_status()
