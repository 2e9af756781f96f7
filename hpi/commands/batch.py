"""``hpi batch [--ray] INPUT_DIR OUT_DIR [--pipeline OCR] ...``: bulk runs over a document collection.

Each image or PDF under INPUT_DIR gets ``OUT_DIR/<relative path>.json``;
inputs that already have theirs are skipped, so an interrupted run is resumed
by running it again. ``--ray`` runs the files on a Ray cluster through an
actor pool (Ray Data): ``--address`` of a running cluster (``ray start
--head`` ...), else a local Ray instance. Exit codes: 0 all done, 1 some
inputs failed (listed), 2 bad arguments or config, 4 Ray is not installed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import sys
from pathlib import Path

from ..errors import HPIError
from .common import EXIT_MISSING_EXTRA, EXIT_OK, EXIT_SOME_INPUTS_FAILED, EXIT_USAGE, exit_code_for


def build_parser(pipeline_cls=None) -> argparse.ArgumentParser:
    from ..pipelines.params import HPI_PARAMS, add_cli_arguments

    parser = argparse.ArgumentParser(prog="hpi batch", description=__doc__.split("\n\n")[1].replace("\n", " "))
    parser.add_argument("input_dir")
    parser.add_argument("out_dir")
    parser.add_argument("--pipeline", default="OCR", help="pipeline name or YAML (default OCR)")
    parser.add_argument("--device", default=None)
    parser.add_argument("--ray", action="store_true", help="run on Ray (Ray Data, an actor pool)")
    parser.add_argument("--address", default=None, help="Ray cluster address (default: start a local instance)")
    parser.add_argument("--actors", type=int, default=2, help="pipeline actors in the pool (default 2)")
    parser.add_argument("--cpus_per_actor", type=float, default=1.0, help="CPUs Ray reserves per actor (default 1)")
    parser.add_argument("--log_level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    if pipeline_cls is not None:
        add_cli_arguments(parser.add_argument_group(f"{pipeline_cls.name} parameters (default: the config's value)"),
                          pipeline_cls.config_class, [*pipeline_cls.params, *HPI_PARAMS])
    return parser


def main(argv: list[str]) -> int:
    from ..pipelines.params import HPI_PARAMS
    from ..serving import ray_batch
    from .common import pipeline_class_of

    try:
        pipeline_cls = pipeline_class_of(argv)
    except HPIError as exc:
        print(f"hpi batch: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    args = build_parser(pipeline_cls).parse_args(argv)
    logging.basicConfig(level=getattr(logging, args.log_level), format="%(levelname)s hpi: %(message)s")
    logging.getLogger("hpi").setLevel(getattr(logging, args.log_level))
    if not Path(args.input_dir).is_dir():
        print(f"hpi batch: error: {args.input_dir} is not a directory.", file=sys.stderr)
        return EXIT_USAGE
    init, call = {}, {}
    for param in (*pipeline_cls.params, *HPI_PARAMS):
        value = getattr(args, param.name, None)
        if value is not None:
            (call if param.call else init)[param.name] = value
    try:
        if args.ray:
            if importlib.util.find_spec("ray") is None:
                print('hpi batch: error: --ray needs Ray: pip install "hpi[ray]"', file=sys.stderr)
                return EXIT_MISSING_EXTRA
            import ray

            ray.init(address=args.address, include_dashboard=False, log_to_driver=False)
            try:
                report = ray_batch.run_ray(args.pipeline, args.input_dir, args.out_dir, args.device, init, call,
                                           actors=args.actors, cpus_per_actor=args.cpus_per_actor)
            finally:
                ray.shutdown()
        else:
            report = ray_batch.run_local(args.pipeline, args.input_dir, args.out_dir, args.device, init, call)
    except HPIError as exc:
        print(f"hpi batch: error: {exc}", file=sys.stderr)
        return exit_code_for(exc)
    print(json.dumps(report.as_dict(), indent=2))
    if report.failed_inputs:
        print(f"{len(report.failed_inputs)} of {report.done} inputs had failures (see their .json files).",
              file=sys.stderr)
        return EXIT_SOME_INPUTS_FAILED
    return EXIT_OK
