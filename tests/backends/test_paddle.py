"""Paddle Inference on the real det/rec/cls models: oneDNN (the default, the parity reference) vs plain."""

from __future__ import annotations

import numpy as np
import pytest

from hpi.backends import create_runner
from hpi.backends.paddle import PaddleRunner
from hpi.errors import BackendError
from tests.backends.parity import assert_agree, assert_gpu_is_refused_with_a_pointer, assert_reference_is_meaningful

pytest.importorskip("paddle", reason="paddlepaddle is not installed (pip install \"hpi[cpu]\")")


@pytest.mark.parametrize("kind", ["det", "rec", "cls"])
def test_plain_paddle_agrees_with_onednn(kind, paddle_reference):
    case, outputs = paddle_reference(kind)  # both runs in a child process (parity.paddle_outputs)
    assert_reference_is_meaningful(case, outputs["onednn"])
    with_onednn, without = outputs["described"]
    assert with_onednn.startswith("paddle") and "no oneDNN" not in with_onednn
    assert without.startswith("paddle (no oneDNN")
    assert_agree(case, outputs["onednn"], outputs["plain"], f"paddle without oneDNN {kind}")


def test_dynamic_shapes_and_name_keyed_io(rec_model):
    with create_runner("paddle", rec_model, threads=2) as runner:
        assert runner.is_active and runner.input_names == ["x"]
        for shape in [(1, 3, 48, 320), (3, 3, 48, 96), (2, 3, 48, 800)]:
            out = runner.infer({"x": np.zeros(shape, np.float32)})
            (name, value), = out.items()
            assert name == runner.output_names[0]
            assert value.shape[0] == shape[0] and value.shape[-1] == 6625
    assert not runner.is_active


def test_needs_paddle_files(cls_model):
    from dataclasses import replace

    onnx_only = replace(cls_model, paddle_files=None)
    with pytest.raises(BackendError, match="no Paddle inference files"):
        PaddleRunner(onnx_only).activate()


def test_gpu_is_refused_with_a_pointer(cls_model):
    assert_gpu_is_refused_with_a_pointer("paddle", PaddleRunner, cls_model)
