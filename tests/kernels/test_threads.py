"""The compiled kernels' own parallel loops (HPI_KERNEL_THREADS > 1) give the single-thread results."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from .conftest import requires_compiled


@requires_compiled
@pytest.mark.parametrize("threads", [2, 3])
def test_parallel_loops_match_one_thread(compiled, monkeypatch, rec_characters, pages, threads):
    rng = np.random.default_rng(5)
    logits = rng.random((64, 80, 6625), dtype=np.float32)  # large enough to start a thread team
    page = pages["page"]
    crops = [rng.integers(0, 256, (40, int(w), 3), dtype=np.uint8) for w in rng.integers(200, 900, 48)]
    monkeypatch.setattr(compiled, "NUM_THREADS", 1)
    expected = (compiled.ctc_decode(logits, rec_characters), compiled.det_preprocess(page, 1500, "min")[0],
                compiled.rec_preprocess(crops))
    monkeypatch.setattr(compiled, "NUM_THREADS", threads)
    got = (compiled.ctc_decode(logits, rec_characters), compiled.det_preprocess(page, 1500, "min")[0],
           compiled.rec_preprocess(crops))
    assert got[0] == expected[0]
    np.testing.assert_array_equal(got[1], expected[1])
    np.testing.assert_array_equal(got[2], expected[2])


@requires_compiled
def test_kernel_threads_environment_variable():
    code = "import hpi.kernels._compiled as c; print(c.NUM_THREADS)"
    env = {k: v for k, v in os.environ.items() if k not in ("HPI_KERNEL_THREADS", "HPI_PURE_PYTHON")}
    default = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert default.stdout.strip() == "1"
    four = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**env, "HPI_KERNEL_THREADS": "4"}, timeout=60
    )
    assert four.stdout.strip() == "4"
    bad = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**env, "HPI_KERNEL_THREADS": "many"}, timeout=60
    )
    assert bad.returncode != 0 and "HPI_KERNEL_THREADS" in bad.stderr
