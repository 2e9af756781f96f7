"""The CLI run in this process: ``hpi.cli.main(argv)`` with its output captured and the logging it sets up
undone, as a fresh ``hpi`` process would see it (its own stderr handler, its own logger levels).

One end-to-end subprocess test stays (``tests/test_cli.py::test_readme_quick_start_on_demo_image``: the
README's command as a user types it); the others need no new interpreter and no new import of hpi.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from dataclasses import dataclass

_LOGGERS = ("hpi", "hpi.pipelines.base")


@dataclass
class CLIRun:
    returncode: int
    stdout: str
    stderr: str


def run_cli(*args, cwd=None) -> CLIRun:
    from hpi.cli import main

    root = logging.getLogger()
    saved_handlers, saved_root_level = list(root.handlers), root.level
    saved_levels = {name: logging.getLogger(name).level for name in _LOGGERS}
    out, err = io.StringIO(), io.StringIO()
    previous = os.getcwd()
    root.handlers[:] = []  # so the command's logging.basicConfig writes to this run's stderr, as in a process
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([str(arg) for arg in args])
            except SystemExit as exc:  # argparse: --help, and its own usage errors
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    finally:
        os.chdir(previous)
        root.handlers[:] = saved_handlers
        root.setLevel(saved_root_level)
        for name, level in saved_levels.items():
            logging.getLogger(name).setLevel(level)
    return CLIRun(code, out.getvalue(), err.getvalue())


__all__ = ["CLIRun", "run_cli"]
