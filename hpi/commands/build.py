"""``hpi build --pipeline OCR --device gpu:0 [--precision fp16]``: build TensorRT engines ahead of time.

Building an engine takes minutes; doing it while building a container image
means the first request does not pay for it. Engines land in
``$HPI_HOME/engines`` (or ``--engine-dir``), keyed by model content, TensorRT
version, GPU and settings, so a runtime with the same GPU and TensorRT loads
them instead of building.

Exit codes: 0 every engine is ready; 1 a build failed; 2 bad arguments, no
GPU, or no TensorRT (the message says what was found and how to fix it).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

from ..errors import BackendUnavailableError, DeviceError, HPIError

log = logging.getLogger("hpi")

# The models of each pipeline that run on TensorRT.
PIPELINE_MODELS = {
    "OCR": ("PP-OCRv4_mobile_det", "PP-OCRv4_mobile_rec", "PP-OCRv2_mobile_textline_ori"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hpi build",
        description="Build (or verify cached) TensorRT engines for a pipeline's models, e.g. in a container build.",
    )
    parser.add_argument("--pipeline", default="OCR", help=f"pipeline name: {', '.join(PIPELINE_MODELS)} (default OCR)")
    parser.add_argument("--device", default="gpu:0", help="gpu or gpu:N (default gpu:0)")
    parser.add_argument("--precision", choices=("fp32", "fp16"), default="fp32",
                        help="fp16 is checked against ONNX Runtime and falls back to fp32 per model if results change")
    parser.add_argument("--model", action="append", dest="models", metavar="NAME",
                        help="build only this model (repeatable); default: every model of the pipeline")
    parser.add_argument("--engine-dir", help="where engines go (default $HPI_HOME/engines)")
    parser.add_argument("--det-limit", type=int, help="side length the detection profiles are tuned for (default 960)")
    parser.add_argument("--max-batch", type=int, help="largest recognition/classification batch (default from the model)")
    parser.add_argument("--no-accuracy-guard", action="store_true", help="keep fp16 engines without checking them")
    return parser


def _options(args) -> dict:
    options: dict = {}
    if args.engine_dir:
        options["engine_dir"] = args.engine_dir
    if args.det_limit:
        options["det_limit"] = args.det_limit
    if args.max_batch:
        options["max_batch"] = args.max_batch
    if args.no_accuracy_guard:
        options["accuracy_guard"] = False
    return options


def check_environment(device: str):
    """``(tensorrt, GpuInfo)`` to build with, or one error naming everything missing and what was found."""
    from .. import _deps
    from ..backends.tensorrt import import_checked_tensorrt
    from ..device import check_gpu, parse_device

    dev = parse_device(device)
    if dev.kind != "gpu":
        raise DeviceError(f"hpi build makes TensorRT engines, which need a GPU device ('gpu' or 'gpu:N'); got {device!r}.")
    problems, trt, gpu = [], None, None
    try:
        gpu = check_gpu(dev)
    except DeviceError as exc:
        problems.append(str(exc))
    try:
        trt = import_checked_tensorrt()
        _deps.import_cuda_runtime()
    except BackendUnavailableError as exc:
        problems.append(str(exc))
    if problems:
        raise BackendUnavailableError(" Also: ".join(problems))
    return trt, gpu


def main(argv: list[str]) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("hpi").setLevel(logging.INFO)  # progress of long builds

    pipeline = args.pipeline
    if pipeline not in PIPELINE_MODELS:
        print(f"error: hpi build knows pipelines {', '.join(PIPELINE_MODELS)}; got {pipeline!r}.", file=sys.stderr)
        return 2
    models = args.models or list(PIPELINE_MODELS[pipeline])
    unknown = [m for m in models if m not in PIPELINE_MODELS[pipeline]]
    if unknown:
        print(f"error: {pipeline} has models {', '.join(PIPELINE_MODELS[pipeline])}; got {', '.join(unknown)}.", file=sys.stderr)
        return 2
    try:
        trt, gpu = check_environment(args.device)
    except (DeviceError, BackendUnavailableError) as exc:
        print(f"error: cannot build TensorRT engines here: {exc}", file=sys.stderr)
        return 2

    print(f"Building {pipeline} engines with TensorRT {trt.__version__} on {gpu.describe()}, precision {args.precision}.",
          file=sys.stderr)
    from ..backends.tensorrt import TensorRTRunner
    from ..models.resolve import resolve_model

    options = _options(args)
    failures = 0
    for position, name in enumerate(models, start=1):
        start = time.perf_counter()
        print(f"[{position}/{len(models)}] {name}: resolving the model ...", file=sys.stderr)
        try:
            artifacts = resolve_model(name)
            runner = TensorRTRunner(artifacts, device=args.device, precision=args.precision, options=options)
            runner.activate()
            try:
                info = runner.engine_info
                engine = info.get(runner.precision, {})
                how = "built" if engine.get("built") else "already cached"
                note = ""
                if runner.precision != args.precision:
                    note = f" (fp16 changed results: {info.get('accuracy_guard', {}).get('reason', '')}; using fp32)"
                print(
                    f"[{position}/{len(models)}] {name}: {runner.precision} engine {how} in "
                    f"{time.perf_counter() - start:.1f} s at {engine.get('engine_dir')}{note}",
                    file=sys.stderr,
                )
            finally:
                runner.deactivate()
        except HPIError as exc:
            failures += 1
            print(f"[{position}/{len(models)}] {name}: FAILED: {exc}", file=sys.stderr)
    if failures:
        print(f"error: {failures} of {len(models)} engine(s) failed to build.", file=sys.stderr)
        return 1
    print(f"All {len(models)} engine(s) ready.", file=sys.stderr)
    return 0
