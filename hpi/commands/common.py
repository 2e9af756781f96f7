"""What the sub-commands share: their exit codes and the pipeline class an argument list names."""

from __future__ import annotations

import argparse

EXIT_OK = 0
EXIT_FAILED = 1  # some of the work failed (models, engines, checks); the rest finished, a summary says which
EXIT_SOME_INPUTS_FAILED = EXIT_FAILED  # the other inputs finished; a summary lists the failures
EXIT_USAGE = 2  # bad arguments, config or device: fix the command line or the YAML
EXIT_ENGINE = 3  # the engine could not be prepared: model fetch/verification, export, backend, cache
EXIT_MISSING_EXTRA = 4  # an optional extra (serve, ray) is not installed
EXIT_INTERRUPTED = 130


def exit_code_for(exc: Exception) -> int:
    """EXIT_USAGE for what the user wrote wrong, EXIT_ENGINE for what failed while preparing to run."""
    from ..errors import ConfigError, DeviceError, InputError

    return EXIT_USAGE if isinstance(exc, (ConfigError, DeviceError, InputError)) else EXIT_ENGINE


def pipeline_class_of(argv: list[str]):
    """The class of the pipeline ``--pipeline`` names (a name or a YAML's pipeline_name); OCR for --help."""
    from ..config import load_pipeline_config
    from ..pipelines import PIPELINES, legacy, pipeline_class

    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--pipeline")
    known, _ = pre.parse_known_args(argv)
    ref = known.pipeline or "OCR"
    if ref in PIPELINES:
        return pipeline_class(ref)
    return pipeline_class(legacy.pipeline_name(load_pipeline_config(ref)))  # today's form or PaddleX's older one
