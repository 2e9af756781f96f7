"""Document unwarping (UVDoc): what it costs per page and what it buys OCR, on a held-out rendered set.

Run::

    HPI_HOME=~/.cache/hpi python benchmarks/bench_unwarp.py --json benchmarks/unwarp.json

The set is seeded and differs from the tests' pages: other texts, three fonts, several sizes, curl
depths, fold positions and page sizes (``tests/unwarp_rendering.py`` bends them). Per page kind
(curled / flat on a desk / plain flat page) it reports OCR exact line accuracy (whitespace ignored)
with ``use_doc_unwarping`` off and on, in the same run, and the time unwarping adds: the model
(pre-processing, UVDoc) and the grid + remap kernel, minimum and median over the pages. The kernel
is also timed against its pure-Python reference and OpenCV's resize + remap (A vs B, same inputs).
Targets (issue 15): curled ≥ 15 points better, flat ≤ 1 point worse, ≤ 250 ms added per page on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

# Held out: none of these texts is in the unwarping tests.
HELD_OUT_TEXTS = [
    "Quarterly report for the northern region",
    "Net revenue rose by 4.2 percent to 18.6 million",
    "Operating costs were flat at 7.9 million",
    "Headcount at year end: 214 full-time staff",
    "The audit committee met four times",
    "Capital expenditure 2.35 million EUR",
    "Customer complaints fell to 31 from 58",
    "Next review scheduled for 14 March 2027",
    "Prepared by the finance department",
    "Internal use only, do not distribute",
    "Item 7: renewal of the lease in Ghent",
    "Approved unanimously by the board",
    "Delivery note 55-0912 for pallet 3 of 4",
    "Invoice to be settled within 14 days",
    "Batch 2026/11/A passed inspection",
    "Temperature logged every 15 minutes",
]


def _pages(count: int, seed: int = 7):
    from rendering import latin_fonts
    from unwarp_rendering import curl_page, flat_photo, text_page

    fonts = latin_fonts()
    if not fonts:
        sys.exit("needs fonts-dejavu-core to render the pages")
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        texts = list(rng.choice(HELD_OUT_TEXTS, size=int(rng.integers(9, 14)), replace=False))
        size = int(rng.choice([20, 22, 24, 26]))
        page = text_page(texts, fonts[i % len(fonts)], size=size).image
        curled = curl_page(page, bow=float(rng.uniform(0.035, 0.08)), curl=float(rng.uniform(0.15, 0.3)),
                           fold=float(rng.uniform(0.03, 0.1)), fold_at=float(rng.uniform(0.35, 0.7)),
                           margin=float(rng.uniform(0.03, 0.08)), seed=int(rng.integers(1000)))
        out.append({"texts": texts, "curled": curled, "flat_photo": flat_photo(page), "flat_page": page})
    return out


def _ms(values):
    return {"min": round(float(np.min(values)), 1), "median": round(float(np.median(values)), 1)} if values else None


def _kernel_ab(page: np.ndarray, grid: np.ndarray, repeats: int) -> dict:
    """The compiled kernel vs its reference vs OpenCV's resize + remap (the same grid, same page)."""
    import cv2

    from hpi.kernels import _reference

    impls = {"reference": _reference.unwarp_page}
    try:
        from hpi.kernels import _compiled

        impls["compiled"] = _compiled.unwarp_page
    except ImportError:
        pass
    h, w = page.shape[:2]

    def opencv(image, g):  # half-pixel resize (not align_corners): close, not the same semantics
        maps = cv2.resize(np.ascontiguousarray(g.transpose(1, 2, 0)), (w, h), interpolation=cv2.INTER_LINEAR)
        map_x = (maps[..., 0] + 1) * 0.5 * (w - 1)
        map_y = (maps[..., 1] + 1) * 0.5 * (h - 1)
        return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)

    impls["opencv_resize_remap"] = opencv
    times: dict[str, list[float]] = {name: [] for name in impls}
    for _ in range(repeats):  # interleaved
        for name, fn in impls.items():
            if name == "reference" and len(times[name]) >= 2:
                continue  # seconds per call: two are enough
            start = time.perf_counter()
            fn(page, grid)
            times[name].append((time.perf_counter() - start) * 1000)
    return {"page": f"{w}x{h}", **{name: _ms(v) for name, v in times.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=8, help="pages per kind (default 8)")
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()

    from hpi import create_pipeline

    pages = _pages(args.pages)
    accuracy: dict[str, dict[str, list[float]]] = {}
    added: dict[str, list[float]] = {"model": [], "pre": [], "kernel": [], "total": []}
    grids = []
    with create_pipeline("OCR", device="cpu", backend=args.backend) as ocr:
        next(ocr.predict(pages[0]["flat_page"], use_doc_orientation_classify=False, use_doc_unwarping=True))  # warm
        for page in pages:
            for kind in ("curled", "flat_photo", "flat_page"):
                for unwarp in (False, True):  # interleaved: off and on see the same machine load
                    result = next(ocr.predict(page[kind], use_doc_orientation_classify=False,
                                              use_doc_unwarping=unwarp))
                    read = {"".join(t.split()) for t in result.rec_texts}
                    share = sum("".join(t.split()) in read for t in page["texts"]) / len(page["texts"])
                    accuracy.setdefault(kind, {"off": [], "on": []})["on" if unwarp else "off"].append(share)
                    if unwarp:
                        t = result.timings_ms
                        parts = (t.get("doc_unwarp.model", 0.0), t.get("doc_unwarp.pre", 0.0),
                                 t.get("doc_unwarp.post", 0.0))
                        added["model"].append(parts[0])
                        added["pre"].append(parts[1])
                        added["kernel"].append(parts[2])
                        added["total"].append(sum(parts))
            grids.append(ocr.doc_preprocessor.predictor("doc_unwarping").predict_grid(page["curled"]))
        describe = ocr.describe()

    import cv2

    big = np.ascontiguousarray(cv2.resize(pages[0]["curled"], (1500, 2000), interpolation=cv2.INTER_CUBIC))
    report = {
        "schema": "hpi-bench-unwarp/1",
        "machine": {"cpus": len(os.sched_getaffinity(0)), "processor": platform.processor() or platform.machine(),
                    "load1_at_end": round(os.getloadavg()[0], 2)},
        "backend": describe.get("doc_unwarping"),
        "pages_per_kind": args.pages,
        "accuracy": {kind: {"off": round(float(np.mean(v["off"])), 4), "on": round(float(np.mean(v["on"])), 4),
                            "points": round(100 * (float(np.mean(v["on"])) - float(np.mean(v["off"]))), 1)}
                     for kind, v in accuracy.items()},
        "unwarp_added_ms": {part: _ms(v) for part, v in added.items()},
        "kernel_ab": [_kernel_ab(pages[0]["curled"], grids[0], 5), _kernel_ab(big, grids[0], 5)],
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
