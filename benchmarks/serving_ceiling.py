"""How much more throughput concurrency can give on this machine: the ceiling behind issue 13's target.

A server's throughput at concurrency N can exceed its throughput at concurrency 1 only by what one
request leaves unused, so this measures the two sources of it, in one process, on the same rendered
pages as ``load_service.py``:

* **idle cores**: one stream of requests through the pipeline, process CPU time over wall time. With
  ``C`` cores and ``B`` of them busy on average, overlapping requests can add at most ``C / B``.
* **cheaper rows in bigger batches**: the recognition model (most of OCR's time) on real line crops
  at batch sizes 1-16 and the detection model on one page at batch 1 and 2, on the backends the
  pipeline chose. Cross-request batching can add at most the per-row cost at batch 1 over the best
  per-row cost (measured from the batch sizes a single request already reaches, ``--from-batch``).

Their product bounds what concurrency gives, whatever the server does::

    HPI_HOME=/tmp/hpihome python benchmarks/serving_ceiling.py --json benchmarks/serving_ceiling.json

Timings are minima over ``--rounds`` interleaved rounds.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO / "tests"))


def _images(count: int):
    import cv2
    import numpy as np

    from load_service import render_payloads

    return [
        cv2.imdecode(np.frombuffer(base64.b64decode(json.loads(payload)["file"]), np.uint8), cv2.IMREAD_COLOR)
        for payload in render_payloads(count)
    ]


def _cores_busy(pipeline, images, rounds: int) -> dict:
    best = None
    for _ in range(rounds):
        wall0, cpu0 = time.perf_counter(), time.process_time()
        for image in images:
            list(pipeline.predict(image))
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        if best is None or wall < best[0]:
            best = (wall, cpu)
    wall, cpu = best
    return {"ms_per_image": round(wall / len(images) * 1000, 1), "cores_busy": round(cpu / wall, 3)}


def _per_row_ms(predictor, tensors: dict, rounds: int, calls: int) -> dict:
    """Per-row milliseconds of ``predictor.run`` for each (label → tensor), rounds interleaved."""
    for tensor in tensors.values():
        predictor.run(tensor)  # first sight of a shape (OpenVINO compiles per shape)
    best: dict = {}
    for _ in range(rounds):
        for label, tensor in tensors.items():
            repeats = max(1, calls // tensor.shape[0])
            start = time.perf_counter()
            for _ in range(repeats):
                predictor.run(tensor)
            per_row = (time.perf_counter() - start) / repeats / tensor.shape[0] * 1000
            best[label] = min(best.get(label, per_row), per_row)
    return {label: round(value, 2) for label, value in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pipeline", default="OCR", help="pipeline name or YAML (default: OCR)")
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batches", default="1,2,4,6,8,16", help="recognition batch sizes")
    parser.add_argument("--widths", default="320,640", help="recognition input widths")
    parser.add_argument("--from-batch", type=int, default=None,
                        help="batch size one request already reaches (default: the pipeline's rec batch_size)")
    parser.add_argument("--json", dest="json_path", default=None)
    args = parser.parse_args()

    import numpy as np

    from hpi import create_pipeline, kernels
    from hpi.device import cpu_identity

    load_before = os.getloadavg()

    images = _images(args.images)
    pipeline = create_pipeline(args.pipeline)
    for image in images:  # warm-up: models loaded, backends chosen, shapes seen
        list(pipeline.predict(image))
    cores = len(os.sched_getaffinity(0))
    busy = _cores_busy(pipeline, images, args.rounds)

    rec = pipeline.predictor("text_recognition")
    det = pipeline.predictor("text_detection")
    crops = []
    for image in images:
        result = next(pipeline.predict(image))
        crops += kernels.crop_text_regions(image, np.asarray(result["dt_polys"], dtype=np.float32))
    channels, height, _ = rec.image_shape
    batches = [int(b) for b in args.batches.split(",")]
    rec_tensors = {}
    for width in (int(w) for w in args.widths.split(",")):
        rows = kernels.rec_preprocess(
            [crops[i % len(crops)] for i in range(max(batches))], (channels, height, width),
            rec.spec.mean, rec.spec.std, rec.spec.scale, dynamic_width=False,
        )
        for b in batches:
            rec_tensors[f"{b}x{width}"] = np.ascontiguousarray(rows[:b])
    rec_ms = _per_row_ms(rec, rec_tensors, args.rounds, calls=max(batches) * 2)

    page, _, _ = kernels.det_preprocess(images[0], 64, "min", 4000, det.spec.mean, det.spec.std, det.spec.scale)
    det_ms = _per_row_ms(det, {"1": page, "2": np.concatenate([page, page])}, args.rounds, calls=4)

    from_batch = args.from_batch or rec.batch_size
    batching_gain = {}
    for width in args.widths.split(","):
        reached = [rec_ms[f"{b}x{width}"] for b in batches if b <= from_batch]
        best_any = min(rec_ms[f"{b}x{width}"] for b in batches)
        batching_gain[width] = round(min(reached) / best_any, 3)
    idle_gain = cores / busy["cores_busy"]
    report = {
        "schema": "hpi-serving-ceiling/1",
        "command": " ".join(["python", *sys.argv]),
        "machine": {**cpu_identity(), "platform": platform.platform(),
                    "load_average_before": [round(x, 2) for x in load_before]},
        "backends": {slot: pipeline.predictor(slot).runner.describe()
                     for slot in ("text_detection", "text_recognition")},
        "single_stream": busy,
        "rec_ms_per_row": rec_ms,
        "det_ms_per_page": det_ms,
        "rec_batch_size": rec.batch_size,
        "bound_from_idle_cores": round(idle_gain, 3),
        "bound_from_batching_rec": batching_gain,
        "bound_on_concurrency_speedup": round(idle_gain * max(batching_gain.values()), 3),
    }
    print(json.dumps(report, indent=1))
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
