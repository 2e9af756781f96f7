"""``hpi build --pipeline OCR|cfg.yaml --device gpu:0 [--precision fp16]``: build TensorRT engines ahead of time.

Building an engine takes minutes; doing it while building a container image
means the first request does not pay for it. Engines land in
``$HPI_HOME/engines`` (or ``engine_dir``), keyed by model content, TensorRT
version, GPU and settings, so a runtime with the same GPU, TensorRT and
options loads them instead of building. The options are the pipeline's own:
``hpi_config.backend_config.tensorrt`` of its YAML (the flags below override
them), so ``hpi build --pipeline cfg.yaml`` and ``create_pipeline("cfg.yaml")``
build and look for the same engines. Every model the pipeline can load is
built, its sub-pipelines' (the document preprocessor's) included.

Exit codes: 0 every engine is ready; 1 a build failed; 2 bad arguments, no
GPU, or no TensorRT (the message says what was found and how to fix it).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

from ..errors import BackendUnavailableError, DeviceError, HPIError
from .common import EXIT_FAILED, EXIT_OK, EXIT_USAGE

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hpi build",
        description="Build (or verify cached) TensorRT engines for a pipeline's models, e.g. in a container build.",
    )
    parser.add_argument("--pipeline", default="OCR", help="pipeline name or YAML path (default OCR)")
    parser.add_argument("--device", default="gpu:0", help="gpu or gpu:N (default gpu:0)")
    parser.add_argument("--precision", choices=("fp32", "fp16"), default=None,
                        help="fp16 is checked against ONNX Runtime and falls back to fp32 per model if results change "
                             "(default: the config's precision, fp32 unless it says fp16)")
    parser.add_argument("--model", action="append", dest="models", metavar="NAME",
                        help="build only this model (repeatable); default: every model of the pipeline")
    parser.add_argument("--engine-dir", help="where engines go (default $HPI_HOME/engines); these four flags set "
                        "hpi_config.backend_config.tensorrt options: give the pipeline the same ones")
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

    try:
        pipeline_cls, config, options, jobs = _plan(args)
    except HPIError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    pipeline = pipeline_cls.name
    precision = args.precision or ("fp16" if config.hpi_config.precision == "fp16" else "fp32")
    try:
        trt, gpu = check_environment(args.device)
    except (DeviceError, BackendUnavailableError) as exc:
        print(f"error: cannot build TensorRT engines here: {exc}", file=sys.stderr)
        return EXIT_USAGE

    print(f"Building {pipeline} engines with TensorRT {trt.__version__} on {gpu.describe()}, precision {precision}.",
          file=sys.stderr)
    from ..backends.tensorrt import TensorRTRunner
    from ..pipelines.base import resolve_module_model

    failures = 0
    models = [name for name, _ in jobs]
    for position, (name, module) in enumerate(jobs, start=1):
        start = time.perf_counter()
        print(f"[{position}/{len(models)}] {name}: resolving the model ...", file=sys.stderr)
        try:
            artifacts, _ = resolve_module_model(module)
            runner = TensorRTRunner(artifacts, device=args.device, precision=precision, options=options)
            runner.activate()
            try:
                info = runner.engine_info
                engine = info.get(runner.precision, {})
                how = "built" if engine.get("built") else "already cached"
                note = ""
                if runner.precision != precision:
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
        return EXIT_FAILED
    print(f"All {len(models)} engine(s) ready.", file=sys.stderr)
    if _options(args):
        print("The pipeline finds these engines with the same options in its config: hpi_config: "
              f"{{backend: tensorrt, backend_config: {{tensorrt: {options}}}}}.", file=sys.stderr)
    return EXIT_OK


def _plan(args):
    """(pipeline class, config, TensorRT options, [(model name, module config)]) from the table and config."""
    from ..errors import ConfigError
    from ..pipelines import load_config

    pipeline_cls, config = load_config(args.pipeline)
    options = {**dict(config.hpi_config.backend_config.get("tensorrt", {})), **_options(args)}
    if options:
        from ..backends import validate_backend_config

        options = validate_backend_config({"tensorrt": options})["tensorrt"]
    modules = [pipeline_cls.module_config_for(config, path) for path in pipeline_cls.slot_paths()]
    jobs = [(module.model_dir or module.model_name, module) for module in modules]
    names = [name for name, _ in jobs]
    unknown = [m for m in args.models or () if m not in names]
    if unknown:
        raise ConfigError(f"{pipeline_cls.name} has models {', '.join(names)}; got {', '.join(unknown)}.")
    if args.models:
        jobs = [job for job in jobs if job[0] in args.models]
    return pipeline_cls, config, options, jobs
