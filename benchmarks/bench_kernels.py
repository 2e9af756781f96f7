"""Each kernel against its pure-Python reference on realistic inputs (pytest-benchmark, same run).

Run (writes JSON, then prints the markdown table for KERNELS.md)::

    HPI_HOME=~/.cache/hpi python -m pytest benchmarks/bench_kernels.py -p no:cacheprovider \
        --benchmark-json=benchmarks/kernels.json --benchmark-columns=min,median,mean,stddev,rounds
    python benchmarks/bench_kernels.py benchmarks/kernels.json

Inputs: probability maps from the real PP-OCRv4 det model (ONNX Runtime) on rendered pages with
~50 text lines and on a receipt; softmax outputs of the real PP-OCRv4 rec model on rendered lines
(6×40×6625 and 64×80×6625); a rendered 2000×1500 page; 48 rendered line crops.

``db_boxes`` times the per-box work alone (contours found once beforehand); ``db_decode`` is the
whole call including thresholding and cv2.findContours. ``threads-1`` runs two calls one after
the other, ``threads-2`` the same two calls in two Python threads at once: their ratio shows
whether the kernel releases the GIL (2.0 is perfect scaling on two idle cores). Compiled kernels
run their own parallel loops with HPI_KERNEL_THREADS threads (default 1; the scaling cases force 1).
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

IMPLS = ("reference", "compiled")


def _impl(name):
    if name == "reference":
        from hpi.kernels import _reference

        return _reference
    try:
        from hpi.kernels import _compiled
    except ImportError:
        pytest.skip("compiled kernels not built (pip install -e . --no-build-isolation)")
    return _compiled


@pytest.fixture(scope="session")
def inputs():
    import cv2
    from rendering import PAGE_TEXTS, RECEIPT_TEXTS, latin_fonts, render_lines, render_single_line

    from hpi.backends.onnxruntime import OnnxRuntimeRunner
    from hpi.kernels import _reference
    from hpi.backends.export_check import prepare_model

    fonts = latin_fonts() or (None,)
    many = [f"{i:02d} {t}" for i, t in enumerate(PAGE_TEXTS * 7)][:52]
    pages = {
        "page-52-lines": render_lines(many, fonts[0], size=22, columns=2).image,
        "page-44-lines": render_lines(many[:44], fonts[-1], size=20, columns=2).image,
        "receipt": render_lines(RECEIPT_TEXTS * 2, fonts[-1], size=24, spacing=1.5).image,
    }
    maps = {}
    with OnnxRuntimeRunner(prepare_model("PP-OCRv4_mobile_det")) as det:
        for name, image in pages.items():
            tensor, _, _ = _reference.det_preprocess(image)
            maps[name] = (np.ascontiguousarray(det.infer_one(tensor)[0, 0], np.float32), image.shape[:2])

    crops = [render_single_line(t, fonts[i % len(fonts)], size=26 + 2 * (i % 5)).image for i, t in enumerate(many[:48])]
    rec_model = prepare_model("PP-OCRv4_mobile_rec")
    with open(rec_model.extra_files["dict"], encoding="utf-8") as handle:
        characters = _reference.build_ctc_characters(handle.readlines())
    with OnnxRuntimeRunner(rec_model) as rec:
        small = rec.infer_one(_reference.rec_preprocess(crops[:6], (3, 48, 320), dynamic_width=False))
        large = rec.infer_one(_reference.rec_preprocess(crops[:64] * 2, (3, 48, 640), dynamic_width=False)[:64])
    page = cv2.resize(render_lines(many, fonts[0], size=28, columns=2).image, (2000, 1500))
    return {
        "maps": maps,
        "characters": characters,
        "ctc-6x40x6625": np.ascontiguousarray(small, np.float32),
        "ctc-64x80x6625": np.ascontiguousarray(large, np.float32),
        "page-2000x1500": page,
        "crops-48": crops,
    }


def _run(benchmark, function, *args, **kwargs):
    benchmark.pedantic(function, args=args, kwargs=kwargs, rounds=20, iterations=1, warmup_rounds=2)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("page", ["page-52-lines", "page-44-lines", "receipt"])
def test_db_decode(benchmark, inputs, page, impl):
    kernels = _impl(impl)
    prob, (h, w) = inputs["maps"][page]
    boxes, _ = kernels.db_decode(prob, h, w)
    benchmark.group = f"db_decode {page}"
    benchmark.extra_info["boxes"] = len(boxes)
    _run(benchmark, kernels.db_decode, prob, h, w)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("page", ["page-52-lines", "page-44-lines", "receipt"])
def test_db_boxes(benchmark, inputs, page, impl):
    """Per-box work only: the same contours, found once."""
    from hpi.kernels import _reference

    _impl(impl)
    prob, (h, w) = inputs["maps"][page]
    contours = _reference._find_contours(_reference._binarize(prob, 0.3, False))
    benchmark.group = f"db_boxes {page}"
    benchmark.extra_info["contours"] = len(contours)
    if impl == "reference":
        _run(benchmark, _reference._db_quads, prob, contours, h, w, 0.6, 1000, 1.5, "fast")
    else:
        from hpi.kernels import _db

        _run(benchmark, _db.quads, prob, contours, 1000, 0.6, 1.5, False, h, w)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("shape", ["ctc-6x40x6625", "ctc-64x80x6625"])
def test_ctc_decode(benchmark, inputs, shape, impl):
    kernels = _impl(impl)
    benchmark.group = shape
    _run(benchmark, kernels.ctc_decode, inputs[shape], inputs["characters"])


@pytest.mark.parametrize("impl", IMPLS)
def test_det_preprocess(benchmark, inputs, impl):
    kernels = _impl(impl)
    benchmark.group = "det_preprocess 2000x1500 (limit 960 max)"
    _run(benchmark, kernels.det_preprocess, inputs["page-2000x1500"])


@pytest.mark.parametrize("impl", IMPLS)
def test_det_preprocess_min(benchmark, inputs, impl):
    kernels = _impl(impl)
    benchmark.group = "det_preprocess 2000x1500 (limit 1500 min)"
    _run(benchmark, kernels.det_preprocess, inputs["page-2000x1500"], 1500, "min")


@pytest.mark.parametrize("impl", IMPLS)
def test_rec_preprocess(benchmark, inputs, impl):
    kernels = _impl(impl)
    benchmark.group = "rec_preprocess 48 crops"
    _run(benchmark, kernels.rec_preprocess, inputs["crops-48"])


@pytest.mark.parametrize("impl", IMPLS)
def test_cls_preprocess(benchmark, inputs, impl):
    kernels = _impl(impl)
    benchmark.group = "textline-orientation preprocess 48 crops"
    _run(benchmark, kernels.rec_preprocess, inputs["crops-48"], (3, 48, 192), dynamic_width=False)


def _two_calls(function, args, threads):
    if threads == 1:
        function(*args)
        function(*args)
        return
    workers = [threading.Thread(target=function, args=args) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("kernel", ["ctc-64x80x6625", "det_preprocess", "db_decode"])
def test_scaling(benchmark, inputs, kernel, impl, threads, monkeypatch):
    kernels = _impl(impl)
    if impl == "compiled":
        monkeypatch.setattr(kernels, "NUM_THREADS", 1)  # one thread per call: scaling comes from the GIL release
    if kernel == "ctc-64x80x6625":
        function, args = kernels.ctc_decode, (inputs[kernel], inputs["characters"])
    elif kernel == "det_preprocess":
        function, args = kernels.det_preprocess, (inputs["page-2000x1500"],)
    else:
        prob, (h, w) = inputs["maps"]["page-52-lines"]
        function, args = kernels.db_decode, (prob, h, w)
    benchmark.group = f"scaling {kernel} {impl}"
    benchmark.pedantic(_two_calls, args=(function, args, threads), rounds=15, iterations=1, warmup_rounds=2)


def table(path: str) -> str:
    """Markdown ratio table from a pytest-benchmark JSON file."""
    data = json.loads(Path(path).read_text())
    medians: dict[str, dict[str, float]] = {}
    extra: dict[str, dict] = {}
    for bench in data["benchmarks"]:
        params = bench["params"]
        group = bench["group"]
        key = params.get("impl") if not group.startswith("scaling") else f"threads-{params['threads']}"
        medians.setdefault(group, {})[key] = bench["stats"]["median"]
        extra.setdefault(group, {}).update(bench.get("extra_info", {}))
    lines = [
        "| kernel / input | reference (median) | compiled (median) | speed-up |",
        "|---|---:|---:|---:|",
    ]
    for group, values in medians.items():
        if group.startswith("scaling") or "reference" not in values or "compiled" not in values:
            continue
        note = ", ".join(f"{k} {v}" for k, v in extra[group].items())
        name = f"{group} ({note})" if note else group
        ref, comp = values["reference"], values["compiled"]
        lines.append(f"| {name} | {ref * 1e3:.3f} ms | {comp * 1e3:.3f} ms | {ref / comp:.1f}× |")
    lines += [
        "",
        "| two calls | 1 thread (median) | 2 threads (median) | scaling |",
        "|---|---:|---:|---:|",
    ]
    for group, values in medians.items():
        if group.startswith("scaling") and "threads-1" in values and "threads-2" in values:
            one, two = values["threads-1"], values["threads-2"]
            lines.append(f"| {group[len('scaling '):]} | {one * 1e3:.2f} ms | {two * 1e3:.2f} ms | {one / two:.2f}× |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/kernels.json"))
