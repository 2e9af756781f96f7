"""Measuring candidates: timed trials on the model's typical shapes, checked against reference outputs.

Measuring is bounded: one warm-up run per shape (whose output is the
correctness check), then two rounds, interleaved across candidates, each
a few passes over the shapes in turn (two for det/rec, more for models
that take a millisecond, about 60 ms of work per shape and round), so that
consecutive runs change shape as in a pipeline; the time of a backend is
the sum over shapes of the minimum. A candidate is dropped after a round once it
is 3x slower than the best, and no second round starts after
``HPI_MEASURE_BUDGET_S`` seconds (default 8).

The reference is Paddle Inference when the model has Paddle files, else ONNX
Runtime on the CPU. fp32 candidates must match it within the task's parity
rule; bf16/fp16 ones by the task's low-precision rule (:mod:`hpi.models.tasks`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from ..._deps import import_onnx
from ...device import Device
from ...errors import BackendError
from ...models.artifacts import ModelArtifacts
from ...models.compare import compare_outputs
from ...models.probe_inputs import probe_input
from ...env import env_number
from ...models.tasks import task_of
from .. import BACKENDS, create_runner, is_installed
from ..base import Runner
from . import decisions
from .decisions import Decision

log = logging.getLogger(__name__)

BUDGET_ENV = "HPI_MEASURE_BUDGET_S"
ROUNDS = 2
RUNS_PER_ROUND = 2  # at least; more for fast models, up to MAX_RUNS_PER_ROUND
MAX_RUNS_PER_ROUND = 25
TARGET_ROUND_MS = 60.0  # timed work per candidate, shape and round
SLOWER_THAN_BEST = 3.0


@dataclass
class _Trial:
    name: str
    runner: Runner | None = None
    times_ms: dict = field(default_factory=dict)  # shape -> min ms
    warm_ms: dict = field(default_factory=dict)  # shape -> the checked warm-up run's ms
    load_ms: float = 0.0
    status: str = "measured"  # measured | rejected | failed | slow
    detail: str = ""

    @property
    def total_ms(self) -> float:
        return float(sum(self.times_ms.values()))


def measure_budget_s() -> float:
    """Seconds after which no further timing round starts (``HPI_MEASURE_BUDGET_S``, default 8)."""
    return env_number(BUDGET_ENV, 8.0, float, "a number of seconds ≥ 0", allow_equal=True)


def measure_candidates(
    artifacts: ModelArtifacts, device: Device, candidates: list[str], threads: int | None,
    precision: str, backend_config: Mapping[str, Mapping],
) -> tuple[Decision, Runner, dict]:
    """Time every candidate, drop wrong or hopeless ones; the decision, the winner's ACTIVE runner, the record."""
    spec = artifacts.spec
    shapes = _typical_shapes(artifacts)
    feeds = [probe_input(spec, shape) for shape in shapes]
    budget_s = measure_budget_s()
    started = time.perf_counter()
    load = decisions.load_average()

    reference_name, references, reference_runner = reference_outputs(
        artifacts, device, candidates, threads, precision, backend_config, feeds
    )
    phases = {"reference_s": time.perf_counter() - started}
    trials = [_Trial(name) for name in candidates]
    try:
        # Phase 1: build each candidate once and check its outputs on every shape (also its warm-up).
        for trial in trials:
            try:
                if trial.name == reference_name and reference_runner is not None:
                    trial.runner = reference_runner
                else:
                    load_start = time.perf_counter()
                    trial.runner = create_runner(
                        trial.name, artifacts, device=str(device), threads=threads,
                        precision=precision, options=backend_config.get(trial.name),
                    ).activate()
                    trial.load_ms = (time.perf_counter() - load_start) * 1e3
                for shape, feed, reference in zip(shapes, feeds, references):
                    t0 = time.perf_counter()
                    outputs = list(trial.runner.infer(trial.runner.probe_feed(feed)).values())
                    trial.warm_ms[shape] = (time.perf_counter() - t0) * 1e3
                    problem = disagreement(artifacts, reference, outputs, precision)
                    if problem:
                        trial.status, trial.detail = "rejected", problem
                        break
            except Exception as exc:  # any backend error: this candidate is out, the others go on
                trial.status, trial.detail = "failed", first_line(exc)

        phases["check_s"] = time.perf_counter() - started - phases["reference_s"]
        # Phase 2: timed rounds, interleaved across candidates so that other work on the machine
        # skews them alike. Within a round each candidate passes over its shapes in turn, several
        # times: the first run right after another backend is often 2-4x slow (threads waking,
        # caches cold), and the minimum per shape is what the backend does in steady use. Steady
        # use of a dynamic-shape model means a new shape on most calls (rec batches of varying
        # width), which costs some backends more than others: measured on a 2-core AVX2 machine,
        # OpenVINO 22% and ONNX Runtime 10% over repeating one shape, enough to flip the choice
        # (HPI_HOME/decisions records the per-shape times). Passing over the shapes in turn puts
        # that cost into every timed run.
        alive = [t for t in trials if t.status == "measured"]
        for round_index in range(ROUNDS):
            if round_index > 0 and time.perf_counter() - started > budget_s:
                break
            for trial in alive:
                try:
                    runner_feeds = [trial.runner.probe_feed(feed) for feed in feeds]
                    # Cheap models get more passes: a 0.5 ms run is easily hit by a context switch.
                    pass_ms = sum(trial.warm_ms.get(shape, 1.0) for shape in shapes) / len(shapes)
                    passes = min(MAX_RUNS_PER_ROUND, max(RUNS_PER_ROUND, int(TARGET_ROUND_MS / max(pass_ms, 0.01))))
                    for _ in range(passes):
                        for shape, feed in zip(shapes, runner_feeds):
                            t0 = time.perf_counter()
                            trial.runner.infer(feed)
                            elapsed = (time.perf_counter() - t0) * 1e3
                            trial.times_ms[shape] = min(trial.times_ms.get(shape, elapsed), elapsed)
                except Exception as exc:
                    trial.status, trial.detail = "failed", first_line(exc)
            alive = [t for t in alive if t.status == "measured"]
            if not alive:
                break
            best_ms = min(t.total_ms for t in alive)
            for trial in alive:  # already hopeless: stop spending time on it
                if trial.total_ms > SLOWER_THAN_BEST * best_ms:
                    trial.status = "slow"
                    trial.detail = f"≥ {trial.total_ms:.1f} ms, over {SLOWER_THAN_BEST:g}x the best"
            alive = [t for t in alive if t.status == "measured"]
            if len(alive) <= 1:
                break
    except BaseException:  # interrupted (or a bug): release every runner before re-raising
        for trial in trials:
            release(trial.runner)
        release(reference_runner)
        raise

    phases["timing_s"] = time.perf_counter() - started - phases["reference_s"] - phases["check_s"]
    measured = [t for t in trials if t.status == "measured"]
    if not measured:
        for trial in trials:
            release(trial.runner)
        problems = "; ".join(f"{t.name}: {t.status} ({t.detail})" for t in trials)
        raise BackendError(
            f"No backend produced correct outputs for {artifacts.name} on {device}: {problems}. "
            "Pick one explicitly with backend=... to investigate."
        )
    winner = min(measured, key=lambda t: t.total_ms)
    for trial in trials:
        if trial is not winner:
            release(trial.runner)
    if reference_runner is not None and reference_runner is not winner.runner:
        release(reference_runner)

    reason = _reason(trials, reference_name, time.perf_counter() - started, load)
    timings = {t.name: round(t.total_ms, 3) for t in measured}
    decision = Decision(winner.name, reason, timings)
    record = {
        "backend": winner.name,
        "reason": reason,
        "timings_ms": timings,
        "per_shape_ms": {t.name: {"x".join(map(str, s)): round(v, 3) for s, v in t.times_ms.items()} for t in trials},
        "load_ms": {t.name: round(t.load_ms, 1) for t in trials},
        "phases_s": {k: round(v, 2) for k, v in phases.items()},
        "rejected": {t.name: f"{t.status}: {t.detail}" for t in trials if t.status != "measured"},
        "reference": reference_name,
        "load_average": load,
        "shapes": [list(s) for s in shapes],
        "created": decisions.now(),
    }
    return decision, winner.runner, record


def reference_outputs(
    artifacts: ModelArtifacts, device: Device, candidates: list[str], threads: int | None,
    precision: str, backend_config: Mapping[str, Mapping], feeds: list[np.ndarray],
) -> tuple[str, list[list[np.ndarray]], Runner | None]:
    """Outputs every candidate must match, and the reference runner when it is also a candidate.

    Paddle Inference when the model has Paddle files, else ONNX Runtime on the
    CPU at fp32. When that is one of the candidates (same device and
    precision) its runner is reused for timing.
    """
    choices: list[tuple[str, str]] = []
    if artifacts.paddle_files is not None and is_installed("paddle"):
        choices.append(("paddle", "cpu"))
    if artifacts.onnx_path is not None and is_installed("onnxruntime"):
        choices.append(("onnxruntime", "cpu"))
    if not choices:  # neither reference can run this model here: hold the candidates to the first one
        choices.append((candidates[0], str(device)))
    failures = []
    for name, ref_device in choices:
        shared = name in candidates and str(device) == ref_device and precision == "fp32"
        ref_precision = "fp32" if "fp32" in BACKENDS[name].precisions else precision
        runner = create_runner(
            name, artifacts, device=ref_device, threads=threads, precision=ref_precision,
            options=backend_config.get(name) if shared else None,
        )
        try:
            runner.activate()
            outputs = [list(runner.infer(runner.probe_feed(feed)).values()) for feed in feeds]
        except Exception as exc:  # a broken reference: try the next one, say why if none works
            release(runner)
            failures.append(f"{name}: {first_line(exc)}")
            continue
        if not shared:
            runner.deactivate()
            return f"{name} ({ref_device}, reference only)", outputs, None
        return name, outputs, runner
    raise BackendError(
        f"No reference backend could run {artifacts.name} to check the candidates' outputs "
        f"({'; '.join(failures)}). Pick a backend explicitly with backend=..."
    )




def low_precision_disagreement(artifacts: ModelArtifacts, ref: np.ndarray, got: np.ndarray) -> str:
    """What differs between a bf16/fp16 output and the fp32 reference by the task's rule; "" when they agree."""
    if ref.shape != got.shape:
        return f"shapes differ: {ref.shape} vs {got.shape}"
    if not np.all(np.isfinite(got)):
        return "candidate output has NaN/Inf"
    return task_of(artifacts.spec).low_precision(artifacts.spec, ref, got)


def disagreement(
    artifacts: ModelArtifacts, reference: list[np.ndarray], outputs: list[np.ndarray], precision: str = "fp32",
) -> str:
    """Why ``outputs`` of a candidate are not those of the reference ("" when they agree)."""
    if len(outputs) != len(reference):
        return f"{len(outputs)} outputs, the reference has {len(reference)}"
    for index, (ref, got) in enumerate(zip(reference, outputs)):
        if precision != "fp32":
            problem = low_precision_disagreement(artifacts, np.asarray(ref), np.asarray(got))
            if problem:
                return f"outputs differ from the fp32 reference, output {index}: {problem}"
            continue
        comparison = compare_outputs(artifacts.spec, np.asarray(ref), np.asarray(got))
        if not comparison.ok:
            where = f"output {index}: " if len(reference) > 1 else ""
            return f"outputs differ from the reference, {where}{comparison.reason}"
    return ""


def _typical_shapes(artifacts: ModelArtifacts) -> list[tuple[int, ...]]:
    if artifacts.spec is not None and artifacts.spec.inputs:
        return [tuple(s) for s in artifacts.spec.inputs[0].typical_shapes]
    # A user's ONNX with no registry facts: its own static dims, 1 and 224 for dynamic ones.
    if artifacts.onnx_path is not None:
        try:
            onnx = import_onnx()
            graph = onnx.load(str(artifacts.onnx_path), load_external_data=False).graph
            initializers = {i.name for i in graph.initializer}
            inputs = [i for i in graph.input if i.name not in initializers]
            first = next((i for i in inputs if i.name == "image"), inputs[0])  # PaddleX detectors: im_shape first
            dims = [d.dim_value for d in first.type.tensor_type.shape.dim]
            return [tuple(d if d > 0 else (1 if i == 0 else 224) for i, d in enumerate(dims))]
        except Exception:  # unreadable graph: fall back to a plain image batch
            pass
    return [(1, 3, 224, 224)]



def _reason(trials: list[_Trial], reference_name: str, seconds: float, load: dict | None = None) -> str:
    measured = sorted((t for t in trials if t.status == "measured"), key=lambda t: t.total_ms)
    parts = ["measured: " + ", ".join(f"{t.name} {t.total_ms:.1f} ms" for t in measured)]
    slow = [t for t in trials if t.status == "slow"]
    if slow:
        parts.append("stopped early: " + ", ".join(f"{t.name} {t.detail}" for t in slow))
    rejected = [t for t in trials if t.status in ("rejected", "failed")]
    if rejected:
        parts.append("rejected: " + ", ".join(f"{t.name} ({t.detail})" for t in rejected))
    parts.append(f"reference {reference_name}, {seconds:.1f} s")
    if decisions.was_busy(load):
        # Other processes competed for the cores: say so rather than pretend precision.
        parts.append(f"machine busy: load {load['load1']:.1f} on {load['cores']} cores")
    return "; ".join(parts)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def release(runner: Runner | None) -> None:
    if runner is not None:
        try:
            runner.deactivate()
        except Exception:  # releasing must not hide the decision
            log.debug("Releasing a %s runner failed", runner.backend_name, exc_info=True)

