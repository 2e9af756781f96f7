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
def _hand_back_freed_memory(request):
    """After each test module, collect cycles and hand the freed heap back to the OS: glibc keeps it
    otherwise, so the suite's resident memory grew with the largest module so far (13 GB measured)."""
    yield
    import gc

    gc.collect()
    _malloc_trim()
    if os.environ.get("HPI_TEST_MEMORY_LOG"):  # the resident memory each module leaves behind
        resident = int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
        with open(os.environ["HPI_TEST_MEMORY_LOG"], "a", encoding="utf-8") as log:
            log.write(f"{resident:8.0f} MB after {request.module.__name__}\n")


def pytest_configure(config):
    logging.getLogger("hpi").setLevel(logging.INFO)


# Peak resident memory after each test: (peak so far in MB, [(rise, new peak, test), ...]) for pytest itself
# and for the largest child process it waited for.
_PEAKS: dict[str, list] = {"pytest": [0.0, []], "largest child": [0.0, []]}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    yield
    import resource

    for name, who in (("pytest", resource.RUSAGE_SELF), ("largest child", resource.RUSAGE_CHILDREN)):
        peak = resource.getrusage(who).ru_maxrss / 1024
        if peak > _PEAKS[name][0]:
            _PEAKS[name][1].append((peak - _PEAKS[name][0], peak, item.nodeid))
            _PEAKS[name][0] = peak


def pytest_terminal_summary(terminalreporter):
    """The run's peak resident memory (this process, and the largest child it waited for) and the tests that
    raised it most, so a memory regression shows in CI's output as the slowest tests do."""
    for name, (peak, rises) in _PEAKS.items():
        terminalreporter.write_line(f"peak resident memory ({name}): {peak:,.0f} MB; raised most by:")
        for rise, reached, test in sorted(rises, reverse=True)[:4]:
            terminalreporter.write_line(f"  +{rise:,.0f} MB to {reached:,.0f} MB  {test}")


OWN_PROCESS_ENV = "HPI_TEST_IN_OWN_PROCESS"


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """A test marked ``own_process`` runs in a child pytest (its fixtures there too), so the memory it takes
    goes back when it ends: Paddle Inference's allocator keeps what a pipeline took (about 2 GB for OCR) for
    the life of the process, and the suite's peak would carry it."""
    if pyfuncitem.get_closest_marker("own_process") is None or os.environ.get(OWN_PROCESS_ENV):
        return None
    import subprocess

    child = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--no-header", pyfuncitem.nodeid],
        capture_output=True, text=True, cwd=str(pyfuncitem.config.rootpath), timeout=900,
        env={**os.environ, OWN_PROCESS_ENV: "1"},
    )
    summary = child.stdout.strip().splitlines()[-1:] or [""]
    if child.returncode != 0 or " passed" not in summary[0]:
        pytest.fail(f"in its own process: {summary[0]}\n{child.stdout[-6000:]}\n{child.stderr[-2000:]}",
                    pytrace=False)
    return True
