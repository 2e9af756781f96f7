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
