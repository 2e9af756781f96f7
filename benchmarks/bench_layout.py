"""Layout detection and layout parsing on rendered pages: end-to-end and per-stage times, JSON out.

Run (nothing here asserts a speed)::

    HPI_HOME=/tmp/hpihome python benchmarks/bench_layout.py --rounds 5 --out benchmarks/layout.json

In one run, interleaved round by round:

- ``layout_detection`` (PicoDet_layout_CDLA) on each page, with the PicoDet decode done by the
  compiled kernel vs the pure-Python reference (A vs B on the same model outputs);
- ``layout_parsing`` on each page (default config: layout + OCR + tables + seals), and with
  tables and seals off (what the table and seal stages cost).

Pages come from ``tests/layout_rendering.py`` (title, paragraphs, a ruled table, a chart). Each
entry has the minimum and median over the rounds (after one warm-up) and the per-stage minima
from the results' ``timings_ms``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def _pages():
    from layout_rendering import render_page

    return {
        "page_table_figure": render_page(0).image,
        "page_table": render_page(2, title="Annual Report", paragraphs=(3, 3), table=(4, 3), figure=False).image,
        "page_text": render_page(4, title="Notes", paragraphs=(6, 6, 6), table=None, figure=False).image,
    }


def _summary(times: list[float], stages: dict[str, float]) -> dict:
    return {"min_ms": round(min(times) * 1e3, 2), "median_ms": round(statistics.median(times) * 1e3, 2),
            "rounds": len(times), "stages_min_ms": {k: round(v, 2) for k, v in sorted(stages.items())}}


def _timed(fn):
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default="benchmarks/layout.json")
    args = parser.parse_args()

    from hpi import create_pipeline
    from hpi.kernels import _compiled, _reference

    pages = _pages()
    detection = create_pipeline("layout_detection", device="cpu")
    parsing = create_pipeline("layout_parsing", device="cpu")
    detector = detection.predictor("layout_detection")
    runs: dict[str, list[float]] = {}
    stages: dict[str, dict[str, float]] = {}

    def record(key: str, seconds: float, timings: dict | None = None) -> None:
        runs.setdefault(key, []).append(seconds)
        minima = stages.setdefault(key, {})
        for stage, ms in (timings or {}).items():
            minima[stage] = min(ms, minima.get(stage, float("inf")))

    for round_no in range(args.rounds + 1):  # round 0 warms up
        for name, image in pages.items():
            seconds, result = _timed(lambda: next(detection.predict(image)))
            if round_no:
                record(f"layout_detection/{name}", seconds, result.timings_ms)
            # A vs B: the decode alone on the same raw outputs.
            tensor = detector.preprocess(image)
            outputs = list(detector.runner.infer({detector.input_name: tensor}).values())
            for label, module in (("compiled", _compiled), ("reference", _reference)):
                seconds, _ = _timed(lambda: module.picodet_decode(outputs[:4], outputs[4:], detector.input_hw,
                                                                  image.shape[:2]))
                if round_no:
                    record(f"picodet_decode_{label}/{name}", seconds)
            for label, kwargs in (("default", {}),
                                  ("no_tables_no_seals", {"use_table_recognition": False,
                                                          "use_seal_recognition": False})):
                seconds, result = _timed(lambda: next(parsing.predict(image, **kwargs)))
                if round_no:
                    record(f"layout_parsing_{label}/{name}", seconds, result.timings_ms)
    out = {
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                    "load_average": os.getloadavg()},
        "backends": {"layout_detection": detection.describe(), "layout_parsing": parsing.describe()},
        "page_shapes": {name: list(image.shape) for name, image in pages.items()},
        "results": {key: _summary(times, stages.get(key, {})) for key, times in runs.items()},
    }
    Path(args.out).write_text(json.dumps(out, indent=2))
    for key, entry in out["results"].items():
        print(f"{key:55s} min {entry['min_ms']:9.1f} ms  median {entry['median_ms']:9.1f} ms")
    detection.close()
    parsing.close()


if __name__ == "__main__":
    main()
