"""Choosing a backend for a model on a device: measured once, then cached.

``backend="auto"`` (the default) times every installed candidate on the
model's typical input shapes (rendered text, see
:mod:`hpi.models.probe_inputs`), drops any whose outputs disagree with the
reference (Paddle Inference when the model has Paddle files, else ONNX
Runtime on the CPU), and picks the fastest. The decision is stored under
``$HPI_HOME/decisions`` keyed by the model's content hash, the device
identity (CPU model and flags, or GPU name), the installed backends'
versions, the precision and the thread count, so later runs reuse it
instantly and any change measures again. With measuring switched off
(``measure=False`` or ``HPI_MEASURE_BACKENDS=0``) a static preference order
decides.

Measuring is bounded: one warm-up run per shape (whose output is the
correctness check), then two rounds, interleaved across candidates, of
timed runs per shape (two for det/rec, more for models that take a
millisecond, about 60 ms of work per round); the time of a backend is the sum over shapes of the
minimum. A candidate is dropped after a round once it is 3x slower than the
best, and no second round starts after ``HPI_MEASURE_BUDGET_S`` seconds
(default 8). The load average is recorded with the decision: timings taken
on a busy machine say so in the log line.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

import numpy as np

from ..cache import atomic_write_json, cache_dir, file_lock, read_json
from ..device import Device, check_gpu, cpu_identity, parse_device
from ..errors import BackendError, BackendUnavailableError
from ..models.artifacts import ModelArtifacts
from ..models.compare import compare_outputs
from ..models.probe_inputs import probe_input
from . import (
    BACKENDS, backend_version, create_runner, get_backend_info, installed_backends, is_installed,
    runner_class,
)
from .base import Runner, default_threads
from .trt_fallback import gpu_fallback_note

log = logging.getLogger("hpi")

STATIC_PREFERENCE = {
    "cpu": ("openvino", "onnxruntime", "paddle"),
    "gpu": ("tensorrt", "onnxruntime", "paddle"),
}

MEASURE_ENV = "HPI_MEASURE_BACKENDS"
BUDGET_ENV = "HPI_MEASURE_BUDGET_S"
ROUNDS = 2
RUNS_PER_ROUND = 2  # at least; more for fast models, up to MAX_RUNS_PER_ROUND
MAX_RUNS_PER_ROUND = 25
TARGET_ROUND_MS = 60.0  # timed work per candidate, shape and round
SLOWER_THAN_BEST = 3.0
# Bump when the measuring method changes: old decisions are then measured again.
SELECTION_VERSION = 1


@dataclass(frozen=True)
class Decision:
    """The backend chosen for one model on one device, and why.

    ``timings_ms`` maps each measured backend to its time over the typical
    shapes (sum of per-shape minima, in ms); empty when nothing was measured.
    ``device`` is set when the model runs elsewhere than asked (a ``gpu``
    request with no GPU backend installed falls back to ``"cpu"``).
    """

    backend: str
    reason: str
    timings_ms: dict = field(default_factory=dict)
    device: str | None = None
    precision: str | None = None


# ---------------------------------------------------------------------------
# Public API


def decide_backend(
    artifacts: ModelArtifacts,
    device: Device | str,
    backend: str = "auto",
    threads: int | None = None,
    precision: str = "fp32",
    measure: bool | None = None,
) -> Decision:
    """The backend to use for ``artifacts`` on ``device`` (measured or cached for ``"auto"``).

    Runners built while measuring are released; use :func:`choose_runner` to
    keep the measured winner.
    """
    device = parse_device(device) if isinstance(device, str) else device
    decision, runner = _decide(artifacts, device, backend, threads, precision, measure, None)
    if runner is not None:
        runner.deactivate()
    return decision


def choose_runner(
    artifacts: ModelArtifacts,
    *,
    device: str | Device = "cpu",
    backend: str = "auto",
    threads: int | None = None,
    precision: str = "fp32",
    measure: bool | None = None,
    options: dict | None = None,
) -> Runner:
    """An ACTIVE runner for ``artifacts``: the requested backend, or the one chosen for the device.

    When the choice was just measured, the runner that won the measurement is
    returned as is (it is not built twice).
    """
    dev = parse_device(device) if isinstance(device, str) else device
    decision, runner = _decide(artifacts, dev, backend, threads, precision, measure, options)
    if runner is None:
        runner = create_runner(
            decision.backend, artifacts, device=decision.device or str(dev), threads=threads,
            precision=decision.precision or precision, options=options,
        )
        runner.activate()
    return runner


def measuring_enabled(measure: bool | None = None) -> bool:
    """``measure`` if given, else True unless ``HPI_MEASURE_BACKENDS=0``."""
    if measure is not None:
        return bool(measure)
    return os.environ.get(MEASURE_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def candidates_for(artifacts: ModelArtifacts, device: Device, precision: str = "fp32") -> list[str]:
    """Installed backends that can run this model's files on ``device`` at ``precision``."""
    names = []
    for name in installed_backends(device.kind):
        info = BACKENDS[name]
        if precision not in info.precisions:
            continue
        if info.model_format == "paddle" and artifacts.paddle_files is None:
            continue
        if info.model_format == "onnx" and artifacts.onnx_path is None:
            continue
        names.append(name)
    order = STATIC_PREFERENCE.get(device.kind, ())
    return sorted(names, key=lambda n: order.index(n) if n in order else len(order))


def device_identity(device: Device) -> dict:
    """What the speed of a backend depends on: the CPU (model, flags, cores) or the GPU's name."""
    if device.kind == "cpu":
        return {"cpu": cpu_identity()}
    from .. import device as device_module

    gpu: object = f"gpu:{device.index}"
    probe = getattr(device_module, "probe_gpus", None)
    if probe is not None:
        try:
            gpus = probe()
            if len(gpus) > device.index:
                info = gpus[device.index]
                gpu = info.as_dict() if hasattr(info, "as_dict") else _jsonable(info)
        except Exception:  # no driver, no cuda-python: the index alone still keys the decision
            pass
    return {"gpu": gpu}


def decision_key(
    artifacts: ModelArtifacts, device: Device, candidates: list[str], precision: str,
    threads: int, options: dict | None = None,
) -> str:
    """sha256 of everything a measured decision depends on."""
    payload = {
        "selection": SELECTION_VERSION,
        "model": artifacts.content_hash,
        "onnx": (artifacts.export_meta or {}).get("onnx_sha256"),
        "device": str(device),
        "identity": device_identity(device),
        "backends": {name: backend_version(name) for name in candidates},
        "precision": precision,
        "threads": threads,
        "options": _jsonable(options or {}),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def decision_path(artifacts: ModelArtifacts, key: str):
    slug = "".join(c if c.isalnum() or c in "-_." else "_" for c in artifacts.name)
    return cache_dir("decisions") / f"{slug}-{key[:16]}.json"


# ---------------------------------------------------------------------------
# The decision


def _decide(
    artifacts: ModelArtifacts, device: Device, backend: str, threads: int | None,
    precision: str, measure: bool | None, options: dict | None,
) -> tuple[Decision, Runner | None]:
    if backend != "auto":
        get_backend_info(backend)  # unknown name: error listing the available ones
        runner_class(backend)  # missing package: error naming the extra to install
        if device.kind == "gpu":
            check_gpu(device)  # no driver / no GPU / wrong index: a clear error, before any build
        decision = Decision(backend, "requested")
        _log_decision(artifacts, device, decision)
        return decision, None

    if device.kind == "gpu":
        # The user asked for a GPU: one that does not exist is an error; a GPU without a GPU
        # backend (no TensorRT, CPU-only onnxruntime) runs on the CPU with one warning.
        check_gpu(device)
        if not candidates_for(artifacts, device, precision):
            log.warning(gpu_fallback_note(None, model=artifacts.name))
            cpu = Device("cpu")
            cpu_precision = precision if candidates_for(artifacts, cpu, precision) else "fp32"
            decision, runner = _decide(artifacts, cpu, backend, threads, cpu_precision, measure, options)
            return replace(decision, device="cpu", precision=cpu_precision), runner
        decision, runner = _decide_on_device(artifacts, device, threads, precision, measure, options)
        note = gpu_fallback_note(decision.backend, model=artifacts.name)
        if note:
            log.warning(note)
        return decision, runner
    return _decide_on_device(artifacts, device, threads, precision, measure, options)


def _decide_on_device(
    artifacts: ModelArtifacts, device: Device, threads: int | None,
    precision: str, measure: bool | None, options: dict | None,
) -> tuple[Decision, Runner | None]:
    candidates = candidates_for(artifacts, device, precision)
    if not candidates:
        installed = installed_backends(device.kind)
        raise BackendUnavailableError(
            f"No installed backend can run {artifacts.name} on {device} at {precision} "
            f"(installed for {device.kind}: {', '.join(installed) or 'none'}; the model has "
            f"{'ONNX' if artifacts.onnx_path else 'no ONNX'} and "
            f"{'Paddle' if artifacts.paddle_files else 'no Paddle'} files). "
            'Install a backend: pip install "hpi[cpu]" (GPU: "hpi[gpu]").'
        )
    # A lone candidate needs no timing, but at bf16/fp16 it still needs the accuracy check.
    if (len(candidates) == 1 and precision == "fp32") or not measuring_enabled(measure):
        switch = f"{MEASURE_ENV}=0" if measure is None else "measure=False"
        why = "the only installed candidate" if len(candidates) == 1 else (
            f"static preference {' > '.join(candidates)}; measuring is off ({switch})"
        )
        decision = Decision(candidates[0], why)
        _log_decision(artifacts, device, decision)
        return decision, None

    resolved_threads = threads or default_threads()
    key = decision_key(artifacts, device, candidates, precision, resolved_threads, options)
    path = decision_path(artifacts, key)
    cached = _load_decision(path, key, candidates)
    if cached is None:
        # One process measures at a time: parallel measuring would skew every timing.
        with file_lock(f"decision-{key[:16]}"):
            cached = _load_decision(path, key, candidates)
            if cached is None:
                try:
                    decision, runner, record = _measure(
                        artifacts, device, candidates, threads, precision, options
                    )
                except BackendError as exc:
                    if precision == "fp32":
                        raise
                    atomic_write_json(path, {
                        "key": key, "model": artifacts.name, "backend": candidates[0],
                        "device": str(device), "precision": precision, "threads": resolved_threads,
                        "fallback_precision": "fp32", "reason": str(exc), "created": _now(),
                    })
                    return _low_precision_fallback(artifacts, device, threads, precision, measure, options, str(exc))
                record.update({"key": key, "model": artifacts.name, "device": str(device),
                               "precision": precision, "threads": resolved_threads,
                               "backends": {n: backend_version(n) for n in candidates}})
                atomic_write_json(path, record)
                _log_decision(artifacts, device, decision)
                return decision, runner
    if cached.get("fallback_precision"):
        return _low_precision_fallback(
            artifacts, device, threads, precision, measure, options,
            f"cached verdict from {cached.get('created', 'an earlier run')}: {cached.get('reason', '')}",
        )
    decision = Decision(
        cached["backend"],
        f"cached decision from {cached.get('created', 'an earlier run')}; {cached.get('reason', '')}".rstrip("; "),
        dict(cached.get("timings_ms") or {}),
    )
    _log_decision(artifacts, device, decision)
    return decision, None


def _low_precision_fallback(
    artifacts: ModelArtifacts, device: Device, threads: int | None, precision: str,
    measure: bool | None, options: dict | None, why: str,
) -> tuple[Decision, Runner | None]:
    """bf16/fp16 changed this model's results on every candidate: run it at fp32, and say so once."""
    log.warning(
        "%s at %s fails the accuracy check on every backend (%s); running it at fp32.",
        artifacts.name, precision, why.splitlines()[0][:300],
    )
    decision, runner = _decide_on_device(artifacts, device, threads, "fp32", measure, options)
    return replace(decision, precision="fp32"), runner


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _load_decision(path, key: str, candidates: list[str]) -> dict | None:
    if not path.exists():
        return None
    record = read_json(path)  # warns when corrupt
    if record is None:
        return None
    backend = record.get("backend")
    if record.get("key") != key or backend not in candidates or not isinstance(record.get("timings_ms", {}), dict):
        log.warning("Cached backend decision %s is invalid; measuring again.", path)
        return None
    if _was_busy(record.get("load_average")) and not _was_busy(_load_average()):
        # Timings taken while other work held the cores are worth one more look on a quiet machine.
        log.debug("Backend decision %s was measured on a busy machine; measuring again now.", path)
        return None
    return record


def _was_busy(load: dict | None) -> bool:
    return bool(load) and load.get("load1", 0.0) > load.get("cores", 1)


def _log_decision(artifacts: ModelArtifacts, device: Device, decision: Decision) -> None:
    log.info("Backend for %s on %s: %s (%s)", artifacts.name, device, decision.backend, decision.reason)


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


def _measure(
    artifacts: ModelArtifacts, device: Device, candidates: list[str], threads: int | None,
    precision: str, options: dict | None,
) -> tuple[Decision, Runner, dict]:
    spec = artifacts.spec
    shapes = _typical_shapes(artifacts)
    feeds = [probe_input(spec, shape) for shape in shapes]
    budget_s = float(os.environ.get(BUDGET_ENV, "8"))
    started = time.perf_counter()
    load = _load_average()

    reference_name, references, reference_runner = _reference_outputs(
        artifacts, device, candidates, threads, precision, options, feeds
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
                        precision=precision, options=options,
                    ).activate()
                    trial.load_ms = (time.perf_counter() - load_start) * 1e3
                for shape, feed, reference in zip(shapes, feeds, references):
                    t0 = time.perf_counter()
                    outputs = list(trial.runner.infer({trial.runner.input_names[0]: feed}).values())
                    trial.warm_ms[shape] = (time.perf_counter() - t0) * 1e3
                    problem = _disagreement(artifacts, reference, outputs, precision)
                    if problem:
                        trial.status, trial.detail = "rejected", problem
                        break
            except Exception as exc:  # any backend error: this candidate is out, the others go on
                trial.status, trial.detail = "failed", _first_line(exc)

        phases["check_s"] = time.perf_counter() - started - phases["reference_s"]
        # Phase 2: timed rounds, interleaved across candidates so that other work on the machine
        # skews them alike. Within a round each candidate runs each shape RUNS_PER_ROUND times back
        # to back: the first run right after another backend is often 2-4x slow (threads waking,
        # caches cold), the minimum is what the backend does in steady use.
        alive = [t for t in trials if t.status == "measured"]
        for round_index in range(ROUNDS):
            if round_index > 0 and time.perf_counter() - started > budget_s:
                break
            for trial in alive:
                try:
                    for shape, feed in zip(shapes, feeds):
                        name = trial.runner.input_names[0]
                        # Cheap models get more runs: a 0.5 ms run is easily hit by a context switch.
                        runs = int(TARGET_ROUND_MS / max(trial.warm_ms.get(shape, 1.0), 0.01))
                        for _ in range(min(MAX_RUNS_PER_ROUND, max(RUNS_PER_ROUND, runs))):
                            t0 = time.perf_counter()
                            trial.runner.infer({name: feed})
                            elapsed = (time.perf_counter() - t0) * 1e3
                            trial.times_ms[shape] = min(trial.times_ms.get(shape, elapsed), elapsed)
                except Exception as exc:
                    trial.status, trial.detail = "failed", _first_line(exc)
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
            _release(trial.runner)
        _release(reference_runner)
        raise

    phases["timing_s"] = time.perf_counter() - started - phases["reference_s"] - phases["check_s"]
    measured = [t for t in trials if t.status == "measured"]
    if not measured:
        for trial in trials:
            _release(trial.runner)
        problems = "; ".join(f"{t.name}: {t.status} ({t.detail})" for t in trials)
        raise BackendError(
            f"No backend produced correct outputs for {artifacts.name} on {device}: {problems}. "
            "Pick one explicitly with backend=... to investigate."
        )
    winner = min(measured, key=lambda t: t.total_ms)
    for trial in trials:
        if trial is not winner:
            _release(trial.runner)
    if reference_runner is not None and reference_runner is not winner.runner:
        _release(reference_runner)

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
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }
    return decision, winner.runner, record


def _reference_outputs(
    artifacts: ModelArtifacts, device: Device, candidates: list[str], threads: int | None,
    precision: str, options: dict | None, feeds: list[np.ndarray],
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
            options=options if shared else None,
        )
        try:
            runner.activate()
            outputs = [list(runner.infer({runner.input_names[0]: feed}).values()) for feed in feeds]
        except Exception as exc:  # a broken reference: try the next one, say why if none works
            _release(runner)
            failures.append(f"{name}: {_first_line(exc)}")
            continue
        if not shared:
            runner.deactivate()
            return f"{name} ({ref_device}, reference only)", outputs, None
        return name, outputs, runner
    raise BackendError(
        f"No reference backend could run {artifacts.name} to check the candidates' outputs "
        f"({'; '.join(failures)}). Pick a backend explicitly with backend=..."
    )


# fp16/bf16 move outputs far beyond fp32 noise (OpenVINO bf16 rec: up to 1.0 on one step); they
# are held to the task's result instead: the same argmax per step / the same det bitmap, almost always.
LOW_PRECISION_AGREEMENT = 0.98
# Recognition at bf16/fp16 is judged on decoded lines of the probe batch (6 lines): at most one may
# change. Measured: OpenVINO bf16 kept 98.3% of 1139 real line texts identical with equal accuracy
# against ground truth (STACK.md); on the 6 probe lines it adds a trailing ideographic space to one.
LOW_PRECISION_LINE_AGREEMENT = 0.8


def _ctc_indices(probs: np.ndarray) -> list[int]:
    """Greedy CTC decode of one T×C row to class indices (blank 0 dropped, repeats collapsed)."""
    best = probs.argmax(-1)
    keep = np.ones(best.shape, dtype=bool)
    keep[1:] = best[1:] != best[:-1]
    return [int(i) for i in best[keep & (best != 0)]]


def _low_precision_disagreement(artifacts: ModelArtifacts, ref: np.ndarray, got: np.ndarray) -> str:
    if ref.shape != got.shape:
        return f"shapes differ: {ref.shape} vs {got.shape}"
    if not np.all(np.isfinite(got)):
        return "candidate output has NaN/Inf"
    spec = artifacts.spec
    if spec is not None and spec.task == "text_detection":
        thresh = float(spec.postprocess.get("thresh", 0.3))
        agreement, what = float(np.mean((ref > thresh) == (got > thresh))), "det bitmap agreement"
    elif spec is not None and spec.task == "text_recognition" and ref.ndim == 3:
        # What matters is the decoded text, not every time step: near-ties between the blank and a
        # repeated character flip step argmaxes without changing a line (measured: 96.7% of steps,
        # 100% of lines equal for OpenVINO bf16 on the probe lines).
        lines = [_ctc_indices(r) == _ctc_indices(g) for r, g in zip(ref, got)]
        agreement = float(np.mean(lines)) if lines else 1.0
        if agreement < LOW_PRECISION_LINE_AGREEMENT:
            return f"decoded-line agreement {agreement:.4f} < {LOW_PRECISION_LINE_AGREEMENT} at reduced precision"
        return ""
    elif ref.ndim >= 2:
        agreement, what = float(np.mean(ref.argmax(-1) == got.argmax(-1))), "argmax agreement"
    else:
        return ""
    if agreement < LOW_PRECISION_AGREEMENT:
        return f"{what} {agreement:.4f} < {LOW_PRECISION_AGREEMENT} at reduced precision"
    return ""


def _disagreement(
    artifacts: ModelArtifacts, reference: list[np.ndarray], outputs: list[np.ndarray], precision: str = "fp32",
) -> str:
    if len(outputs) != len(reference):
        return f"{len(outputs)} outputs, the reference has {len(reference)}"
    for index, (ref, got) in enumerate(zip(reference, outputs)):
        if precision != "fp32":
            problem = _low_precision_disagreement(artifacts, np.asarray(ref), np.asarray(got))
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
            from .._deps import import_onnx

            onnx = import_onnx()
            graph = onnx.load(str(artifacts.onnx_path), load_external_data=False).graph
            initializers = {i.name for i in graph.initializer}
            first = next(i for i in graph.input if i.name not in initializers)
            dims = [d.dim_value for d in first.type.tensor_type.shape.dim]
            return [tuple(d if d > 0 else (1 if i == 0 else 224) for i, d in enumerate(dims))]
        except Exception:  # unreadable graph: fall back to a plain image batch
            pass
    return [(1, 3, 224, 224)]


def _load_average() -> dict | None:
    try:
        load1 = os.getloadavg()[0]
    except (AttributeError, OSError):  # not on every platform
        return None
    return {"load1": round(load1, 2), "cores": default_threads()}


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
    if _was_busy(load):
        # Other processes competed for the cores: say so rather than pretend precision.
        parts.append(f"machine busy: load {load['load1']:.1f} on {load['cores']} cores")
    return "; ".join(parts)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def _release(runner: Runner | None) -> None:
    if runner is not None:
        try:
            runner.deactivate()
        except Exception:  # releasing must not hide the decision
            log.debug("Releasing a %s runner failed", runner.backend_name, exc_info=True)


def _jsonable(value):
    try:
        return json.loads(json.dumps(value, sort_keys=True, default=str))
    except (TypeError, ValueError):
        return str(value)
