"""Each model x backend at its typical shapes (pytest-benchmark; all backends in the same run).

Run (writes JSON, then prints the markdown table for BACKENDS.md)::

    HPI_HOME=~/.cache/hpi python -m pytest benchmarks/bench_backends.py -p no:cacheprovider \
        --benchmark-json=benchmarks/backends.json --benchmark-columns=min,median,mean,stddev,rounds
    python benchmarks/bench_backends.py benchmarks/backends.json

Inputs are rendered text (hpi.models.probe_inputs), the shapes are the
registry's ``typical_shapes`` (what automatic selection measures), threads
are ``HPI_NUM_THREADS`` or all cores, precision fp32 (OpenVINO with its f32
hint). ``HPI_BENCH_ROUNDS`` sets the timed rounds (default 10, one warm-up).
``onnxruntime-spin`` is ONNX Runtime with its worker threads spinning (its own
default; hpi turns spinning off), to compare with ``onnxruntime``.
"""

from __future__ import annotations

import json
import os
import sys

import pytest

MODELS = ("PP-OCRv4_mobile_det", "PP-OCRv4_mobile_rec", "PP-OCRv2_mobile_textline_ori")
BACKENDS = ("onnxruntime", "openvino", "paddle", "onnxruntime-spin")
# Variants: a backend with other options, compared in the same run as its default.
VARIANTS = {"onnxruntime-spin": ("onnxruntime", {"allow_spinning": True})}
ROUNDS = int(os.environ.get("HPI_BENCH_ROUNDS", "10"))


def _cases():
    from hpi.models.registry import get_model_spec

    for model in MODELS:
        for shape in get_model_spec(model).inputs[0].typical_shapes:
            for backend in BACKENDS:
                yield pytest.param(model, shape, backend, id=f"{model}-{'x'.join(map(str, shape))}-{backend}")


@pytest.fixture(scope="module")
def runners():
    """One active runner per (model, backend), built on first use and kept for the module."""
    active: dict = {}

    def get(model: str, backend: str):
        from hpi.backends import create_runner, is_installed
        from hpi.backends.export_check import prepare_model

        name, options = VARIANTS.get(backend, (backend, None))
        if not is_installed(name):
            pytest.skip(f"{name} is not installed")
        key = (model, backend)
        if key not in active:
            active[key] = create_runner(name, prepare_model(model), options=options).activate()
        return active[key]

    yield get
    for runner in active.values():
        runner.deactivate()


@pytest.mark.parametrize("model, shape, backend", list(_cases()))
def test_backend(benchmark, runners, model, shape, backend):
    from hpi.models.probe_inputs import probe_input

    runner = runners(model, backend)
    feed = {runner.input_names[0]: probe_input(runner.model.spec, shape)}
    benchmark.group = f"{model} {'x'.join(map(str, shape))}"
    benchmark.extra_info.update(
        {"model": model, "shape": list(shape), "backend": backend, "threads": runner.threads,
         "runner": runner.describe()}
    )
    benchmark.pedantic(runner.infer, args=(feed,), rounds=ROUNDS, iterations=1, warmup_rounds=1)
    # Other processes on the machine skew every figure: keep the load next to them.
    benchmark.extra_info["load1"] = round(os.getloadavg()[0], 2)


def table(path: str) -> str:
    """The markdown table (ms, min / median of the rounds) from a --benchmark-json file."""
    data = json.loads(open(path).read())
    rows: dict[tuple[str, str], dict[str, dict]] = {}
    for bench in data["benchmarks"]:
        info = bench["extra_info"]
        rows.setdefault((info["model"], "x".join(map(str, info["shape"]))), {})[info["backend"]] = bench["stats"]
    backends = [b for b in BACKENDS if any(b in r for r in rows.values())]
    lines = [
        "| model | input shape | " + " | ".join(backends) + " | fastest |",
        "|---|---|" + "---|" * len(backends) + "---|",
    ]
    for (model, shape), stats in rows.items():
        fastest = min(stats, key=lambda b: stats[b]["min"])
        cells = []
        for backend in backends:
            s = stats.get(backend)
            cell = "n/a" if s is None else f"{s['min'] * 1e3:.2f} / {s['median'] * 1e3:.2f}"
            cells.append(f"**{cell}**" if backend == fastest else cell)
        lines.append(f"| {model} | {shape} | " + " | ".join(cells) + f" | {fastest} |")
    machine = data.get("machine_info", {})
    cpu = machine.get("cpu", {}).get("brand_raw") or machine.get("processor", "")
    lines.append("")
    rounds = sorted({b["stats"]["rounds"] for b in data["benchmarks"]})
    threads = sorted({b["extra_info"].get("threads") for b in data["benchmarks"]})
    loads = [b["extra_info"].get("load1") for b in data["benchmarks"] if b["extra_info"].get("load1") is not None]
    load = f"; load average {min(loads):.1f}-{max(loads):.1f}" if loads else ""
    lines.append(
        f"ms, min / median of {'/'.join(map(str, rounds))} rounds after 1 warm-up, "
        f"{'/'.join(map(str, threads))} threads; {cpu}; {data.get('datetime', '')[:16]}{load}"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/backends.json"))
