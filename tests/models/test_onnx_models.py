"""Today's models shipped as ONNX in pinned wheels: facts from PaddleX's inference.yml, checked conversions."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.mark.parametrize("name, thresh, box_thresh, unclip", [
    ("PP-OCRv6_small_det", 0.2, 0.45, 1.4),
    ("PP-OCRv6_tiny_det", 0.2, 0.4, 1.4),
])
def test_v6_det_facts_come_from_its_inference_yml(name, thresh, box_thresh, unclip):
    from hpi.backends.export_check import prepare_model

    artifacts = prepare_model(name)
    post = artifacts.spec.postprocess
    assert (post["thresh"], post["box_thresh"], post["unclip_ratio"], post["max_candidates"]) == (
        thresh, box_thresh, unclip, 3000)
    assert artifacts.spec.mean == (0.485, 0.456, 0.406) and artifacts.spec.scale == pytest.approx(1 / 255)
    assert artifacts.onnx_path.is_file() and artifacts.paddle_files is None


def test_v6_rec_dictionary_is_the_one_in_its_inference_yml():
    from hpi.backends.export_check import prepare_model
    from hpi.models import inference_yml

    artifacts = prepare_model("PP-OCRv6_small_rec")
    listed = inference_yml.read_facts(artifacts.extra_files["yml"])["characters"]
    assert artifacts.extra_files["dict"].read_text(encoding="utf-8").splitlines() == listed
    assert len(listed) == 18708  # + blank + space = the model's 18710 classes
    assert artifacts.spec.postprocess["image_shape"] == [3, 48, 320]


def test_conversions_agree_with_the_independent_ones():
    from hpi.backends.export_check import check_conversion, prepare_model

    for name in ("PP-OCRv6_small_det", "PP-OCRv6_small_rec", "PP-OCRv5_mobile_det", "PP-OCRv5_mobile_rec"):
        record = check_conversion(prepare_model(name))
        assert record["ok"] and all(r["ok"] for r in record["results"]), record


def test_a_conversion_that_disagrees_is_refused(monkeypatch, tmp_hpi_home):
    """A wheel whose file is not the model it claims to be (here: the v5 det held against v6's conversion)."""
    from dataclasses import replace

    from hpi.backends import export_check
    from hpi.errors import ModelError
    from hpi.models import registry

    spec = registry.MODELS["PP-OCRv5_mobile_det"]
    monkeypatch.setitem(registry.MODELS, "PP-OCRv5_mobile_det",
                        replace(spec, reference_onnx="PP-OCRv6_small_det_rapidocr_onnx"))
    with pytest.raises(ModelError, match="disagrees with the independent conversion"):
        export_check.prepare_model("PP-OCRv5_mobile_det")


def test_textline_pp_lcnet_reads_upright_and_upside_down_lines():
    from rendering import latin_fonts, render_single_line

    from hpi.backends.export_check import prepare_model
    from hpi.backends.select import choose_runner
    from hpi.predictors import TextlineClassifier

    fonts = latin_fonts()
    if not fonts:
        pytest.skip("no DejaVu fonts to render test lines")
    artifacts = prepare_model("PP-LCNet_x1_0_textline_ori")
    runner = choose_runner(artifacts, device="cpu", backend="onnxruntime")
    try:
        classifier = TextlineClassifier(runner, artifacts.spec)
        lines = [render_single_line(t, fonts[i % len(fonts)], size=28).image
                 for i, t in enumerate(["Invoice No. 2026-1125", "Total due 1,680.00 EUR", "The quick brown fox"])]
        crops = lines + [np.ascontiguousarray(line[::-1, ::-1]) for line in lines]
        labels, scores = classifier.predict(crops)
    finally:
        runner.deactivate()
    assert labels == [0, 0, 0, 1, 1, 1] and min(scores) > 0.9
