"""hpi's table_recognition vs RapidTable on the same rendered tables: TEDS and seconds per table, interleaved.

RapidTable runs in its own venv (it pins its own onnxruntime / opencv)::

    python3 -m venv /tmp/rtvenv && /tmp/rtvenv/bin/pip install rapid-table==0.1.3 rapidocr_onnxruntime==1.4.4
    HPI_HOME=~/.cache/hpi python benchmarks/compare_rapidtable.py --rapid-python /tmp/rtvenv/bin/python \\
        --json benchmarks/compare_rapidtable.json

RapidTable 0.1.3 is SLANet (PP-Structure v2 English, the file hpi registers as ``SLANet``) + RapidOCR 1.4.4
(PP-OCRv4 mobile) + its own matcher. hpi runs its default (SLANet_plus + PP-OCRv6_small) and, to separate the
structure model from the rest, hpi with SLANet. The tables are the held-out set of ``bench_table.py``
(tight crops and 20 px margins); each table goes through every engine before the next (interleaved).
RapidTable's HTML has no ``<html><body>`` wrapper; TEDS reads the ``<table>`` either way.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from bench_table import held_out_tables  # noqa: E402
from teds import teds  # noqa: E402

# Runs inside RapidTable's venv: one JSON line per image path read from stdin.
RAPID_SERVER = r"""
import json, sys, time
from rapid_table import RapidTable
engine = RapidTable()
engine(sys.argv[1])  # warm-up
print("ready", flush=True)
for line in sys.stdin:
    path = line.strip()
    started = time.perf_counter()
    html = engine(path)[0]
    print(json.dumps({"html": html, "seconds": time.perf_counter() - started}), flush=True)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rapid-python", required=True, help="python of a venv with rapid-table installed")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    import cv2

    from hpi import create_pipeline

    cases = held_out_tables()
    workdir = Path(tempfile.mkdtemp(prefix="hpi-rapidtable-"))
    paths = []
    for i, (_, table) in enumerate(cases):
        paths.append(workdir / f"table_{i}.png")
        cv2.imwrite(str(paths[-1]), table.image)
    rapid = subprocess.Popen([args.rapid_python, "-c", RAPID_SERVER, str(paths[0])], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    assert rapid.stdout.readline().strip() == "ready"
    engines = {"hpi (SLANet_plus)": create_pipeline("table_recognition", use_layout_detection=False),
               "hpi (SLANet)": create_pipeline("table_recognition", use_layout_detection=False,
                                               table_structure_recognition_model_name="SLANet")}
    for pipeline in engines.values():
        next(iter(pipeline.predict(cases[0][1].image)))  # warm-up
    scores = {name: {"structure": [], "content": [], "seconds": []} for name in [*engines, "RapidTable 0.1.3"]}
    rows = []
    for (label, table), path in zip(cases, paths):
        row = {"table": label}
        for name, pipeline in engines.items():
            started = time.perf_counter()
            html = next(iter(pipeline.predict(table.image))).table_res_list[0].pred_html
            seconds = time.perf_counter() - started
            row[name] = (html, seconds)
        rapid.stdin.write(f"{path}\n")
        rapid.stdin.flush()
        answer = json.loads(rapid.stdout.readline())
        row["RapidTable 0.1.3"] = (answer["html"], answer["seconds"])
        out = {"table": label}
        for name, (html, seconds) in ((k, v) for k, v in row.items() if k != "table"):
            s, c = teds(html, table.html, structure_only=True), teds(html, table.html)
            scores[name]["structure"].append(s)
            scores[name]["content"].append(c)
            scores[name]["seconds"].append(seconds)
            out[name] = {"structure_teds": round(s, 4), "content_teds": round(c, 4), "seconds": round(seconds, 3)}
        rows.append(out)
        print(out)
    rapid.stdin.close()
    rapid.wait(timeout=60)
    summary = {name: {"structure_teds_mean": round(float(np.mean(v["structure"])), 4),
                      "content_teds_mean": round(float(np.mean(v["content"])), 4),
                      "seconds_median": round(median(v["seconds"]), 3), "seconds_min": round(min(v["seconds"]), 3)}
               for name, v in scores.items()}
    result = {"load_average": list(os.getloadavg()), "cpu_count": os.cpu_count(), "summary": summary, "tables": rows}
    print(json.dumps(summary, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
