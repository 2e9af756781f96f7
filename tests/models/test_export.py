"""Our Paddle → ONNX export of the real models agrees with Paddle Inference (checked at export)."""

import pytest

from tests.models.fresh import fresh_python


@pytest.mark.parametrize("fixture", ["det_model", "rec_model", "cls_model"])
def test_export_parity_recorded(fixture, request):
    artifacts = request.getfixturevalue(fixture)
    assert artifacts.onnx_path is not None and artifacts.onnx_path.is_file()
    parity = artifacts.export_meta["parity"]
    assert parity["checked"] is True
    for result in parity["results"]:
        assert result["ok"], result
        assert result["max_abs"] <= artifacts.tolerance


def test_info_lines_survive_importing_paddle():
    """``import paddle`` sets the root logger to WARNING; hpi undoes that so its INFO lines still show."""
    script = (
        "import logging; logging.basicConfig(level=logging.INFO, format='%(levelname)s %(message)s')\n"
        "from hpi._deps import import_paddle_inference; import_paddle_inference()\n"
        "import paddle.distributed\n"
        "logging.getLogger('hpi').info('Exported after paddle')\n"
        "print(logging.getLogger().level)\n"
    )
    proc = fresh_python(script)
    assert "INFO Exported after paddle" in proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "20"


def test_a_failed_export_falls_back_to_paddle_inference_once(tmp_hpi_home, monkeypatch, caplog):
    """paddle2onnx writing a graph ONNX Runtime cannot load (as 2.1.0 does for rec/cls) is a real way for an
    export to fail; it is made to happen here by truncating what the converter wrote. The model then runs on
    Paddle Inference (one INFO line says why), and the failure is remembered: no second conversion."""
    from hpi.backends.export_check import prepare_model
    from hpi.backends.select import choose_runner
    from hpi.models import export
    from hpi.models.probe_inputs import probe_input

    real = export._run_paddle2onnx
    runs = []

    def broken_converter(model_file, params_file, out_file, workdir):
        runs.append(model_file)
        real(model_file, params_file, out_file, workdir)
        out_file.write_bytes(out_file.read_bytes()[:1000])

    monkeypatch.setattr(export, "_run_paddle2onnx", broken_converter)
    with caplog.at_level("INFO", logger="hpi"):
        artifacts = prepare_model("PP-OCRv2_mobile_textline_ori")
    assert artifacts.onnx_path is None and artifacts.paddle_files is not None
    lines = [r.getMessage() for r in caplog.records if "runs on Paddle Inference only" in r.getMessage()]
    assert len(lines) == 1 and "ONNX Runtime cannot run" in lines[0]
    with choose_runner(artifacts, backend="auto", threads=1) as runner:
        assert runner.backend_name == "paddle"
        assert runner.infer_one(probe_input(artifacts.spec, (1, 3, 48, 192))).shape == (1, 2)
    caplog.clear()
    with caplog.at_level("INFO", logger="hpi"):
        assert prepare_model("PP-OCRv2_mobile_textline_ori").onnx_path is None
    assert len(runs) == 1  # remembered
    assert any("remembered from an earlier try" in r.getMessage() for r in caplog.records)
