"""Shared fixtures: real models (fetched once into $HPI_HOME) and rendered images."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

# No test reaches a model host: models come from the shipped wheels, or from the servers and cache trees
# the store tests make (they set these themselves). Subprocesses (CLI, servers) inherit both.
os.environ["HPI_MODEL_SOURCE"] = "none"
os.environ.pop("HPI_MODEL_MIRROR", None)
# Nor a PaddleX cache that happens to be on the machine.
_EMPTY_PADDLEX_HOME = Path(__file__).resolve().parent.parent / ".pytest_cache" / "empty-paddlex-home"
os.environ["PADDLE_PDX_CACHE_HOME"] = str(_EMPTY_PADDLEX_HOME)


@pytest.fixture(scope="session")
def det_model():
    from hpi.backends.export_check import prepare_model

    return prepare_model("PP-OCRv4_mobile_det")


@pytest.fixture(scope="session")
def rec_model():
    from hpi.backends.export_check import prepare_model

    return prepare_model("PP-OCRv4_mobile_rec")


@pytest.fixture(scope="session")
def cls_model():
    from hpi.backends.export_check import prepare_model

    return prepare_model("PP-OCRv2_mobile_textline_ori")


@pytest.fixture
def tmp_hpi_home(tmp_path, monkeypatch):
    """An empty, private $HPI_HOME (wheels are copied from the session cache: no download)."""
    shared = Path(os.environ.get("HPI_HOME") or Path.home() / ".cache" / "hpi") / "wheels"
    home = tmp_path / "hpi-home"
    monkeypatch.setenv("HPI_HOME", str(home))
    if shared.is_dir():
        monkeypatch.setenv("HPI_WHEEL_DIR", str(shared))
    return home


def _malloc_trim() -> None:
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to hand back this way
        pass


@pytest.fixture(autouse=True, scope="module")
def _hand_back_freed_memory():
    """After each test module, collect cycles and hand the freed heap back to the OS: glibc keeps it
    otherwise, so the suite's resident memory grew with the largest module so far (13 GB measured)."""
    yield
    import gc

    gc.collect()
    _malloc_trim()


def pytest_configure(config):
    logging.getLogger("hpi").setLevel(logging.INFO)


def pytest_terminal_summary(terminalreporter):
    """The run's peak resident memory (this process, and the largest child it waited for), so a memory
    regression shows in CI's output as the slowest tests do."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    terminalreporter.write_line(f"peak resident memory: {own:,.0f} MB (pytest), {children:,.0f} MB (largest child)")
