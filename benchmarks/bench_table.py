"""Table recognition: per-stage times and TEDS on rendered tables, SLANet_plus vs SLANet, in one run.

Run::

    HPI_HOME=~/.cache/hpi python benchmarks/bench_table.py --json benchmarks/table.json

The set (seeded, not the tests' tables): ruled and unruled, merged cells, 2–12 rows × 2–8 columns,
Latin and Chinese, as tight crops (margin 4 px, what layout detection hands over) and with a 20 px
white margin; plus rendered A4 pages with one table through layout detection (the issue's
"one-table page" timing). For each table model: structure-only and structure+content TEDS
(``tests/teds.py``), end-to-end seconds per image (min and median) and the pipeline's stage timers
(``timings_ms``: table.pre/model/post/match, OCR det/rec, layout), medians over the set. The two
models run interleaved on the same images. Timing on a shared machine is noisy: compare within a run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from statistics import median

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from layout_rendering import render_page  # noqa: E402
from table_rendering import Cell, grid, render_table, table_html  # noqa: E402
from teds import teds  # noqa: E402


def held_out_tables():
    merged = [[Cell("Zone", rowspan=2), Cell("Output", colspan=3)],
              [Cell("Q1"), Cell("Q2"), Cell("Q3")],
              [Cell("East"), Cell("410"), Cell("388"), Cell("402")],
              [Cell("West"), Cell("97"), Cell("120"), Cell("131")],
              [Cell("Total", colspan=2), Cell("508"), Cell("533")]]
    cases = []
    for margin in (4, 20):
        for ruled in (True, False):
            tag = f"{'ruled' if ruled else 'unruled'} m{margin}"
            cases += [
                (f"3x3 {tag}", render_table(grid(3, 3, 10), ruled=ruled, margin=margin)),
                (f"7x5 {tag}", render_table(grid(7, 5, 11), ruled=ruled, margin=margin)),
                (f"12x8 {tag}", render_table(grid(12, 8, 12), ruled=ruled, margin=margin, font_size=16)),
                (f"merged {tag}", render_table(merged, ruled=ruled, margin=margin)),
                (f"zh 5x4 {tag}", render_table(grid(5, 4, 13, chinese=True), ruled=ruled, margin=margin)),
                (f"2x6 {tag}", render_table(grid(2, 6, 14), ruled=ruled, margin=margin)),
            ]
    return cases


def run(pipeline, image, **params):
    started = time.perf_counter()
    [result] = list(pipeline.predict(image, **params))
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument("--pages", type=int, default=3, help="rendered A4 pages through layout detection")
    args = parser.parse_args()
    from hpi import create_pipeline

    models = ("SLANet_plus", "SLANet")
    pipelines = {m: create_pipeline("table_recognition", table_structure_recognition_model_name=m) for m in models}
    cases = held_out_tables()
    for pipeline in pipelines.values():  # warm-up: first calls build sessions and caches
        run(pipeline, cases[0][1].image, use_layout_detection=False)
    per_model = {m: {"structure": [], "content": [], "seconds": [], "stages": {}} for m in models}
    rows = []
    for name, table in cases:
        row = {"table": name}
        for model in models:  # interleaved: both models see the machine in the same state
            result, seconds = run(pipelines[model], table.image, use_layout_detection=False)
            html = result.table_res_list[0].pred_html
            s, c = teds(html, table.html, structure_only=True), teds(html, table.html)
            stats = per_model[model]
            stats["structure"].append(s)
            stats["content"].append(c)
            stats["seconds"].append(seconds)
            for stage, ms in result.timings_ms.items():
                stats["stages"].setdefault(stage, []).append(ms)
            row[model] = {"structure_teds": round(s, 4), "content_teds": round(c, 4), "seconds": round(seconds, 3)}
        rows.append(row)
        print(name, {m: row[m] for m in models})
    pages = []
    for seed in range(args.pages):
        page = render_page(seed=100 + seed, paragraphs=(2, 1), figure=False, table=(5 + seed, 4))
        truth = table_html([[Cell(text) for text in r] for r in page.of("table")[0].cells])
        result, seconds = run(pipelines["SLANet_plus"], page.image)
        html = result.table_res_list[0].pred_html if result.table_res_list else ""
        pages.append({"seconds": round(seconds, 3), "tables_found": len(result.table_res_list),
                      "structure_teds": round(teds(html, truth, True), 4), "content_teds": round(teds(html, truth), 4),
                      "stages_ms": {k: round(v, 1) for k, v in result.timings_ms.items()}})
        print("page", pages[-1])
    summary = {
        m: {"structure_teds_mean": round(float(np.mean(v["structure"])), 4),
            "content_teds_mean": round(float(np.mean(v["content"])), 4),
            "tight_crops_structure_teds": round(float(np.mean([s for (n, _), s in zip(cases, v["structure"])
                                                               if "m4" in n])), 4),
            "tight_crops_content_teds": round(float(np.mean([s for (n, _), s in zip(cases, v["content"])
                                                             if "m4" in n])), 4),
            "seconds_min": round(min(v["seconds"]), 3), "seconds_median": round(median(v["seconds"]), 3),
            "stages_median_ms": {k: round(median(x), 1) for k, x in v["stages"].items()}}
        for m, v in per_model.items()
    }
    out = {"machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                       "load_average": list(os.getloadavg())},
           "summary": summary, "pages_slanet_plus_layout": pages, "tables": rows}
    print(json.dumps(summary, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    for pipeline in pipelines.values():
        pipeline.close()


if __name__ == "__main__":
    main()
