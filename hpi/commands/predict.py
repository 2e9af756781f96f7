"""``hpi --pipeline OCR --input PATH ...``: run a pipeline, PaddleX-style.

Exit codes: 0 all inputs done; 1 some inputs failed (the others finished and a
summary lists the failures); 2 bad arguments, config or device; 3 the engine
could not be prepared (model download or verification, export, backend, cache).
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
from pathlib import Path

from ..errors import HPIError
from .common import (
    EXIT_INTERRUPTED, EXIT_OK, EXIT_SOME_INPUTS_FAILED, EXIT_USAGE, exit_code_for, pipeline_class_of,
)


def build_parser(pipeline_cls=None) -> argparse.ArgumentParser:
    """The CLI of one pipeline: the common flags, then one flag per declared parameter."""
    from ..pipelines import PIPELINES
    from ..pipelines.params import HPI_PARAMS, add_cli_arguments

    parser = argparse.ArgumentParser(
        prog="hpi",
        description="Run a PaddleX-style pipeline on hpi's engine. Sub-commands: hpi models | info | build | benchmark.",
    )
    parser.add_argument("--pipeline", help=f"pipeline name ({', '.join(PIPELINES)}) or a pipeline YAML path")
    parser.add_argument("--input", help="image, PDF or directory (several: repeat the flag)", action="append")
    parser.add_argument("--device", default=None, help="cpu (default), gpu or gpu:N")
    parser.add_argument("--save_path", default=None, help="directory for <stem>_res.json and the result pictures")
    parser.add_argument("--get_pipeline_config", metavar="NAME", help="write NAME's default YAML (to --save_path or .)")
    parser.add_argument("--texts_only", action="store_true", help="print only the short text form (OCR: the lines)")
    parser.add_argument("--no_progress", action="store_true", help="no progress bar")
    parser.add_argument("--log_level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    if pipeline_cls is not None:
        group = parser.add_argument_group(f"{pipeline_cls.name} parameters (default: the config's value)")
        add_cli_arguments(group, pipeline_cls.config_class, [*pipeline_cls.params, *HPI_PARAMS])
    return parser


def _write_pipeline_config(name: str, save_path: str | None) -> int:
    from ..config import default_config_path

    source = default_config_path(name)
    target = Path(save_path or ".")
    if target.suffix.lower() not in (".yaml", ".yml"):
        target.mkdir(parents=True, exist_ok=True)
        target = target / f"{name}.yaml"
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    print(f"The pipeline config has been saved to: {target}")
    return EXIT_OK


def main(argv: list[str]) -> int:
    try:
        pipeline_cls = None if "--get_pipeline_config" in argv else pipeline_class_of(argv)
    except HPIError as exc:
        print(f"hpi: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    parser = build_parser(pipeline_cls)
    args = parser.parse_args(argv)
    logging.basicConfig(level=getattr(logging, args.log_level), format="%(levelname)s hpi: %(message)s")
    logging.getLogger("hpi").setLevel(getattr(logging, args.log_level))
    try:
        if args.get_pipeline_config:
            return _write_pipeline_config(args.get_pipeline_config, args.save_path)
        if not args.pipeline or not args.input:
            parser.print_usage(sys.stderr)
            print("hpi: error: --pipeline and --input are required (or --get_pipeline_config NAME).", file=sys.stderr)
            return EXIT_USAGE
        return _run(args, pipeline_cls)
    except HPIError as exc:
        print(f"hpi: error: {exc}", file=sys.stderr)
        return exit_code_for(exc)
    except KeyboardInterrupt:
        print("hpi: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _run(args, pipeline_cls) -> int:
    from ..device import parse_device
    from ..pipelines import load_config
    from ..pipelines.params import HPI_PARAMS, resolve_call

    init, call = {}, {}
    for param in (*pipeline_cls.params, *HPI_PARAMS):
        value = getattr(args, param.name)
        if value is not None:
            (call if param.call else init)[param.name] = value
    # Every value of the command line checked before any model loads: a wrong flag costs nothing.
    cls, config = load_config(args.pipeline, None, init, device=args.device)
    resolve_call(config, cls.params, call)
    device = parse_device(args.device)
    inputs = args.input if len(args.input) > 1 else args.input[0]
    entries, is_batch = pipeline_cls.expand(inputs)  # images and PDFs, or CSV series
    with cls(config, device=device) as pipeline:
        # The summary below lists each failure once; the pipeline's per-input warning would repeat it.
        logging.getLogger("hpi.pipelines.base").setLevel(logging.ERROR)
        results = pipeline.predict(entries if is_batch else inputs, on_error="report", **call)
        return _consume(args, results, entries if is_batch else [inputs])


def _consume(args, results, entries: list) -> int:
    """Print and save each result; record failures; summary and exit code."""
    from ..errors import DiskFullError, OutputError

    progress = None
    if len(entries) > 1 and not args.no_progress:
        from tqdm import tqdm

        progress = tqdm(total=len(entries), unit="file", file=sys.stderr, dynamic_ncols=True)
    failures: list[tuple[str, str]] = []
    names = OutputNames()
    done = 0
    last_path = None
    stopped = ""
    for result in results:
        if progress is not None and (result.input_path != last_path or result.input_path is None):
            progress.update(1)
        last_path = result.input_path
        done += 1
        label = result.input_path or result.stem
        if result.page_index is not None:
            label = f"{label} (page {result.page_index})"
        if not result.ok:
            failures.append((label, str(result.error)))
            continue
        if args.texts_only:
            for text in result.texts():
                print(text)
        else:
            result.print()
        if args.save_path:
            names.assign(result)
            try:
                result.save_to_json(args.save_path)
                result.save_to_img(args.save_path)
                # PaddleX's CLI saves every format a result has (save_all): tables as HTML/Excel, Markdown, series as CSV.
                for extra in ("save_to_html", "save_to_xlsx", "save_to_markdown", "save_to_csv"):
                    save = getattr(result, extra, None)
                    if save is not None:
                        save(args.save_path)
            except DiskFullError as exc:
                failures.append((label, str(exc)))
                stopped = "stopped: the disk is full, so every later result would fail the same way."
                break
            except OutputError as exc:
                failures.append((label, str(exc)))
    if progress is not None:
        progress.close()
    if names.renamed:
        print(f"\n{len(names.renamed)} result name(s) were taken by an earlier input of this run; written as:",
              file=sys.stderr)
        for label, stem in names.renamed:
            print(f"  {label} -> {stem}_res.json", file=sys.stderr)
    if failures:
        print(f"\n{len(failures)} of {done} inputs failed:", file=sys.stderr)
        for label, message in failures:
            # Messages about a file start with its path already: say it once.
            text = message if message.startswith(label.split(" (page")[0]) else f"{label}: {message}"
            print(f"  {text}", file=sys.stderr)
        if stopped:
            print(f"hpi: {stopped}", file=sys.stderr)
        return EXIT_SOME_INPUTS_FAILED
    return EXIT_OK


class OutputNames:
    """Unique result file names within one run.

    PaddleX names results ``<stem>_res.json``; two inputs with one stem (``a/x.png`` and
    ``b/x.png``, ``x.png`` and ``x.jpg``, page 0 of ``x.pdf`` and ``x_0.png``) would overwrite each
    other. The first keeps PaddleX's name; a later one gets ``<stem>_2``, ``<stem>_3``, … (the
    first free number), in input order, and the run's summary lists each renamed input.
    """

    def __init__(self) -> None:
        self.used: set[str] = set()
        self.renamed: list[tuple[str, str]] = []

    def assign(self, result) -> None:
        stem = result.stem
        if stem in self.used:
            number = 2
            while f"{stem}_{number}" in self.used:
                number += 1
            label = result.input_path or stem
            if result.page_index is not None:
                label = f"{label} (page {result.page_index})"
            result.stem = f"{stem}_{number}"
            self.renamed.append((label, result.stem))
        self.used.add(result.stem)
