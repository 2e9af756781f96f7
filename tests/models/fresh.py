"""Run a snippet in a fresh interpreter: what an import pulls in, or does to logging, without this session's state."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def fresh_python(code: str) -> subprocess.CompletedProcess:
    """``python -c code`` from the repository root; fails the test when it exits non-zero."""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc
