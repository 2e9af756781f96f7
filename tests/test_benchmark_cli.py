"""The benchmark harness (``hpi benchmark``, benchmarks/compare_rapidocr.py) on two tiny images.

Only the harness is tested here: report schema, stage names, non-negative
times, per-image errors. No speed is asserted (numbers live in benchmarks/).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from rendering import latin_fonts, render_lines, render_single_line

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def tiny_images(tmp_path_factory):
    import cv2

    fonts = latin_fonts()
    if not fonts:
        pytest.skip("no DejaVu fonts (Debian package fonts-dejavu-core) to render test images")
    directory = tmp_path_factory.mktemp("bench-inputs")
    cv2.imwrite(str(directory / "page.png"), render_lines(["Invoice 2026-1125", "Total 15.87"], fonts[0], size=26).image)
    cv2.imwrite(str(directory / "line.png"), render_single_line("Thank you for your order", fonts[0]).image)
    return directory


def _run(args: list[str]) -> tuple[int, str]:
    from hpi.commands.benchmark import main

    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(args)
    return code, out.getvalue()


@pytest.fixture(scope="module")
def report(tiny_images, tmp_path_factory):
    path = tmp_path_factory.mktemp("bench-out") / "out.json"
    code, text = _run(["--pipeline", "OCR", "--input", str(tiny_images), "--device", "cpu",
                       "--warmup", "1", "--repeat", "2", "--json", str(path)])
    return code, text, json.loads(path.read_text(encoding="utf-8"))


def test_exit_code_and_table(report):
    code, text, _ = report
    assert code == 0
    for word in ("det.model", "rec.model", "per image", "throughput", "peak RSS", "cold start"):
        assert word in text


def test_json_schema(report):
    _, _, data = report
    assert data["schema"] == "hpi-benchmark/1"
    assert {"pipeline", "device", "warmup", "repeat", "kernels", "backends", "machine", "cold_start", "memory",
            "results", "errors"} <= set(data)
    assert data["warmup"] == 1 and data["repeat"] == 2
    machine = data["machine"]
    assert machine["cores"] >= 1 and machine["cpu_model"]
    assert machine["versions"]["python"] and machine["versions"]["numpy"]
    results = data["results"]
    assert results["throughput"]["images"] == 2 and results["throughput"]["passes"] == 2
    assert results["throughput"]["images_per_s_mean_pass"] > 0
    assert 0.0 <= results["outside_model_share"] <= 1.0
    assert data["errors"] == []


def test_stage_names_present(report):
    _, _, data = report
    stages = data["results"]["stages_ms"]
    for stage in ("det.pre", "det.model", "det.post", "crop", "rec.pre", "rec.model", "rec.post"):
        assert stage in stages, stages.keys()
        assert set(stages[stage]) >= {"p50", "p90", "p99", "min", "mean"}
    assert set(data["results"]["image_ms"]) >= {"p50", "p90", "p99"}
    assert {"det", "rec"} <= set(data["results"]["stage_share"])


def test_times_are_non_negative_and_ordered(report):
    _, _, data = report
    results = data["results"]
    for stats in [results["image_ms"], *results["stages_ms"].values()]:
        assert all(v >= 0 for v in stats.values()), stats
        assert stats["min"] <= stats["p50"] <= stats["p90"] <= stats["p99"]
    for image in results["per_image"]:
        assert image["runs"] == 2
        assert image["wall_ms"]["min"] > 0
        assert all(v >= 0 for v in image["stages_min_ms"].values())
        # The stages are parts of the image's wall time.
        assert sum(image["stages_min_ms"].values()) <= image["wall_ms"]["p99"] * 1.001 + 0.01
    assert {Path(i["image"]).name for i in results["per_image"]} == {"page.png", "line.png"}


def test_cold_start_and_memory(report):
    _, _, data = report
    cold = data["cold_start"]
    assert cold["import_ms"] >= 0 and cold["runner_build_ms"] > 0 and cold["first_inference_ms"] > 0
    for task in ("text_detection", "text_recognition"):
        entry = cold["models"][task]
        for key in ("fetch_ms", "export_ms", "decision_ms"):
            assert entry[key] >= 0
        assert entry["backend"] in data["backends"][task]
        assert entry["decision_source"] in ("requested", "cached", "measured", "static")
    memory = data["memory"]
    assert memory["peak_rss_mb"] > 0
    steady = memory["steady_peak_rss_mb"]
    assert steady is None or 0 < steady <= memory["peak_rss_mb"] + 1


def test_errors_reported_per_image(tiny_images, tmp_path):
    import shutil

    directory = tmp_path / "mixed"
    shutil.copytree(tiny_images, directory)
    (directory / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 16)
    out = tmp_path / "mixed.json"
    code, text = _run(["--input", str(directory), "--warmup", "0", "--repeat", "1", "--json", str(out)])
    data = json.loads(out.read_text(encoding="utf-8"))
    assert code == 1  # some inputs failed, the rest were measured
    assert len(data["errors"]) == 1
    assert Path(data["errors"][0]["image"]).name == "broken.png" and data["errors"][0]["error"]
    assert data["results"]["throughput"]["images"] == 2
    assert "FAILED" in text and "broken.png" in text


def test_bad_arguments():
    code, _ = _run(["--input", "x", "--repeat", "0"])
    assert code == 2


def test_cli_dispatch(tiny_images, tmp_path):
    out = tmp_path / "cli.json"
    proc = subprocess.run(
        [sys.executable, "-m", "hpi.cli", "benchmark", "--input", str(tiny_images / "line.png"),
         "--warmup", "0", "--repeat", "1", "--json", str(out)],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text())["results"]["throughput"]["images"] == 1


# --------------------------------------------------------------------------- compare_rapidocr.py


@pytest.fixture(scope="module")
def compare_module():
    spec = importlib.util.spec_from_file_location("compare_rapidocr", ROOT / "benchmarks" / "compare_rapidocr.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_edit_distance_and_scoring(compare_module):
    m = compare_module
    assert m.edit_distance("kitten", "sitting") == 3
    assert m.edit_distance("", "abc") == 3 and m.edit_distance("abc", "abc") == 0
    truth = [{"text": "Total 15.87", "box": [10, 10, 200, 40]}, {"text": "Cash", "box": [10, 60, 100, 90]}]
    predicted = [{"text": "Total15.87", "box": [8, 9, 205, 42]}, {"text": "Cesh", "box": [12, 61, 98, 88]}]
    score = m.score_image(truth, predicted)
    assert score["exact"] == 1 and score["edit_distance"] == 1 and score["chars"] == len("Total15.87") + 4
    missing = m.score_image(truth, predicted[:1])
    assert missing["edit_distance"] == 4 and missing["misread"] == [["Cash", ""]]


def test_compare_set_has_every_category(compare_module, tmp_path):
    records = compare_module.build_set(tmp_path, "quick")
    assert {r["category"] for r in records} >= {"document", "receipt", "line", "rotated"}
    for record in records:
        assert Path(record["path"]).is_file() and record["lines"]
        w, h = record["size"]
        for line in record["lines"]:
            x1, y1, x2, y2 = line["box"]
            assert 0 <= x1 < x2 <= w and 0 <= y1 < y2 <= h and line["text"].strip()
    assert json.loads((tmp_path / "ground_truth.json").read_text(encoding="utf-8"))[0]["name"] == records[0]["name"]


def test_hpi_worker_protocol(compare_module, tiny_images):
    worker = compare_module.WorkerProcess("hpi", sys.executable, {})
    try:
        reply = worker.request({"path": str(tiny_images / "line.png")})
        assert reply["ms"] > 0 and "rec.model" in reply["stages"]
        assert [compare_module.normalize(l["text"]) for l in reply["lines"]] == ["Thankyouforyourorder"]
        bad = worker.request({"path": str(tiny_images / "missing.png")})
        assert "error" in bad  # reported per image; the worker keeps serving
        assert worker.request({"cmd": "rss"})["peak_rss_mb"] > 0
    finally:
        worker.close()
    assert worker.proc.returncode == 0


# --------------------------------------------------------------------------- the rec batching lever


class _ShapeRecordingRunner:
    """Stands in for a rec runner: records input shapes; the 'text' of each row is its crop's width class."""

    input_names = ["x"]

    def __init__(self, n_chars: int) -> None:
        self.shapes: list[tuple[int, ...]] = []
        self.n_chars = n_chars

    def infer_one(self, batch):
        return self.infer({"x": batch})["out"]

    def infer(self, feed):
        import numpy as np

        batch = feed["x"]
        self.shapes.append(batch.shape)
        steps = batch.shape[3] // 8
        probs = np.zeros((batch.shape[0], steps, self.n_chars), np.float32)
        probs[:, :, 0] = 1.0  # blank everywhere ...
        for row in range(batch.shape[0]):
            # ... except one step whose character encodes how many columns of this row hold image data.
            used = int((np.abs(batch[row]).sum(axis=(0, 1)) > 0).sum())
            probs[row, 0, 0] = 0.0
            probs[row, 0, 1 + min(used // 48, self.n_chars - 2)] = 1.0
        return {"out": probs}


def test_rec_batches_are_capped_bucketed_and_put_back_in_order():
    import numpy as np

    from hpi.models.registry import get_model_spec
    from hpi.predictors.text_recognition import TextRecognizer

    characters = ["blank"] + [chr(ord("a") + i) for i in range(26)] + [" "]
    runner = _ShapeRecordingRunner(len(characters))
    rec = TextRecognizer(runner, get_model_spec("PP-OCRv4_mobile_rec"), characters, batch_size=6,
                         max_batch_width=3840, width_bucket=128)
    rng = np.random.default_rng(0)
    widths = [int(w) for w in rng.integers(60, 1300, 23)]
    crops = [np.full((48, w, 3), 200, np.uint8) for w in widths]
    batches = rec.batches(crops)
    seen = sorted(int(i) for indices, _ in batches for i in indices)
    assert seen == list(range(len(crops)))  # every crop exactly once
    for indices, width in batches:
        assert 1 <= len(indices) <= 6
        assert width % 128 == 0 and width >= max(320, max(widths[i] for i in indices))
        assert len(indices) == 1 or len(indices) * width <= 3840
    results = rec.predict(crops)
    assert all(s[3] % 128 == 0 for s in runner.shapes)
    # Results come back in input order: each crop's "text" encodes its own width (48 px high crops
    # keep their width when resized to height 48).
    expected = [characters[1 + min(w // 48, len(characters) - 2)] for w in widths]
    assert [text for text, _ in results] == expected


# --------------------------------------------------------------------------- serving_ceiling.py


def test_serving_ceiling_report(tmp_path):
    """The ceiling script runs the real pipeline and its bounds follow from its own measurements."""
    out = tmp_path / "ceiling.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "serving_ceiling.py"), "--images", "1", "--rounds", "1",
         "--batches", "1,2", "--widths", "320", "--from-batch", "1", "--json", str(out)],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(out.read_text())
    busy = report["single_stream"]["cores_busy"]
    assert 0 < busy <= report["machine"]["cores"] + 0.2  # process time over wall time
    assert set(report["rec_ms_per_row"]) == {"1x320", "2x320"} and set(report["det_ms_per_page"]) == {"1", "2"}
    assert all(v > 0 for v in report["rec_ms_per_row"].values())
    rows = report["rec_ms_per_row"]
    assert report["bound_from_batching_rec"]["320"] == pytest.approx(rows["1x320"] / min(rows.values()), rel=0.01)
    assert report["bound_on_concurrency_speedup"] == pytest.approx(
        report["bound_from_idle_cores"] * report["bound_from_batching_rec"]["320"], rel=0.01)


def test_cold_start_times_every_start_up_model_of_nested_pipelines(monkeypatch):
    """Layout parsing starts 6 models, two text detections and two recognitions among them: each is timed."""
    from hpi.commands import benchmark
    from hpi.pipelines import load_config

    cls, config = load_config("layout_parsing", overrides={"use_doc_preprocessor": False})
    paths = cls.startup_slots(config)
    monkeypatch.setattr(cls, "__init__", lambda self, *a, **k: None)  # the runners are not the point here
    monkeypatch.setattr(benchmark, "_timed", lambda fn, *a, **k: (None, 0.0) if fn is cls else (fn(*a, **k), 0.0))
    monkeypatch.setattr("hpi.backends.select.decide_backend",
                        lambda *a, **k: type("D", (), {"backend": "onnxruntime", "reason": "requested"})())
    _, cold = benchmark.cold_start("layout_parsing", {"use_doc_preprocessor": False}, "cpu")
    assert set(cold["models"]) == {".".join(p) for p in paths} and len(paths) == 6
