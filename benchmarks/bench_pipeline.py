"""The OCR pipeline end to end (pytest-benchmark), per image kind and per rec batch size, in one run.

Run (writes JSON; nothing here asserts a speed)::

    HPI_HOME=/tmp/hpihome python -m pytest benchmarks/bench_pipeline.py -p no:cacheprovider \
        --benchmark-json=benchmarks/pipeline.json --benchmark-columns=min,median,mean,rounds

Images are rendered (tests/rendering.py, fonts from fonts-dejavu-core): a
document (12 lines), a page with 60 lines, a receipt and a single-line crop.
``HPI_BENCH_ROUNDS`` sets the timed rounds (default 5, one warm-up round).
Every benchmark also records the pipeline's per-stage minimum times in
``extra_info`` (``stages_ms``) and the recognised line count, so the JSON says
where the time went, not just how much.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

ROUNDS = int(os.environ.get("HPI_BENCH_ROUNDS", "5"))
BATCH_SIZES = (1, 6, 12)


def _images():
    from rendering import PAGE_TEXTS, RECEIPT_TEXTS, latin_fonts, render_lines, render_single_line

    fonts = latin_fonts()
    if not fonts:
        pytest.skip("no DejaVu fonts (Debian package fonts-dejavu-core) to render benchmark images")
    return {
        "document": render_lines(PAGE_TEXTS + PAGE_TEXTS[:4], fonts[0], size=26).image,
        "page60": render_lines((PAGE_TEXTS * 8)[:60], fonts[1 % len(fonts)], size=20, spacing=1.7).image,
        "receipt": render_lines(RECEIPT_TEXTS, fonts[-1], size=24).image,
        "line": render_single_line("Invoice number 2026-1125 issued on November 25", fonts[0]).image,
    }


@pytest.fixture(scope="module")
def images():
    return _images()


@pytest.fixture(scope="module", params=BATCH_SIZES, ids=lambda b: f"rec_batch{b}")
def pipeline(request):
    from hpi import create_pipeline

    p = create_pipeline("OCR", device="cpu", text_recognition_batch_size=request.param)
    yield p
    p.close()


@pytest.mark.parametrize("kind", ["document", "page60", "receipt", "line"])
def test_pipeline(benchmark, pipeline, images, kind):
    image = images[kind]
    stage_minima: dict[str, float] = {}
    lines = []

    def run():
        result = next(pipeline.predict(image))
        for stage, ms in result.timings_ms.items():
            stage_minima[stage] = min(ms, stage_minima.get(stage, float("inf")))
        lines.append(len(result.rec_texts))

    benchmark.group = kind
    benchmark.pedantic(run, rounds=ROUNDS, warmup_rounds=1, iterations=1)
    benchmark.extra_info["stages_ms"] = {k: round(v, 3) for k, v in stage_minima.items()}
    benchmark.extra_info["lines"] = lines[-1]
    benchmark.extra_info["backends"] = pipeline.describe_backends()
    benchmark.extra_info["image_shape"] = list(image.shape)
    assert lines[-1] > 0  # the pipeline read something: a broken run must not be timed as fast
