"""Seal recognition on rendered seals: exact-read rate and per-stage times, variants side by side.

Run (writes JSON; nothing here asserts a speed)::

    HPI_HOME=/tmp/hpihome python benchmarks/bench_seal.py --count 60 --seed 2026 --out benchmarks/seal.json

The seals are rendered by ``tests/seal_rendering.py`` (a held-out seed: the tests use others): a red
ring, the organisation's name along the upper arc, a star and a horizontal bottom line, half Chinese
when the CJK font exists, 70% over a contract page whose body text ends at the ring and whose
signature line runs through the seal. A seal counts as read when its recognised lines, whitespace
ignored, are exactly the arc text then the bottom line. Variants, interleaved seal by seal:

- ``default``: hpi's seal_recognition.yaml (seal regions by ink colour, dark print removed);
- ``keep_dark_print``: the same with ``SubPipelines.SealOCR.remove_dark_print: False`` (PaddleX's crops);
- ``whole_page``: ``use_layout_detection=False`` (PaddleX's whole-page mode: the page is one region).

Also timed: the rectification kernel, compiled vs the pure-Python reference, on every detected polygon.
Harder sets, read by ``default`` only (``--stress N`` seals each, other seeds): seals turned by up to
25° (the main set: 10°), and blue ink (the seal detector was trained on red seals).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def _pipelines():
    from hpi import create_pipeline
    from hpi.config import load_pipeline_config

    base = load_pipeline_config("seal_recognition")
    keep = copy.deepcopy(base)
    keep["SubPipelines"]["SealOCR"]["remove_dark_print"] = False
    default = create_pipeline(config=base)
    return {"default": (default, {}), "keep_dark_print": (create_pipeline(config=keep), {}),
            "whole_page": (default, {"use_layout_detection": False})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=60)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", default="benchmarks/seal.json")
    parser.add_argument("--stress", type=int, default=16, help="seals per harder set (0: none)")
    args = parser.parse_args()

    from seal_rendering import BLUE, normalize, seal_set

    from hpi import kernels
    from hpi.kernels import _reference

    seals = seal_set(args.count, seed=args.seed)
    variants = _pipelines()
    for pipeline, params in variants.values():  # warm-up: models loaded, first-use checks done
        next(pipeline.predict(seals[0].image, **params))
    stats = {name: {"exact": 0, "seconds": [], "stages_ms": {}, "misses": []} for name in variants}
    polygons = []
    for seal in seals:
        want = [normalize(t) for t in seal.texts]
        for name, (pipeline, params) in variants.items():
            start = time.perf_counter()
            result = next(pipeline.predict(seal.image, **params))
            stats[name]["seconds"].append(time.perf_counter() - start)
            got = [normalize(t) for s in result.seal_res_list for t in s.rec_texts]
            if got == want:
                stats[name]["exact"] += 1
            elif len(stats[name]["misses"]) < 10:
                stats[name]["misses"].append({"want": seal.texts, "got": got})
            for stage, ms in result.timings_ms.items():
                stats[name]["stages_ms"].setdefault(stage, []).append(ms)
            if name == "default":
                for region in result.seal_res_list:
                    crop = region.image
                    polygons += [(crop, p) for p in region.dt_polys if len(p) > 4]

    def rectify_ms(module) -> float:
        start = time.perf_counter()
        for crop, poly in polygons:
            module.rectify_curved_text(crop, poly)
        return (time.perf_counter() - start) * 1000.0 / max(1, len(polygons))

    stress = {}
    default, _ = variants["default"]
    for name, kwargs in (("turned_25_degrees", {"max_angle": 25.0}), ("blue_ink", {"colour": BLUE})):
        hard = seal_set(args.stress, seed=args.seed + 1, **kwargs) if args.stress else []
        exact, misses = 0, []
        for seal in hard:
            got = [normalize(t) for s in next(default.predict(seal.image)).seal_res_list for t in s.rec_texts]
            if got == [normalize(t) for t in seal.texts]:
                exact += 1
            elif len(misses) < 5:
                misses.append({"want": seal.texts, "got": got})
        if hard:
            stress[name] = {"seals": len(hard), "exact_read_rate": round(exact / len(hard), 4), "misses": misses}

    report = {
        "machine": {"platform": platform.platform(), "processor": platform.processor(), "cpus": os.cpu_count()},
        "seals": args.count, "seed": args.seed,
        "chinese": sum(any(ord(c) > 0x2E80 for c in s.arc_text) for s in seals),
        "variants": {
            name: {
                "exact_read_rate": round(s["exact"] / args.count, 4),
                "ms_per_seal_median": round(statistics.median(s["seconds"]) * 1000.0, 1),
                "stages_ms_median": {k: round(statistics.median(v), 2) for k, v in sorted(s["stages_ms"].items())},
                "misses": s["misses"],
            }
            for name, s in stats.items()
        },
        "stress": stress,
        "rectify_kernel_ms_per_polygon": {
            "polygons": len(polygons), "backend": kernels.BACKEND,
            "compiled": round(rectify_ms(kernels), 3), "reference": round(rectify_ms(_reference), 3),
        },
    }
    Path(args.out).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps({k: {m: v[m] for m in ("exact_read_rate", "ms_per_seal_median")}
                      for k, v in report["variants"].items()}, indent=2))
    print("rectify:", report["rectify_kernel_ms_per_polygon"])
    print("stress:", {k: v["exact_read_rate"] for k, v in stress.items()})
    for pipeline, _ in variants.values():
        pipeline.close()


if __name__ == "__main__":
    main()
