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
        (["--pipeline", "table"], "Unknown pipeline 'table'"),
        (["--model", "SLANet_plus"], "OCR has models"),
        (["--precision", "int8"], ""),
    ],
)
def test_bad_arguments_exit_2(argv, message, capsys):
    assert main(["build", *argv]) == 2
    assert message in capsys.readouterr().err


@pytest.fixture
def fake_gpu(monkeypatch):
    from tests.backends.fakes_trt import FakeCudart, FakeTensorRT, install_fakes

    trt = FakeTensorRT()
    install_fakes(monkeypatch, FakeCudart(), trt, report_installed=True)
    return trt


def test_build_ocr_engines_then_reuse(fake_gpu, tmp_path, capsys, det_model, rec_model, cls_model):
    engines = tmp_path / "engines"
    argv = ["build", "--pipeline", "OCR", "--device", "gpu:0", "--engine-dir", str(engines)]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "TensorRT 10.9.0.34 on gpu:0 Fake GPU 80GB" in err
    # Every model the pipeline can load, the document preprocessor's orientation and unwarping models included.
    for name in ("PP-OCRv6_small_det", "PP-OCRv6_small_rec", "PP-LCNet_x1_0_textline_ori", "PP-LCNet_x1_0_doc_ori",
                 "UVDoc"):
        assert f"{name}: fp32 engine built" in err
    assert err.count("[1/5]") == 2 and "All 5 engine(s) ready." in err
    assert fake_gpu.builds == 5
    entries = sorted(p.name for p in engines.iterdir() if p.name != "timing")
    assert len(entries) == 5 and all((engines / e / "engine.plan").is_file() for e in entries)

    assert main(argv + ["--model", "PP-OCRv6_small_rec"]) == 0
    assert "PP-OCRv6_small_rec: fp32 engine already cached" in capsys.readouterr().err
    assert fake_gpu.builds == 5


def test_engines_built_ahead_are_the_ones_the_pipeline_loads(fake_gpu, tmp_path, capsys, det_model, rec_model,
                                                             cls_model):
    """The options hpi build uses are the pipeline's own (hpi_config.backend_config.tensorrt of its YAML)."""
    import yaml

    from hpi import create_pipeline
    from hpi.config import load_pipeline_config

    engines = tmp_path / "engines"
    data = load_pipeline_config("OCR")
    data["hpi_config"] = {"backend": "tensorrt",
                          "backend_config": {"tensorrt": {"engine_dir": str(engines), "det_limit": 736}}}
    config = tmp_path / "ocr.yaml"
    config.write_text(yaml.safe_dump(data))
    assert main(["build", "--pipeline", str(config), "--device", "gpu:0"]) == 0
    assert "All 5 engine(s) ready." in capsys.readouterr().err
    assert fake_gpu.builds == 5
    with create_pipeline(str(config), device="gpu:0") as pipeline:
        assert set(pipeline.describe()) == {"text_detection", "text_recognition", "textline_orientation"}
        assert all(d.startswith("tensorrt") for d in pipeline.describe().values())
    assert fake_gpu.builds == 5  # found, not built again
    # A different det_limit is a different engine: the key covers the options.
    data["hpi_config"]["backend_config"]["tensorrt"]["det_limit"] = 960
    with create_pipeline(config=data, device="gpu:0"):
        pass
    assert fake_gpu.builds == 6


def test_unknown_backend_option_is_a_config_error():
    from hpi import create_pipeline
    from hpi.errors import ConfigError

    with pytest.raises(ConfigError, match="det_limt"):
        create_pipeline(config={"pipeline_name": "OCR",
                                "hpi_config": {"backend_config": {"tensorrt": {"det_limt": 960}}}})
