"""``hpi benchmark --pipeline OCR --input DIR``: honest per-stage numbers for one pipeline on one machine.

What it measures, in this order, in one process:

1. cold start, each step separately: model fetch, ONNX export, backend
   decision (measured or read from the cache), runner build (pipeline
   creation) and the first inference (OpenVINO compiles shape-specific code on
   first use). Each step says whether it was served from ``$HPI_HOME``; run
   with an empty ``HPI_HOME`` for a true first-use cold start.
2. ``--warmup`` passes over all images (not counted), then ``--repeat`` timed
   passes. Per image and per stage (det/cls/rec, each split into pre, model,
   post; crop) it reports p50/p90/p99 over all timed runs, the minimum per
   image, throughput, and the share of wall time spent outside model execution.
3. peak RSS: of the whole process, and of the steady state alone (the peak is
   reset after cold start where Linux allows it, ``/proc/self/clear_refs``).

Images that cannot be read or processed are reported per image and do not stop
the run; the exit code is then 1. A readable table goes to the terminal,
``--json PATH`` writes everything for tools (schema ``hpi-benchmark/1``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from .common import EXIT_FAILED, EXIT_OK, EXIT_USAGE

SCHEMA = "hpi-benchmark/1"
# Stage names in display order; the pipeline reports a subset (cls only with textline orientation).
STAGES = (
    "det.pre", "det.model", "det.post", "crop",
    "cls.pre", "cls.model", "cls.post",
    "rec.pre", "rec.model", "rec.post",
)
PERCENTILES = (50, 90, 99)
_PACKAGES = ("numpy", "opencv-python-headless", "onnxruntime", "openvino", "paddlepaddle", "paddle2onnx", "onnx")


def build_parser(pipeline_cls=None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hpi benchmark",
        description="Benchmark a pipeline on a set of images: per-stage times, percentiles, throughput, "
                    "cold start, peak RSS, machine facts.",
    )
    parser.add_argument("--pipeline", default="OCR", help="pipeline name (OCR, ...) or a pipeline YAML path")
    parser.add_argument("--input", action="append", required=True,
                        help="image, PDF or directory (several: repeat the flag)")
    parser.add_argument("--device", default="cpu", help="cpu (default), gpu or gpu:N")
    parser.add_argument("--warmup", type=int, default=1, help="untimed passes over all images (default 1)")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes over all images (default 3)")
    parser.add_argument("--json", dest="json_path", default=None, help="write the full report as JSON here")
    parser.add_argument("--log_level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    if pipeline_cls is not None:
        from ..pipelines.params import HPI_PARAMS, add_cli_arguments

        group = parser.add_argument_group(f"{pipeline_cls.name} settings (default: the config's value)")
        add_cli_arguments(group, pipeline_cls.config_class, [p for p in (*pipeline_cls.params, *HPI_PARAMS) if p.init])
    return parser


# --------------------------------------------------------------------------- statistics


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default method) without importing numpy here."""
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def summarize(values: list[float]) -> dict[str, float]:
    out = {f"p{q}": round(percentile(values, q), 3) for q in PERCENTILES}
    out["min"] = round(min(values), 3) if values else 0.0
    out["mean"] = round(sum(values) / len(values), 3) if values else 0.0
    return out


# --------------------------------------------------------------------------- memory and machine


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def peak_rss_mb() -> float:
    """Peak resident set size of this process (VmHWM; getrusage where /proc is missing)."""
    kb = _status_kb("VmHWM")
    if kb is None:
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(kb / 1024.0, 1)


def current_rss_mb() -> float | None:
    kb = _status_kb("VmRSS")
    return None if kb is None else round(kb / 1024.0, 1)


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux ≥ 4.0: write 5 to /proc/self/clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def machine_facts() -> dict[str, Any]:
    from ..device import cpu_identity
    from .. import __version__

    versions = {"python": platform.python_version(), "hpi": __version__}
    for package in _PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    cpu = cpu_identity()
    return {
        "cpu_model": cpu.get("model"),
        "machine": cpu.get("machine"),
        "cores": cpu.get("cores"),
        "cpu_flags": cpu.get("flags"),
        "os": platform.platform(),
        "versions": versions,
        "hpi_num_threads": os.environ.get("HPI_NUM_THREADS"),
        "hpi_home": os.environ.get("HPI_HOME"),
    }


# --------------------------------------------------------------------------- cold start


def _timed(fn, *args, **kwargs):
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    return value, round((time.perf_counter() - start) * 1e3, 2)


def _export_cached(artifacts) -> bool:
    """Whether a verified ONNX export of ``artifacts`` is already in the cache (no export will run)."""
    if artifacts.paddle_files is None or artifacts.onnx_path is not None:
        return True
    from ..cache import cache_dir
    from ..models import export

    key = export.export_key(artifacts.content_hash, export._converter_version())
    directory = cache_dir("onnx") / f"{export._slug(artifacts.name)}-{key[:16]}"
    return export._valid_entry(directory, key, warn=False) is not None


def cold_start(pipeline_ref: str, overrides: dict, device: str) -> tuple[Any, dict]:
    """Create the pipeline step by step, timing fetch, export, backend decision and runner build per model."""
    from ..backends.select import decide_backend
    from ..device import parse_device
    from ..models.fetch import is_cached, model_files
    from ..backends.export_check import export_checked
    from ..models.registry import MODELS
    from ..models.resolve import locate_model
    from ..pipelines import load_config

    cls, config = load_config(pipeline_ref, overrides=overrides)
    hpi = config.hpi_config
    dev = parse_device(device)
    # Keyed by the whole slot path: layout parsing's seal OCR and general OCR both have a text_detection.
    sections = {".".join(path): cls.module_config_for(config, path) for path in cls.startup_slots(config)}
    models: dict[str, dict] = {}
    for task, section in sections.items():
        entry: dict[str, Any] = {"model": section.model_dir or section.model_name}
        if section.model_dir or section.model_name not in MODELS:
            entry["note"] = "user model: fetch/export/decision happen inside runner build"
            models[task] = entry
            continue
        name = section.model_name
        entry["fetch_cached"] = is_cached(name)
        _, entry["fetch_ms"] = _timed(model_files, name)
        artifacts, entry["hash_ms"] = _timed(locate_model, name)
        entry["export_cached"] = _export_cached(artifacts)
        entry["export_ms"] = 0.0
        if artifacts.paddle_files is not None and artifacts.onnx_path is None:
            artifacts, entry["export_ms"] = _timed(export_checked, artifacts)
        decision, entry["decision_ms"] = _timed(
            decide_backend, artifacts, dev, backend=hpi.backend, threads=hpi.threads,
            precision=hpi.precision, measure=hpi.measure,
        )
        entry["backend"] = decision.backend
        entry["decision"] = decision.reason
        reason = decision.reason
        entry["decision_source"] = (
            "requested" if reason == "requested" else "cached" if reason.startswith("cached")
            else "measured" if reason.startswith("measured") else "static"
        )
        entry["decision_cached"] = entry["decision_source"] != "measured"
        models[task] = entry
    pipeline, build_ms = _timed(cls, config, device=device)
    return pipeline, {"models": models, "runner_build_ms": build_ms}


# --------------------------------------------------------------------------- running


def load_images(inputs: list[str]) -> tuple[list[tuple[str, Any]], list[dict]]:
    """Decode every input once (decoding is not what is benchmarked). Returns (images, errors)."""
    from ..inputs import iter_items

    items, _ = iter_items(inputs if len(inputs) > 1 else inputs[0])
    images, errors = [], []
    for item in items:
        name = item.input_path or item.stem
        if item.page_index is not None:
            name = f"{name}#page{item.page_index}"
        if item.error is not None:
            errors.append({"image": name, "phase": "read", "error": str(item.error)})
        else:
            images.append((name, item.image))
    return images, errors


def run_passes(pipeline, images, warmup: int, repeat: int):
    """Warm-up passes, then timed passes. Returns (samples per image, pass wall times, errors, first ms)."""
    from ..errors import HPIError

    samples: dict[str, list[dict]] = {name: [] for name, _ in images}
    errors: dict[str, dict] = {}
    first_ms = None
    pass_seconds: list[float] = []
    for index in range(warmup + repeat):
        timed = index >= warmup
        pass_start = time.perf_counter()
        for name, image in images:
            if name in errors:
                continue
            start = time.perf_counter()
            try:
                result = next(pipeline.predict(image))
            except (HPIError, ValueError, RuntimeError, MemoryError) as exc:
                errors[name] = {"image": name, "phase": "predict", "error": f"{type(exc).__name__}: {exc}"}
                continue
            wall_ms = (time.perf_counter() - start) * 1e3
            if first_ms is None:
                first_ms = round(wall_ms, 2)
            if timed:
                samples[name].append({"wall": wall_ms, "stages": dict(result.timings_ms),
                                      "lines": len(result.texts())})
        if timed:
            pass_seconds.append(time.perf_counter() - pass_start)
    return samples, pass_seconds, list(errors.values()), first_ms


def build_report(samples: dict[str, list[dict]], pass_seconds: list[float], n_ok: int) -> dict:
    walls: list[float] = []
    stage_values: dict[str, list[float]] = {}
    per_image = []
    model_ms = total_ms = 0.0
    for name, runs in samples.items():
        if not runs:
            continue
        for run in runs:
            walls.append(run["wall"])
            total_ms += run["wall"]
            model_ms += sum(v for k, v in run["stages"].items() if k.endswith(".model"))
        stage_names = [s for s in STAGES if any(s in r["stages"] for r in runs)]
        stage_names += sorted({k for r in runs for k in r["stages"]} - set(stage_names))
        for stage in stage_names:
            stage_values.setdefault(stage, []).extend(r["stages"].get(stage, 0.0) for r in runs)
        best = min(runs, key=lambda r: r["wall"])
        per_image.append({
            "image": name,
            "lines": best["lines"],
            "runs": len(runs),
            "wall_ms": summarize([r["wall"] for r in runs]),
            "stages_min_ms": {s: round(min(r["stages"].get(s, 0.0) for r in runs), 3) for s in stage_names},
        })
    ordered = [s for s in STAGES if s in stage_values] + sorted(set(stage_values) - set(STAGES))
    stages = {s: summarize(stage_values[s]) for s in ordered}
    groups: dict[str, float] = {}
    for stage, values in stage_values.items():
        groups[stage.split(".")[0]] = groups.get(stage.split(".")[0], 0.0) + sum(values)
    min_sum = sum(img["wall_ms"]["min"] for img in per_image)
    throughput = {
        "images": n_ok,
        "passes": len(pass_seconds),
        "images_per_s_mean_pass": round(n_ok * len(pass_seconds) / sum(pass_seconds), 3) if pass_seconds else 0.0,
        "images_per_s_best_pass": round(n_ok / min(pass_seconds), 3) if pass_seconds else 0.0,
        "images_per_s_min_per_image": round(n_ok / (min_sum / 1e3), 3) if min_sum else 0.0,
    }
    return {
        "per_image": per_image,
        "image_ms": summarize(walls),
        "stages_ms": stages,
        "stage_share": {g: round(v / total_ms, 4) for g, v in groups.items()} if total_ms else {},
        "outside_model_share": round(1.0 - model_ms / total_ms, 4) if total_ms else 0.0,
        "throughput": throughput,
    }


# --------------------------------------------------------------------------- output


def format_table(report: dict) -> str:
    lines = []
    machine = report["machine"]
    lines.append(f"hpi benchmark  {report['pipeline']} on {report['device']}  "
                 f"({machine['cpu_model']}, {machine['cores']} cores; kernels {report['kernels']})")
    lines.append("backends: " + ", ".join(f"{k}={v}" for k, v in report["backends"].items()))
    res = report["results"]
    tp = res["throughput"]
    lines.append(f"images: {tp['images']} ok, {len(report['errors'])} failed; warmup {report['warmup']}, "
                 f"repeat {report['repeat']}")
    lines.append("")
    lines.append(f"{'stage':<12}{'p50 ms':>10}{'p90 ms':>10}{'p99 ms':>10}{'min ms':>10}{'mean ms':>10}")
    for stage, s in res["stages_ms"].items():
        lines.append(f"{stage:<12}{s['p50']:>10.1f}{s['p90']:>10.1f}{s['p99']:>10.1f}{s['min']:>10.1f}{s['mean']:>10.1f}")
    s = res["image_ms"]
    lines.append(f"{'per image':<12}{s['p50']:>10.1f}{s['p90']:>10.1f}{s['p99']:>10.1f}{s['min']:>10.1f}{s['mean']:>10.1f}")
    lines.append("")
    lines.append(f"throughput: {tp['images_per_s_mean_pass']:.2f} img/s (mean pass), "
                 f"{tp['images_per_s_best_pass']:.2f} (best pass), {tp['images_per_s_min_per_image']:.2f} "
                 f"(min per image)")
    share = ", ".join(f"{g} {v * 100:.1f}%" for g, v in res["stage_share"].items())
    lines.append(f"time share: {share}; outside model execution {res['outside_model_share'] * 100:.1f}%")
    mem = report["memory"]
    lines.append(f"peak RSS: {mem['peak_rss_mb']:.0f} MB whole process, steady state "
                 f"{mem['steady_peak_rss_mb'] if mem['steady_peak_rss_mb'] is not None else 'n/a'} MB")
    if mem["paddle_imported"]:
        lines.append("  (Paddle was imported for export or backend selection and stays in memory: "
                     "run again with the same HPI_HOME for the steady state of a warm cache)")
    cold = report["cold_start"]
    lines.append(f"cold start: import {cold['import_ms']:.0f} ms, runner build {cold['runner_build_ms']:.0f} ms, "
                 f"first inference {cold['first_inference_ms'] or 0:.0f} ms")
    for task, m in cold["models"].items():
        if "fetch_ms" in m:
            lines.append(
                f"  {task:<22} fetch {m['fetch_ms']:>8.0f} ms{' (cached)' if m['fetch_cached'] else ''}"
                f"  export {m['export_ms']:>8.0f} ms{' (cached)' if m['export_cached'] else ''}"
                f"  decision {m['decision_ms']:>8.0f} ms ({m['decision_source']})"
                f"  -> {m['backend']}"
            )
        else:
            lines.append(f"  {task:<22} {m.get('note', '')}")
    for err in report["errors"]:
        lines.append(f"FAILED {err['image']} ({err['phase']}): {err['error']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    start = time.perf_counter()
    argv = list(sys.argv[1:] if argv is None else argv)
    from ..errors import HPIError
    from .common import pipeline_class_of

    try:
        pipeline_cls = pipeline_class_of(argv)
    except HPIError as exc:
        print(f"hpi benchmark: {exc}", file=sys.stderr)
        return EXIT_USAGE
    args = build_parser(pipeline_cls).parse_args(argv)
    logging.basicConfig(level=getattr(logging, args.log_level), format="%(levelname)s %(name)s: %(message)s")
    if args.warmup < 0 or args.repeat < 1:
        print("hpi benchmark: --warmup must be ≥ 0 and --repeat ≥ 1", file=sys.stderr)
        return EXIT_USAGE
    from .. import kernels

    import_ms = round((time.perf_counter() - start) * 1e3, 2)
    from ..pipelines.params import HPI_PARAMS

    overrides: dict[str, Any] = {
        p.name: getattr(args, p.name) for p in (*pipeline_cls.params, *HPI_PARAMS)
        if p.init and getattr(args, p.name) is not None
    }

    try:
        images, read_errors = load_images(args.input)
        pipeline, cold = cold_start(args.pipeline, overrides, args.device)
    except HPIError as exc:
        from .common import exit_code_for

        print(f"hpi benchmark: {exc}", file=sys.stderr)
        return exit_code_for(exc)
    cold["import_ms"] = import_ms
    rss_after_cold = current_rss_mb()
    reset_ok = reset_peak_rss()
    with pipeline:
        samples, pass_seconds, predict_errors, first_ms = run_passes(pipeline, images, args.warmup, args.repeat)
        backends = pipeline.describe_backends()
    cold["first_inference_ms"] = first_ms
    ok = [name for name, runs in samples.items() if runs]
    report = {
        "schema": SCHEMA,
        "pipeline": args.pipeline,
        "device": args.device,
        "settings": {k: (v if not isinstance(v, bool) else v) for k, v in overrides.items()},
        "warmup": args.warmup,
        "repeat": args.repeat,
        "kernels": kernels.BACKEND,
        "backends": backends,
        "machine": machine_facts(),
        "cold_start": cold,
        "memory": {
            "peak_rss_mb": peak_rss_mb() if not reset_ok else None,
            "rss_after_cold_start_mb": rss_after_cold,
            "steady_peak_rss_mb": peak_rss_mb() if reset_ok else None,
            "paddle_imported": "paddle" in sys.modules,
        },
        "results": build_report(samples, pass_seconds, len(ok)),
        "errors": read_errors + predict_errors,
    }
    # ru_maxrss is never reset: it is the whole process's peak, cold start included.
    report["memory"]["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)
    print(format_table(report))
    if args.json_path:
        path = Path(args.json_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"JSON: {path}")
    if not ok:
        return EXIT_FAILED
    return EXIT_FAILED if report["errors"] else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
