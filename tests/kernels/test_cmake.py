"""CMakeLists.txt builds the C kernels as a shared library and its self-test passes under ctest."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def cmake_bin_dir() -> Path | None:
    try:
        import cmake  # the PyPI distribution ships the binaries

        return Path(cmake.CMAKE_BIN_DIR)
    except ImportError:
        found = shutil.which("cmake")
        return Path(found).parent if found else None


@pytest.mark.skipif(cmake_bin_dir() is None, reason="cmake not installed (pip install cmake)")
@pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None, reason="no C compiler")
def test_cmake_builds_the_library_and_ctest_passes(tmp_path):
    bin_dir = cmake_bin_dir()
    build = tmp_path / "build"
    env = dict(os.environ)
    run = lambda *args: subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)  # noqa: E731
    configure = run(str(bin_dir / "cmake"), "-S", str(ROOT), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release")
    assert configure.returncode == 0, configure.stdout + configure.stderr
    compiled = run(str(bin_dir / "cmake"), "--build", str(build), "--parallel", "2")
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    libraries = list(build.glob("libhpi_kernels.so*")) + list(build.glob("libhpi_kernels*.dylib"))
    assert libraries, sorted(p.name for p in build.iterdir())
    tested = run(str(bin_dir / "ctest"), "--test-dir", str(build), "--output-on-failure")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "100% tests passed" in tested.stdout
    if sys.platform.startswith("linux"):
        symbols = subprocess.run(["nm", "-D", str(libraries[0])], capture_output=True, text=True)
        if symbols.returncode == 0:
            for name in ("hpi_ctc_argmax_rows", "hpi_normalize_hwc_to_chw", "hpi_db_quads"):
                assert name in symbols.stdout
