"""How much model work hpi and RapidOCR 3.x do on the same images: the input shapes of every model call.

Timing on a shared 2-core machine is noisy; the shapes fed to each model are not. Recognition cost grows
with the batch's input columns (batch size × padded width at height 48), detection cost with its input
area, so these counts say where one engine does more work than the other, independent of load::

    HPI_HOME=/tmp/hpihome python benchmarks/count_model_work.py --rapid-python /tmp/rapid3/bin/python \
        --json benchmarks/count_model_work.json

Each engine runs in its own process (RapidOCR needs opencv-python, hpi opencv-python-headless) on the
rendered set of ``compare_rapidocr.py``. RapidOCR's calls are recorded by wrapping
``onnxruntime.InferenceSession.run``, hpi's by wrapping ``Predictor.run``. RapidOCR's textline classifier
(48×192 inputs) is told apart from its recogniser (width ≥ 320) by width.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))


def _record(kind: str, set_json: Path, options: dict) -> list[dict]:
    import cv2

    shapes: list[tuple[str, list[int]]] = []
    if kind == "rapid":
        import onnxruntime

        original = onnxruntime.InferenceSession.run

        def run(self, output_names, feed, *args, **kwargs):
            for value in feed.values():
                shape = list(value.shape)
                model = "det" if shape[2] != 48 else ("cls" if shape[3] == 192 else "rec")
                shapes.append((model, shape))
            return original(self, output_names, feed, *args, **kwargs)

        onnxruntime.InferenceSession.run = run
        from compare_rapidocr import _RapidEngine as Engine
    else:
        from hpi.predictors.base import Predictor

        original = Predictor.run

        def run(self, tensor, *args, **kwargs):
            shapes.append((self.stage, list(tensor.shape)))
            return original(self, tensor, *args, **kwargs)

        Predictor.run = run
        from compare_rapidocr import _HpiEngine as Engine
    engine = Engine(options)
    out = []
    for record in json.loads(set_json.read_text()):
        shapes.clear()
        lines, _ = engine(cv2.imread(record["path"]))
        rec = [s for m, s in shapes if m == "rec"]
        det = [s for m, s in shapes if m == "det"]
        out.append({"name": record["name"], "category": record["category"], "lines": len(lines),
                    "rec_calls": len(rec), "rec_crops": sum(s[0] for s in rec),
                    "rec_columns": sum(s[0] * s[3] for s in rec),
                    "det_pixels": sum(s[2] * s[3] for s in det),
                    "other_calls": sum(1 for m, _ in shapes if m not in ("rec", "det"))})
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker", choices=["hpi", "rapid"], help=argparse.SUPPRESS)
    parser.add_argument("--set-json", help=argparse.SUPPRESS)
    parser.add_argument("--rapid-python", required=False, help="Python of a venv with rapidocr 3.x + onnxruntime")
    parser.add_argument("--hpi-options", default="{}", help="JSON: create_pipeline keyword arguments for hpi")
    parser.add_argument("--json", dest="json_path", default=None)
    args = parser.parse_args(argv)
    if args.worker:
        options = json.loads(args.hpi_options) if args.worker == "hpi" else {}
        print(json.dumps(_record(args.worker, Path(args.set_json), options)))
        return 0
    if not args.rapid_python:
        parser.error("--rapid-python is required")
    from compare_rapidocr import build_set

    with tempfile.TemporaryDirectory() as tmp:
        records = build_set(Path(tmp) / "set")
        set_json = Path(tmp) / "set.json"
        set_json.write_text(json.dumps(records))
        results = {}
        for kind, python in (("hpi", sys.executable), ("rapid", args.rapid_python)):
            command = [python, __file__, "--worker", kind, "--set-json", str(set_json),
                       "--hpi-options", args.hpi_options]
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            results[kind] = json.loads(done.stdout.strip().splitlines()[-1])
    by_category: dict[str, dict[str, int]] = {}
    for ours, theirs in zip(results["hpi"], results["rapid"], strict=True):
        row = by_category.setdefault(ours["category"], {"hpi_rec_columns": 0, "rapid_rec_columns": 0,
                                                        "hpi_det_pixels": 0, "rapid_det_pixels": 0})
        row["hpi_rec_columns"] += ours["rec_columns"]
        row["rapid_rec_columns"] += theirs["rec_columns"]
        row["hpi_det_pixels"] += ours["det_pixels"]
        row["rapid_det_pixels"] += theirs["det_pixels"]
    for row in by_category.values():
        row["rec_columns_hpi_over_rapid"] = round(row["hpi_rec_columns"] / max(1, row["rapid_rec_columns"]), 3)
        row["det_pixels_hpi_over_rapid"] = round(row["hpi_det_pixels"] / max(1, row["rapid_det_pixels"]), 3)
    report = {"schema": 1, "command": " ".join(sys.argv), "hpi_options": json.loads(args.hpi_options),
              "by_category": by_category, "per_image": results}
    for category, row in by_category.items():
        print(f"{category:9s} rec columns hpi/rapid {row['rec_columns_hpi_over_rapid']:.2f}   "
              f"det pixels hpi/rapid {row['det_pixels_hpi_over_rapid']:.2f}")
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
