"""hpi.kernels picks the compiled kernels, the references with HPI_PURE_PYTHON=1, and falls back
to the references with one warning when the compiled modules are missing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from .conftest import COMPILED

PUBLIC = ["det_preprocess", "db_decode", "ctc_decode", "build_ctc_characters", "rec_preprocess", "crop_text_regions"]

PROBE = textwrap.dedent(
    """
    import json, sys, warnings
    BLOCK = sys.argv[1] == "block"

    class BlockCompiled:
        def find_spec(self, name, path=None, target=None):
            if BLOCK and name in ("hpi.kernels._ctc", "hpi.kernels._db", "hpi.kernels._preprocess"):
                raise ImportError(f"No module named {name!r} (blocked by the test)")
            return None

    sys.meta_path.insert(0, BlockCompiled())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        import hpi.kernels as kernels
        import hpi.kernels  # noqa: F811 - a second import is cached: no second warning
    import numpy as np
    boxes, scores = kernels.db_decode(np.zeros((32, 32), np.float32), 32, 32)
    print(json.dumps({
        "backend": kernels.BACKEND,
        "module": kernels.db_decode.__module__,
        "warnings": [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)],
        "public": [name for name in %r if callable(getattr(kernels, name, None))],
    }))
    """
    % (PUBLIC,)
)


def run_probe(env_extra: dict, block: bool = False) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "HPI_PURE_PYTHON"}
    env.update(env_extra)
    result = subprocess.run(
        [sys.executable, "-c", PROBE, "block" if block else "free"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_pure_python_env_forces_the_references():
    probe = run_probe({"HPI_PURE_PYTHON": "1"})
    assert probe["backend"] == "reference"
    assert probe["module"] == "hpi.kernels._reference"
    assert probe["warnings"] == []
    assert probe["public"] == PUBLIC


@pytest.mark.skipif(COMPILED is None, reason="compiled kernels not built (pip install -e . --no-build-isolation)")
def test_compiled_kernels_are_the_default():
    probe = run_probe({})
    assert probe["backend"] == "compiled"
    assert probe["module"] == "hpi.kernels._compiled"
    assert probe["warnings"] == []


def test_missing_compiled_modules_fall_back_with_one_warning():
    probe = run_probe({}, block=True)
    assert probe["backend"] == "reference"
    assert probe["module"] == "hpi.kernels._reference"
    [warning] = probe["warnings"]
    assert "pure-Python" in warning and "pip install" in warning and "blocked by the test" in warning


def test_a_mistyped_pure_python_switch_is_an_error_naming_it():
    env = {**os.environ, "HPI_PURE_PYTHON": "ture"}
    result = subprocess.run([sys.executable, "-c", "import hpi.kernels"], capture_output=True, text=True, env=env,
                            timeout=120)
    assert result.returncode != 0
    assert "Environment variable HPI_PURE_PYTHON must be 1 or 0" in result.stderr
