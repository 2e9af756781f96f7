"""GPU self-check: proves hpi's GPU path on a real NVIDIA machine, and says exactly what it proved.

Run on the GPU machine (models are fetched into $HPI_HOME on first use)::

    python benchmarks/gpu_selfcheck.py                      # auto: full if TensorRT is there, else cuda
    python benchmarks/gpu_selfcheck.py --mode full --precision both --json out.json
    python benchmarks/gpu_selfcheck.py --mode cuda          # GPU + cuda-python only, no TensorRT needed

Modes:

* ``cuda`` (GPU, cuda-python; no TensorRT): device probe and its errors,
  pinned host ↔ device round trips through a stream with ``cudaMemcpyAsync``
  (the buffers TensorRTRunner uses, reused across sizes), ONNX Runtime CPU on
  det/rec/cls (the reference the TensorRT checks compare with), and ONNX
  Runtime's CUDA provider against its CPU provider when onnxruntime-gpu is
  installed.
* ``full`` (adds TensorRT): engines for det/rec/cls built (timed) then
  loaded from the cache, parity with ONNX Runtime CPU on rendered inputs at
  shapes routed to every profile, the FP16 guard's verdict, concurrent calls,
  the OCR pipeline on rendered pages against the CPU pipeline (if
  ``hpi.create_pipeline`` is importable), the same outputs as NVIDIA's
  Polygraphy ``TrtRunner`` on our engine plan profile by profile (if
  polygraphy is installed), and a latency table (p50/p99 per model and end
  to end).

Exit codes: 0 every check of the mode passed; 1 a check failed (mismatch,
error); 2 the machine lacks what the mode needs (no GPU, no TensorRT) —
nothing was proven. The last lines always list what was and was not checked.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MODELS = ("PP-OCRv4_mobile_det", "PP-OCRv4_mobile_rec", "PP-OCRv2_mobile_textline_ori")

# Polygraphy (optional cross-check) must never pip-install anything on its own.
os.environ.setdefault("POLYGRAPHY_AUTOINSTALL_DEPS", "0")


@dataclass
class Report:
    checks: list[dict] = field(default_factory=list)
    not_checked: list[str] = field(default_factory=list)
    latency: list[dict] = field(default_factory=list)
    environment: dict = field(default_factory=dict)

    def run(self, name: str, func, *args, **kwargs):
        start = time.perf_counter()
        try:
            detail = func(*args, **kwargs)
            status = "PASS"
        except SkipCheck as exc:
            status, detail = "SKIP", str(exc)
        except Exception as exc:  # every failure is reported, the rest still run
            status = "FAIL"
            detail = f"{type(exc).__name__}: {exc}"
            if os.environ.get("HPI_SELFCHECK_TRACE"):
                traceback.print_exc()
        seconds = time.perf_counter() - start
        self.checks.append({"check": name, "status": status, "detail": _short(detail, 2000), "seconds": round(seconds, 3)})
        print(f"[{status}] {name} ({seconds:.1f} s): {_short(detail)}", flush=True)
        if status == "SKIP":
            self.not_checked.append(f"{name}: {detail}")
        return detail if status == "PASS" else None

    @property
    def failed(self) -> bool:
        return any(c["status"] == "FAIL" for c in self.checks)


class SkipCheck(Exception):
    pass


def _short(detail, limit: int = 300) -> str:
    if hasattr(detail, "onnx_path"):  # resolved model artifacts
        return f"{detail.name}: {detail.onnx_path}"
    text = detail if isinstance(detail, str) else json.dumps(detail, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _percentiles(samples_ms: list[float]) -> dict:
    arr = np.asarray(samples_ms)
    return {"p50_ms": float(np.percentile(arr, 50)), "p99_ms": float(np.percentile(arr, 99)),
            "mean_ms": float(arr.mean()), "runs": len(samples_ms)}


# --------------------------------------------------------------------------- CUDA-only checks


def check_device_probe(device: str) -> dict:
    from hpi.device import check_gpu, driver_status, probe_gpus

    gpus = probe_gpus()
    if not gpus:
        raise AssertionError(f"cuda-python sees no GPU ({driver_status()})")
    gpu = check_gpu(device)
    return {"gpus": [g.describe() for g in gpus], "selected": gpu.describe(), "driver": driver_status()}


def check_device_errors() -> str:
    from hpi.device import check_gpu, probe_gpus
    from hpi.errors import DeviceError

    count = len(probe_gpus())
    try:
        check_gpu(f"gpu:{count}")
    except DeviceError as exc:
        if f"{count} GPU(s)" not in str(exc):
            raise AssertionError(f"the out-of-range error does not say what exists: {exc}") from exc
        return f"gpu:{count} → {exc}"
    raise AssertionError(f"gpu:{count} was accepted although only {count} GPU(s) exist")


def check_round_trip(megabytes: int) -> dict:
    from hpi.backends.tensorrt.cuda import round_trip_check

    start = time.perf_counter()
    result = round_trip_check(megabytes << 20)
    seconds = time.perf_counter() - start
    result["gib_per_s_total"] = round(3 * result["bytes"] / seconds / (1 << 30), 2)
    return result


def check_buffer_reuse() -> dict:
    """The runner's pattern: one buffer pair sized for the max, reused for smaller tensors of any shape."""
    from hpi.backends.tensorrt.cuda import CudaStream, HostDeviceBuffer

    stream = CudaStream()
    largest = (16, 3, 48, 3200)
    buffer_in = HostDeviceBuffer(int(np.prod(largest)) * 4, np.float32, "in")
    buffer_out = HostDeviceBuffer(int(np.prod(largest)) * 4, np.float32, "out")
    from hpi._deps import import_cuda_runtime
    from hpi.backends.tensorrt.cuda import cuda_call

    cudart = import_cuda_runtime()
    try:
        pointers = (buffer_in.device_ptr, buffer_out.device_ptr)
        rng = np.random.default_rng(1)
        shapes = [(1, 3, 48, 320), (6, 3, 48, 640), largest, (2, 3, 48, 100)]
        for shape in shapes:
            data = rng.standard_normal(shape).astype(np.float32)
            nbytes = buffer_in.stage(data)
            buffer_in.to_device_async(nbytes, stream)
            cuda_call(cudart.cudaMemcpyAsync(buffer_out.device_ptr, buffer_in.device_ptr, nbytes,
                                             cudart.cudaMemcpyKind.cudaMemcpyDeviceToDevice, stream.stream), "d2d")
            buffer_out.to_host_async(nbytes, stream)
            stream.synchronize()
            if not np.array_equal(buffer_out.read(shape), data):
                raise AssertionError(f"data of shape {shape} changed in the round trip")
        if (buffer_in.device_ptr, buffer_out.device_ptr) != pointers:
            raise AssertionError("buffers were reallocated")
        return {"shapes": [list(s) for s in shapes], "reused": True}
    finally:
        buffer_in.free()
        buffer_out.free()
        stream.close()


def _probe_feeds(spec, shapes):
    from hpi.models.probe_inputs import probe_input

    return [{spec.inputs[0].name: probe_input(spec, shape, seed=i)} for i, shape in enumerate(shapes)]


def _check_shapes(spec) -> list[tuple[int, ...]]:
    """Shapes that land in every profile hpi builds for this model (opt shapes plus small ones)."""
    from hpi.backends.tensorrt.profiles import profiles_for_rules

    shapes = []
    for profile in profiles_for_rules(spec.inputs, task=spec.task):
        r = profile[spec.inputs[0].name]
        shapes.append(tuple(r.opt))
    rule = spec.inputs[0]
    shapes.append(tuple(rule.typical_shapes[-1]))
    return list(dict.fromkeys(shapes))


def check_onnxruntime_cpu(models, references: dict) -> dict:
    from hpi.backends.onnxruntime import OnnxRuntimeRunner

    out = {}
    for name, artifacts in models.items():
        shapes = _check_shapes(artifacts.spec)
        feeds = _probe_feeds(artifacts.spec, shapes)
        with OnnxRuntimeRunner(artifacts, device="cpu", options={"providers": ["CPUExecutionProvider"]}) as runner:
            outputs = [runner.infer(feed) for feed in feeds]
        for result in outputs:
            for value in result.values():
                if not np.all(np.isfinite(value)):
                    raise AssertionError(f"{name}: ONNX Runtime CPU produced NaN/Inf")
        references[name] = (feeds, outputs)
        out[name] = [list(s) for s in shapes]
    return out


def check_onnxruntime_gpu(models, references: dict, device: str) -> dict:
    from hpi.backends.onnxruntime import OnnxRuntimeRunner
    from hpi.models.compare import compare_outputs

    import onnxruntime as ort

    if "CUDAExecutionProvider" not in ort.get_available_providers():
        raise SkipCheck("onnxruntime-gpu is not installed (the CPU build has no CUDA provider)")
    out = {}
    for name, artifacts in models.items():
        feeds, expected = references[name]
        with OnnxRuntimeRunner(artifacts, device=device, options={"use_trt_ep": False}) as runner:
            if "CUDAExecutionProvider" not in runner.active_providers:
                raise AssertionError(f"{name}: session fell back to {runner.active_providers}")
            for feed, reference in zip(feeds, expected):
                got = runner.infer(feed)
                for key in reference:
                    comparison = compare_outputs(artifacts.spec, reference[key], got[key])
                    if not comparison.ok:
                        raise AssertionError(f"{name} {feed['x'].shape}: CUDA EP vs CPU: {comparison.reason}")
        out[name] = "matches CPU"
    return out


# --------------------------------------------------------------------------- TensorRT checks


def check_tensorrt_model(name, artifacts, references, device, precision, engine_dir, report: Report, runs: int):
    from hpi.backends.tensorrt import TensorRTRunner
    from hpi.backends.tensorrt.guard import outputs_guard
    from hpi.models.compare import compare_outputs

    options = {"engine_dir": engine_dir}
    start = time.perf_counter()
    runner = TensorRTRunner(artifacts, device=device, precision=precision, options=options).activate()
    first_seconds = time.perf_counter() - start
    try:
        info = dict(runner.engine_info)
        feeds, expected = references[name]
        outputs = [runner.infer(feed) for feed in feeds]
        details = {"first_activation_s": round(first_seconds, 1), "precision_used": runner.precision,
                   "built": info.get(runner.precision, {}).get("built"), "profiles": [p.name for p in runner.profiles]}
        if runner.precision == "fp32":
            for feed, reference, got in zip(feeds, expected, outputs):
                for key in reference:
                    if key not in got:
                        raise AssertionError(f"output {key!r} missing from the engine (it has {sorted(got)})")
                    comparison = compare_outputs(artifacts.spec, reference[key], got[key])
                    if not comparison.ok:
                        raise AssertionError(f"fp32 engine vs ONNX Runtime CPU at {feed['x'].shape}: {comparison.reason}")
            details["parity"] = "fp32 within the model's tolerance at every shape"
            if precision == "fp16":
                details["fp16_fallback"] = info.get("accuracy_guard")
        else:
            verdict = outputs_guard(artifacts.spec.task, expected, outputs, artifacts.spec.postprocess)
            if not verdict.ok:
                raise AssertionError(f"fp16 engine changes results although its guard passed: {verdict.reason}")
            details["parity"] = f"fp16 results unchanged ({verdict.reason})"
            details["guard"] = info.get("accuracy_guard")

        # Threads: the runner's lock must keep results identical to sequential calls.
        results: dict = {}

        def work(i):
            results[i] = runner.infer(feeds[i % len(feeds)])

        threads = [threading.Thread(target=work, args=(i,)) for i in range(max(4, len(feeds)))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for i, got in results.items():
            for key, value in got.items():
                if not np.array_equal(value, outputs[i % len(feeds)][key]):
                    raise AssertionError("concurrent calls returned different outputs than sequential ones")
        details["threads"] = f"{len(threads)} concurrent calls identical to sequential"

        # Latency at the model's typical shape.
        feed = feeds[-1]
        for _ in range(3):
            runner.infer(feed)
        samples = []
        for _ in range(runs):
            t0 = time.perf_counter()
            runner.infer(feed)
            samples.append((time.perf_counter() - t0) * 1000)
        report.latency.append({"what": f"{name} {precision}→{runner.precision} {list(feed['x'].shape)}", **_percentiles(samples)})
    finally:
        runner.deactivate()

    # Second activation: must load from the cache, not build.
    start = time.perf_counter()
    again = TensorRTRunner(artifacts, device=device, precision=precision, options=options).activate()
    try:
        if again.engine_info.get(again.precision, {}).get("built"):
            raise AssertionError("the second activation rebuilt the engine instead of loading it from the cache")
        details["cached_activation_s"] = round(time.perf_counter() - start, 2)
    finally:
        again.deactivate()
    return details


def check_against_polygraphy(name, artifacts, device, precision, engine_dir) -> dict:
    """Our runner vs NVIDIA's Polygraphy TrtRunner on the same engine plan, profile by profile."""
    try:
        from polygraphy.backend.trt import EngineFromBytes, TrtRunner
    except ImportError as exc:
        raise SkipCheck(f"polygraphy is not installed ({exc})")
    from hpi.backends.tensorrt import TensorRTRunner
    from hpi.backends.tensorrt.guard import representative_feeds
    from hpi.backends.tensorrt.profiles import route

    ours = TensorRTRunner(artifacts, device=device, precision=precision,
                          options={"engine_dir": engine_dir, "accuracy_guard": False}).activate()
    try:
        plan = (Path(ours.engine_info[ours.precision]["engine_dir"]) / "engine.plan").read_bytes()
        feeds = representative_feeds(artifacts.spec, ours.profiles)
        compared = []
        for feed in feeds:
            mine = ours.infer(feed)
            used = route(ours.profiles, {k: v.shape for k, v in feed.items()})  # the profile our runner ran
            try:
                with TrtRunner(EngineFromBytes(plan), optimization_profile=used) as theirs:
                    reference = theirs.infer(feed)
            except Exception as exc:  # Polygraphy's own CUDA wrapper may not load here
                raise SkipCheck(f"Polygraphy could not run the engine here ({type(exc).__name__}: {exc})")
            for key, value in mine.items():
                other = np.asarray(reference[key])
                if value.shape != other.shape or not np.allclose(value, other, rtol=0, atol=1e-5):
                    worst = float(np.max(np.abs(value - other))) if value.shape == other.shape else "shape"
                    raise AssertionError(
                        f"profile {ours.profiles[used].name}: output {key!r} differs from Polygraphy's "
                        f"({value.shape} vs {other.shape}, max abs {worst})"
                    )
            compared.append(ours.profiles[used].name)
        return {"profiles_compared": compared, "precision": ours.precision}
    finally:
        ours.deactivate()


def check_pipeline(device: str, precision: str, pages: int, runs: int, report: Report) -> dict:
    try:
        from hpi import create_pipeline
        import hpi.pipelines  # noqa: F401  (the pipeline package may not exist yet)
    except ImportError as exc:
        raise SkipCheck(f"hpi.create_pipeline is not importable ({exc})")
    from hpi.models.probe_inputs import render_page

    images = [render_page(h, w, seed=i) for i, (h, w) in enumerate([(1100, 850), (850, 1100), (960, 960), (600, 1600)][:pages])]
    # Keep detection inputs inside the engines' profiles (the registry's det max side, 1920 today).
    from hpi.models.registry import get_model_spec

    kwargs = {"text_det_max_side_limit": min(get_model_spec(MODELS[0]).inputs[0].max_shape[2:])}
    with create_pipeline("OCR", device=device, backend="tensorrt", precision=precision, **kwargs) as gpu, \
            create_pipeline("OCR", device="cpu", backend="onnxruntime", **kwargs) as cpu:
        differing, total = 0, 0
        for image in images:
            gpu_texts = next(iter(gpu.predict(image))).json["res"]["rec_texts"]
            cpu_texts = next(iter(cpu.predict(image))).json["res"]["rec_texts"]
            total += max(len(cpu_texts), 1)
            if gpu_texts != cpu_texts:
                differing += sum(a != b for a, b in zip(gpu_texts, cpu_texts)) + abs(len(gpu_texts) - len(cpu_texts))
        backends = gpu.describe_backends() if hasattr(gpu, "describe_backends") else {}
        allowed = 0 if precision == "fp32" else max(1, int(0.02 * total))
        if differing > allowed:
            raise AssertionError(f"{differing} of {total} text lines differ from the CPU pipeline (allowed {allowed})")
        samples = []
        for i in range(runs):
            t0 = time.perf_counter()
            list(gpu.predict(images[i % len(images)]))
            samples.append((time.perf_counter() - t0) * 1000)
        report.latency.append({"what": f"OCR pipeline end to end ({precision}, {len(images)} pages)", **_percentiles(samples)})
    return {"pages": len(images), "lines": total, "differing_lines": differing, "backends": backends}


# --------------------------------------------------------------------------- main


def _environment() -> dict:
    from hpi import _deps
    from hpi.backends.tensorrt import tensorrt_status

    env = tensorrt_status()
    env["onnxruntime"] = _deps.version_of("onnxruntime")
    env["python"] = sys.version.split()[0]
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("auto", "cuda", "full"), default="auto")
    parser.add_argument("--device", default="gpu:0")
    parser.add_argument("--precision", choices=("fp32", "fp16", "both"), default="both")
    parser.add_argument("--runs", type=int, default=50, help="timed runs per latency row")
    parser.add_argument("--pages", type=int, default=4, help="rendered pages for the pipeline check (1-4)")
    parser.add_argument("--round-trip-mb", type=int, default=64, help="size of the pinned/device round trip")
    parser.add_argument("--engine-dir", help="engine cache (default: a fresh temporary directory, so builds are timed)")
    parser.add_argument("--json", help="write the report here")
    args = parser.parse_args(argv)

    import logging

    logging.basicConfig(level=logging.INFO, format="    %(message)s")
    from hpi import _deps

    report = Report()
    report.environment = _environment()
    print("environment:", json.dumps(report.environment, default=str), flush=True)

    has_cuda = _deps.is_available("cuda")
    gpus = report.environment.get("gpus") or []
    has_trt = _deps.is_available("tensorrt")
    mode = args.mode if args.mode != "auto" else ("full" if has_trt else "cuda")
    print(f"mode: {mode}", flush=True)
    missing = []
    if not has_cuda:
        missing.append("cuda-python is not installed")
    if not gpus:
        missing.append(f"no NVIDIA GPU is visible ({report.environment.get('driver')})")
    if mode == "full" and not has_trt:
        missing.append("TensorRT is not installed (use --mode cuda to check the CUDA half)")
    if missing:
        print("NOT CHECKED, this machine lacks: " + "; ".join(missing), flush=True)
        print("NOTHING PROVEN (exit 2).")
        _write(args.json, report, mode, missing)
        return 2

    # -- CUDA half (no TensorRT needed) --
    report.run("device probe (cuda-python)", check_device_probe, args.device)
    report.run("device error for a missing index", check_device_errors)
    report.run(f"pinned host ↔ device round trip via cudaMemcpyAsync on a stream ({args.round_trip_mb} MiB)",
               check_round_trip, args.round_trip_mb)
    report.run("buffer pair reused across tensor sizes (runner pattern)", check_buffer_reuse)

    from hpi.backends.export_check import prepare_model

    models = {}
    for name in MODELS:
        artifacts = report.run(f"resolve {name}", lambda n=name: prepare_model(n))
        if artifacts is not None:
            models[name] = artifacts
    references: dict = {}
    report.run("ONNX Runtime CPU reference on rendered inputs (det/rec/cls)", check_onnxruntime_cpu, models, references)
    report.run("ONNX Runtime CUDA provider vs CPU provider", check_onnxruntime_gpu, models, references, args.device)

    # -- TensorRT half --
    if mode == "full":
        precisions = ("fp32", "fp16") if args.precision == "both" else (args.precision,)
        engine_dir = args.engine_dir or tempfile.mkdtemp(prefix="hpi-selfcheck-engines-")
        for precision in precisions:
            for name, artifacts in models.items():
                if name not in references:
                    report.not_checked.append(f"TensorRT {name} {precision}: no ONNX Runtime reference (see its failure above)")
                    continue
                report.run(f"TensorRT {name} {precision}: build, cache reload, parity, threads",
                           check_tensorrt_model, name, artifacts, references, args.device, precision,
                           engine_dir, report, args.runs)
                report.run(f"TensorRT {name} {precision}: same outputs as Polygraphy's TrtRunner on our engine",
                           check_against_polygraphy, name, artifacts, args.device, precision, engine_dir)
            report.run(f"OCR pipeline on TensorRT ({precision}) vs CPU pipeline", check_pipeline,
                       args.device, precision, max(1, min(4, args.pages)), max(2, args.runs // 5), report)
    else:
        report.not_checked.append(
            "TensorRT: engine build, engine cache reload, optimization-profile routing on the GPU, "
            "execute_async_v3, FP16 accuracy guard, OCR pipeline on TensorRT, TensorRT latency "
            "(TensorRT is not installed; run --mode full where it is)"
        )

    if report.latency:
        print("\nlatency (ms)")
        print(f"{'what':<70} {'p50':>9} {'p99':>9} {'runs':>5}")
        for row in report.latency:
            print(f"{row['what']:<70} {row['p50_ms']:9.2f} {row['p99_ms']:9.2f} {row['runs']:5d}")

    print("\nchecked:")
    for check in report.checks:
        if check["status"] != "SKIP":
            print(f"  [{check['status']}] {check['check']}")
    print("not checked:")
    for item in report.not_checked or ["(nothing: every check of this mode ran)"]:
        print(f"  - {item}")
    _write(args.json, report, mode, [])
    if report.failed:
        print("\nSELF-CHECK FAILED (exit 1).")
        return 1
    print(f"\nSELF-CHECK PASSED ({mode} mode).")
    return 0


def _write(path, report: Report, mode: str, missing: list[str]) -> None:
    if not path:
        return
    Path(path).write_text(json.dumps({
        "mode": mode, "environment": report.environment, "missing": missing, "checks": report.checks,
        "not_checked": report.not_checked, "latency": report.latency,
    }, indent=2, default=str))


if __name__ == "__main__":
    sys.exit(main())
