"""Measured backend selection: override, reuse of a cached decision, rejection of wrong outputs."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import replace

import pytest

from hpi import _deps
from hpi.backends import BACKENDS, BackendInfo, installed_backends
from hpi.backends import select
from hpi.backends.select import Decision, choose_runner, decide_backend, decision_key
from hpi.device import parse_device
from hpi.errors import BackendUnavailableError

CPU = parse_device("cpu")


@pytest.fixture
def decisions_home(tmp_path, monkeypatch):
    """A private $HPI_HOME for decisions; the models stay where the session fixtures put them."""
    home = tmp_path / "home"
    monkeypatch.setenv("HPI_HOME", str(home))
    monkeypatch.delenv(select.MEASURE_ENV, raising=False)
    # Other test processes load the machine; a "busy" decision would be measured again when the
    # load drops, which would make the reuse tests depend on the neighbours.
    monkeypatch.setattr(select.decisions, "load_average", lambda: {"load1": 0.0, "cores": 2})
    return home


def _decision_files(home):
    return sorted((home / "decisions").glob("*.json"))


def _backend_lines(caplog, model):
    return [r.getMessage() for r in caplog.records
            if r.levelno == logging.INFO and r.getMessage().startswith(f"Backend for {model} on cpu: ")]


def _register(monkeypatch, name: str, runner_class: str) -> None:
    monkeypatch.setitem(BACKENDS, name, BackendInfo(
        name, "tests.backends.fakes", runner_class, ("onnxruntime",), "onnx", ("cpu",), ("fp32",), "test double",
    ))


needs_two = pytest.mark.skipif(len(installed_backends("cpu")) < 2, reason="measuring needs two installed CPU backends")


@needs_two
def test_measures_once_then_reuses_the_decision(cls_model, decisions_home, caplog, monkeypatch):
    caplog.set_level(logging.INFO, logger="hpi")
    runner = choose_runner(cls_model, threads=2)
    try:
        assert runner.is_active
        lines = _backend_lines(caplog, cls_model.name)
        assert len(lines) == 1, lines
        assert lines[0].startswith(f"Backend for {cls_model.name} on cpu: {runner.backend_name} (measured: ")
        files = _decision_files(decisions_home)
        assert len(files) == 1
        record = json.loads(files[0].read_text())
        assert record["backend"] == runner.backend_name
        assert len(record["timings_ms"]) >= 1 and record["reference"] == "paddle"
        assert record["shapes"] == [list(s) for s in cls_model.spec.inputs[0].typical_shapes]
    finally:
        runner.deactivate()

    # Reuse: nothing is measured or compared again.
    def forbidden(*args, **kwargs):
        raise AssertionError("a cached decision must not be measured again")

    monkeypatch.setattr(select.measure, "measure_candidates", forbidden)
    monkeypatch.setattr(select.measure, "compare_outputs", forbidden)
    caplog.clear()
    again = choose_runner(cls_model, threads=2)
    try:
        assert again.backend_name == record["backend"] and again.is_active
        (line,) = _backend_lines(caplog, cls_model.name)
        assert f": {record['backend']} (cached decision from {record['created']}" in line
    finally:
        again.deactivate()
    decision = decide_backend(cls_model, CPU, threads=2)
    assert decision == Decision(record["backend"], decision.reason, record["timings_ms"])


@needs_two
def test_the_returned_runner_is_the_measured_one(cls_model, decisions_home, monkeypatch):
    created = []
    real_create = select.measure.create_runner

    def spy(*args, **kwargs):
        runner = real_create(*args, **kwargs)
        created.append(runner)
        return runner

    monkeypatch.setattr(select.measure, "create_runner", spy)
    runner = choose_runner(cls_model, threads=2)
    try:
        assert any(r is runner for r in created), "the winner was built a second time"
        names = [r.backend_name for r in created]
        assert len(names) == len(set(names)), f"a backend was built twice while measuring: {names}"
        assert [r for r in created if r.is_active] == [runner], "losing runners must be released"
    finally:
        runner.deactivate()


def test_override_is_respected_without_measuring(cls_model, decisions_home, caplog, monkeypatch):
    caplog.set_level(logging.INFO, logger="hpi")
    monkeypatch.setattr(select.measure, "measure_candidates", lambda *a, **k: pytest.fail("an explicit backend is not measured"))
    for backend in installed_backends("cpu"):
        with choose_runner(cls_model, backend=backend, threads=2) as runner:
            assert runner.backend_name == backend
    assert _decision_files(decisions_home) == []
    assert all("(requested)" in line for line in _backend_lines(caplog, cls_model.name))


def test_unknown_backend_lists_the_available_ones(cls_model, decisions_home):
    with pytest.raises(BackendUnavailableError, match="Available backends: auto, onnxruntime, openvino, paddle, tensorrt"):
        choose_runner(cls_model, backend="tensorflow")


def test_missing_package_names_the_extra(cls_model, decisions_home, monkeypatch):
    real = _deps.is_available
    monkeypatch.setattr(_deps, "is_available", lambda name: False if name == "openvino" else real(name))
    with pytest.raises(BackendUnavailableError, match=r'openvino.*pip install "hpi\[cpu\]"'):
        choose_runner(cls_model, backend="openvino")
    assert "openvino" not in select.candidates_for(cls_model, CPU)


def test_static_order_when_measuring_is_off(cls_model, decisions_home, monkeypatch):
    monkeypatch.setenv(select.MEASURE_ENV, "0")
    monkeypatch.setattr(select.measure, "measure_candidates", lambda *a, **k: pytest.fail("measuring is off"))
    decision = decide_backend(cls_model, CPU)
    expected = next(n for n in select.STATIC_PREFERENCE["cpu"] if n in installed_backends("cpu"))
    assert decision.backend == expected and decision.timings_ms == {}
    assert "static preference" in decision.reason or "only installed" in decision.reason
    assert _decision_files(decisions_home) == []


def test_a_candidate_with_wrong_outputs_is_rejected(cls_model, decisions_home, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="hpi")
    _register(monkeypatch, "perturbed", "PerturbedRunner")
    assert "perturbed" in select.candidates_for(cls_model, CPU)
    decision = decide_backend(cls_model, CPU, threads=2)
    assert decision.backend != "perturbed"
    assert "perturbed" not in decision.timings_ms
    assert "rejected: perturbed (outputs differ from the reference, max abs 5.00e-02" in decision.reason
    record = json.loads(_decision_files(decisions_home)[0].read_text())
    assert record["rejected"]["perturbed"].startswith("rejected:")
    (line,) = _backend_lines(caplog, cls_model.name)
    assert "rejected: perturbed" in line


def test_a_far_slower_candidate_is_stopped_early(cls_model, decisions_home, monkeypatch):
    _register(monkeypatch, "slow", "SlowRunner")
    decision = decide_backend(cls_model, CPU, threads=2)
    assert decision.backend != "slow" and "slow" not in decision.timings_ms
    assert re.search(r"stopped early: (.*, )?slow ≥ [\d.]+ ms, over 3x the best", decision.reason), decision.reason
    record = json.loads(_decision_files(decisions_home)[0].read_text())
    assert record["rejected"]["slow"].startswith("slow: ≥ ")
    # One round is enough to drop it: each shape was timed RUNS_PER_ROUND times, never more.
    assert all(ms >= 40 for ms in record["per_shape_ms"]["slow"].values())
    assert select.ROUNDS >= 2


@needs_two
def test_changed_model_or_settings_never_reuse_a_decision(cls_model, decisions_home):
    decide_backend(cls_model, CPU, threads=2)
    changed = replace(cls_model, content_hash="0" * 64)
    decide_backend(changed, CPU, threads=2)
    assert len(_decision_files(decisions_home)) == 2
    candidates = select.candidates_for(cls_model, CPU)
    keys = {
        decision_key(cls_model, CPU, candidates, "fp32", 2),
        decision_key(changed, CPU, candidates, "fp32", 2),
        decision_key(cls_model, CPU, candidates, "fp32", 1),
        decision_key(cls_model, CPU, candidates, "bf16", 2),
        decision_key(cls_model, CPU, candidates[:1], "fp32", 2),
    }
    assert len(keys) == 5


@needs_two
def test_corrupt_decision_is_measured_again(cls_model, decisions_home, caplog):
    decide_backend(cls_model, CPU, threads=2)
    (path,) = _decision_files(decisions_home)
    path.write_text('{"backend": "openvi')
    caplog.set_level(logging.INFO, logger="hpi")
    decision = decide_backend(cls_model, CPU, threads=2)
    assert any(r.levelno == logging.WARNING and "corrupt" in r.getMessage() for r in caplog.records)
    assert decision.reason.startswith("measured: ")
    assert json.loads(path.read_text())["backend"] == decision.backend


@needs_two
def test_detection_is_measured_on_its_typical_shapes_within_bounds(det_model, decisions_home):
    import time

    started = time.perf_counter()
    decision = decide_backend(det_model, CPU, threads=2)
    elapsed = time.perf_counter() - started
    record = json.loads(_decision_files(decisions_home)[0].read_text())
    assert record["shapes"] == [list(s) for s in det_model.spec.inputs[0].typical_shapes]
    assert decision.backend in decision.timings_ms
    assert decision.timings_ms[decision.backend] == min(decision.timings_ms.values())
    # Loading three backends plus at most 4 runs per shape each: seconds, not minutes.
    assert elapsed < 60, f"measuring det took {elapsed:.1f} s"


def test_reduced_precision_is_held_to_the_task_result(rec_model):
    """bf16/fp16 outputs move far beyond fp32 noise; rec must still decode the same lines."""
    import numpy as np

    from hpi.backends import create_runner
    from hpi.models.probe_inputs import probe_input

    x = probe_input(rec_model.spec, (6, 3, 48, 320))
    with create_runner("onnxruntime", rec_model, threads=2) as runner:
        reference = runner.infer_one(x)
    rng = np.random.default_rng(0)
    noisy = reference + rng.normal(0, 2e-3, reference.shape).astype(np.float32)  # like a bf16 run
    assert select.measure.disagreement(rec_model, [reference], [noisy], "fp32").startswith("outputs differ")
    assert select.measure.disagreement(rec_model, [reference], [noisy], "bf16") == ""
    garbage = rng.random(reference.shape).astype(np.float32)
    assert "decoded-line agreement 0.0000" in select.measure.disagreement(rec_model, [reference], [garbage], "fp16")


@needs_two
def test_a_decision_from_a_busy_machine_is_measured_again_when_quiet(cls_model, decisions_home, monkeypatch):
    monkeypatch.setattr(select.decisions, "load_average", lambda: {"load1": 9.0, "cores": 2})
    busy = decide_backend(cls_model, CPU, threads=2)
    assert "machine busy: load 9.0 on 2 cores" in busy.reason
    assert decide_backend(cls_model, CPU, threads=2).reason.startswith("cached decision")  # still busy: reuse
    monkeypatch.setattr(select.decisions, "load_average", lambda: {"load1": 0.2, "cores": 2})
    quiet = decide_backend(cls_model, CPU, threads=2)
    assert quiet.reason.startswith("measured: ") and "machine busy" not in quiet.reason
    assert decide_backend(cls_model, CPU, threads=2).reason.startswith("cached decision")


def test_a_candidate_that_fails_to_load_is_left_out(cls_model, decisions_home, monkeypatch):
    _register(monkeypatch, "broken", "BrokenRunner")
    decision = decide_backend(cls_model, CPU, threads=2)
    assert decision.backend != "broken"
    assert "rejected: broken (engine exploded while loading)" in decision.reason


def test_a_broken_reference_falls_back_to_onnxruntime(cls_model, decisions_home, monkeypatch):
    from hpi.backends.paddle import PaddleRunner

    def refuse(self):
        raise RuntimeError("paddle cannot load this model")

    monkeypatch.setattr(PaddleRunner, "_activate_impl", refuse)
    decision = decide_backend(cls_model, CPU, threads=2)
    assert "reference onnxruntime" in decision.reason
    assert "rejected: paddle (paddle cannot load this model)" in decision.reason


def test_gpu_decisions_are_keyed_by_the_gpu_model(cls_model, monkeypatch):
    """Without a GPU here, a faked probe shows that another GPU model never reuses a decision."""
    from hpi import device as device_module
    from hpi.device import GpuInfo

    gpu = parse_device("gpu:0")
    candidates = ["onnxruntime"]
    keys = []
    for name, cc in (("NVIDIA H100 80GB HBM3", (9, 0)), ("NVIDIA L4", (8, 9))):
        monkeypatch.setattr(device_module, "probe_gpus", lambda n=name, c=cc: [GpuInfo(0, n, c, 80 << 30)])
        assert select.device_identity(gpu)["gpu"]["name"] == name
        keys.append(decision_key(cls_model, gpu, candidates, "fp16", 2))
    assert keys[0] != keys[1]
    assert decision_key(cls_model, CPU, candidates, "fp16", 2) not in keys
