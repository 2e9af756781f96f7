"""Our Paddle → ONNX export of the real models agrees with Paddle Inference (checked at export)."""

import pytest


@pytest.mark.parametrize("fixture", ["det_model", "rec_model", "cls_model"])
def test_export_parity_recorded(fixture, request):
    artifacts = request.getfixturevalue(fixture)
    assert artifacts.onnx_path is not None and artifacts.onnx_path.is_file()
    parity = artifacts.export_meta["parity"]
    assert parity["checked"] is True
    for result in parity["results"]:
        assert result["ok"], result
        assert result["max_abs"] <= artifacts.tolerance
