"""Automatic choice on a ``gpu`` device: a missing GPU is an error, a GPU without GPU backends falls back to the CPU."""

from __future__ import annotations

import logging

import pytest

from hpi import device as device_module
from hpi.backends import select
from hpi.device import GpuInfo
from hpi.errors import DeviceError

FAKE_GPU = GpuInfo(0, "NVIDIA H100 80GB HBM3", (9, 0), 80 * 2**30)


def test_gpu_requested_without_a_gpu_is_a_clear_error(cls_model, monkeypatch):
    monkeypatch.setattr(device_module, "probe_gpus", lambda: [])
    for backend in ("auto", "onnxruntime"):
        with pytest.raises(DeviceError, match="no NVIDIA GPU is usable here"):
            select.choose_runner(cls_model, device="gpu:0", backend=backend, measure=False)


def test_wrong_gpu_index_names_what_exists(cls_model, monkeypatch):
    monkeypatch.setattr(device_module, "probe_gpus", lambda: [FAKE_GPU])
    with pytest.raises(DeviceError, match="gpu:3.*does not exist.*1 GPU.*H100"):
        select.choose_runner(cls_model, device="gpu:3", measure=False)


def test_gpu_without_gpu_backends_runs_on_cpu_with_one_warning(cls_model, monkeypatch, caplog):
    # A GPU is there, but neither TensorRT nor onnxruntime-gpu is installed (the CPU onnxruntime is).
    monkeypatch.setattr(device_module, "probe_gpus", lambda: [FAKE_GPU])
    monkeypatch.setattr(select.policy, "installed_backends", lambda kind: [] if kind == "gpu" else ["onnxruntime"])
    with caplog.at_level(logging.WARNING, logger="hpi"):
        runner = select.choose_runner(cls_model, device="gpu:0", measure=False)
    try:
        assert runner.backend_name == "onnxruntime" and runner.device == "cpu"
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1
        assert "no GPU backend is usable" in warnings[0] and "TensorRT" in warnings[0]
    finally:
        runner.deactivate()

