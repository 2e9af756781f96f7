"""bf16/fp16 are opt-in and checked: a lone low-precision candidate is still verified, and falls back to fp32."""

from __future__ import annotations

import logging

import numpy as np

from hpi.backends import BACKENDS, BackendInfo, create_runner, installed_backends, select
from hpi.device import Device
from hpi.models.probe_inputs import probe_input

CPU = Device("cpu")


def _only_lowprec(monkeypatch):
    monkeypatch.setitem(BACKENDS, "lowprec", BackendInfo(
        "lowprec", "tests.backends.fakes", "LowPrecisionBreaksRunner", ("onnxruntime",), "onnx", ("cpu",),
        ("fp32", "bf16"), "test double",
    ))
    monkeypatch.setattr(select.policy, "installed_backends", lambda kind: ["lowprec"])


def test_lone_low_precision_candidate_that_breaks_results_falls_back_to_fp32(cls_model, tmp_hpi_home, monkeypatch, caplog):
    _only_lowprec(monkeypatch)
    caplog.set_level(logging.INFO, logger="hpi")
    runner = select.choose_runner(cls_model, device=CPU, precision="bf16", threads=2)
    try:
        assert runner.backend_name == "lowprec" and runner.precision == "fp32"
        feed = probe_input(cls_model.spec, (2, 3, 48, 192))
        with create_runner("onnxruntime", cls_model, threads=2) as reference:
            np.testing.assert_allclose(runner.infer_one(feed), reference.infer_one(feed), atol=1e-5)
    finally:
        runner.deactivate()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("at bf16 fails the accuracy check" in w and "running it at fp32" in w for w in warnings), warnings
    # The verdict is cached: the next start does not re-check, and still runs at fp32 with the warning.
    caplog.clear()
    again = select.choose_runner(cls_model, device=CPU, precision="bf16", threads=2)
    try:
        assert again.precision == "fp32"
        assert any("cached verdict" in r.getMessage() for r in caplog.records)
    finally:
        again.deactivate()


def test_lone_low_precision_candidate_that_keeps_results_is_used(cls_model, tmp_hpi_home, monkeypatch):
    # OpenVINO at bf16 (or f32 on CPUs without bf16) keeps the classifier's labels: it passes the check.
    if "openvino" not in installed_backends("cpu"):
        import pytest

        pytest.skip("openvino is not installed")
    monkeypatch.setattr(select.policy, "installed_backends", lambda kind: ["openvino"])
    runner = select.choose_runner(cls_model, device=CPU, precision="bf16", threads=2)
    try:
        assert runner.backend_name == "openvino" and runner.precision == "bf16"
    finally:
        runner.deactivate()
