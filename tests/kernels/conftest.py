"""Kernel-suite fixtures: both backends, and real model outputs computed once per session.

Every kernel test takes the ``kernels`` fixture, parametrised over the compiled module and the
pure-Python reference, so the suite runs once compiled and once as ``HPI_PURE_PYTHON=1`` would
(``test_dispatch.py`` checks the environment switch itself in a subprocess). Parity tests compare
``hpi.kernels._compiled`` against ``hpi.kernels._reference`` directly.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from rendering import CHINESE_TEXTS, PAGE_TEXTS, RECEIPT_TEXTS, cjk_font, latin_fonts, render_lines, render_single_line


def _compiled_or_none():
    try:
        return importlib.import_module("hpi.kernels._compiled")
    except ImportError:
        return None


COMPILED = _compiled_or_none()
requires_compiled = pytest.mark.skipif(
    COMPILED is None, reason="compiled kernels not built (pip install -e . --no-build-isolation builds them)"
)


@pytest.fixture(scope="session")
def reference():
    from hpi.kernels import _reference

    return _reference


@pytest.fixture(scope="session")
def compiled():
    if COMPILED is None:
        pytest.skip("compiled kernels not built (pip install -e . --no-build-isolation builds them)")
    return COMPILED


@pytest.fixture(
    scope="session",
    params=["compiled", "reference"],
)
def kernels(request):
    """The kernel module under test: compiled, then the reference (as with HPI_PURE_PYTHON=1)."""
    if request.param == "compiled":
        if COMPILED is None:
            pytest.skip("compiled kernels not built (pip install -e . --no-build-isolation builds them)")
        return COMPILED
    from hpi.kernels import _reference

    return _reference


def _fonts():
    fonts = latin_fonts()
    return fonts if fonts else (None,)


@pytest.fixture(scope="session")
def pages():
    """Rendered pages (2 columns, ~40–70 lines) and a receipt, BGR uint8."""
    fonts = _fonts()
    texts = (PAGE_TEXTS * 4)[:30]
    out = {
        "page": render_lines(texts, fonts[0], size=26, columns=2).image,
        "page_serif": render_lines(PAGE_TEXTS * 3, fonts[min(1, len(fonts) - 1)], size=22, columns=2).image,
        "receipt": render_lines(RECEIPT_TEXTS * 2, fonts[-1], size=24, spacing=1.5).image,
    }
    if cjk_font():
        out["chinese"] = render_lines(CHINESE_TEXTS * 3, cjk_font(), size=30, columns=2).image
    return out


@pytest.fixture(scope="session")
def det_maps(det_model, pages):
    """Probability maps from the real PP-OCRv4 det model (ONNX Runtime), one per page."""
    from hpi.backends.onnxruntime import OnnxRuntimeRunner
    from hpi.kernels import _reference

    maps = {}
    with OnnxRuntimeRunner(det_model) as runner:
        for name, image in pages.items():
            tensor, _, _ = _reference.det_preprocess(image)
            maps[name] = (runner.infer_one(tensor)[0, 0].astype(np.float32), image.shape[:2])
    return maps


@pytest.fixture(scope="session")
def rec_characters(rec_model):
    from hpi.kernels import _reference

    with open(rec_model.extra_files["dict"], encoding="utf-8") as handle:
        return _reference.build_ctc_characters(handle.readlines(), use_space_char=True)


@pytest.fixture(scope="session")
def line_crops():
    fonts = _fonts()
    texts = PAGE_TEXTS + RECEIPT_TEXTS[:4]
    crops = [render_single_line(t, fonts[i % len(fonts)], size=28 + 4 * (i % 3)).image for i, t in enumerate(texts)]
    if cjk_font():
        crops += [render_single_line(t, cjk_font(), size=30).image for t in CHINESE_TEXTS]
    return crops


@pytest.fixture(scope="session")
def rec_logits(rec_model, line_crops):
    """Softmax outputs of the real PP-OCRv4 rec model on rendered lines: N×T×6625 float32."""
    from hpi.backends.onnxruntime import OnnxRuntimeRunner
    from hpi.kernels import _reference

    batch = _reference.rec_preprocess(line_crops)
    with OnnxRuntimeRunner(rec_model) as runner:
        return np.ascontiguousarray(runner.infer_one(batch), dtype=np.float32)
