"""``hpi build``: clear exit 2 without GPU/TensorRT; with a fake TensorRT + CUDA, builds then reuses engines."""

from __future__ import annotations

import pytest

from hpi import _deps
from hpi.cli import main


def test_without_tensorrt_or_gpu_exits_2_with_what_was_found(capsys):
    if _deps.is_available("tensorrt"):
        pytest.skip("tensorrt is installed here")
    assert main(["build", "--pipeline", "OCR", "--device", "gpu:0"]) == 2
    err = capsys.readouterr().err
    assert "cannot build TensorRT engines here" in err
    assert "tensorrt" in err and "NVIDIA" in err
    assert "GPU" in err  # what the device probe found (no GPU here, or the GPU it saw)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--device", "cpu"], "need a GPU device"),
        (["--pipeline", "table"], "knows pipelines OCR"),
        (["--model", "SLANet_plus"], "OCR has models"),
        (["--precision", "int8"], ""),
    ],
)
def test_bad_arguments_exit_2(argv, message, capsys):
    assert main(["build", *argv]) == 2
    assert message in capsys.readouterr().err


@pytest.fixture
def fake_gpu(monkeypatch):
    from backends.test_tensorrt import FakeCudart, FakeTensorRT, install_fakes

    trt = FakeTensorRT()
    install_fakes(monkeypatch, FakeCudart(), trt)
    return trt


def test_build_ocr_engines_then_reuse(fake_gpu, tmp_path, capsys, det_model, rec_model, cls_model):
    engines = tmp_path / "engines"
    argv = ["build", "--pipeline", "OCR", "--device", "gpu:0", "--engine-dir", str(engines)]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "TensorRT 10.9.0.34 on gpu:0 Fake GPU 80GB" in err
    for name in ("PP-OCRv4_mobile_det", "PP-OCRv4_mobile_rec", "PP-OCRv2_mobile_textline_ori"):
        assert f"{name}: fp32 engine built" in err
    assert err.count("[1/3]") == 2 and "All 3 engine(s) ready." in err
    assert fake_gpu.builds == 3
    entries = sorted(p.name for p in engines.iterdir() if p.name != "timing")
    assert len(entries) == 3 and all((engines / e / "engine.plan").is_file() for e in entries)

    assert main(argv + ["--model", "PP-OCRv4_mobile_rec"]) == 0
    assert "PP-OCRv4_mobile_rec: fp32 engine already cached" in capsys.readouterr().err
    assert fake_gpu.builds == 3
