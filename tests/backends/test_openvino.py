"""OpenVINO on the real det/rec/cls models: agrees with Paddle Inference; f32 unless asked."""

from __future__ import annotations

import numpy as np
import pytest

from hpi.backends import create_runner
from hpi.backends.openvino import OpenVINORunner
from hpi.device import cpu_identity
from hpi.errors import BackendUnavailableError
from tests.backends.parity import assert_agree, assert_gpu_is_refused_with_a_pointer

pytest.importorskip("openvino", reason="openvino is not installed (pip install \"hpi[cpu]\")")


@pytest.mark.parametrize("kind", ["det", "rec", "cls"])
def test_agrees_with_paddle_inference(kind, parity_case):
    case, reference = parity_case(kind)
    with OpenVINORunner(case.artifacts, threads=2) as runner:
        outputs = [runner.infer_one(x) for x in case.inputs]
    assert_agree(case, reference, outputs, f"openvino {kind}")


def test_f32_precision_hint_by_default(cls_model):
    """On CPUs with bf16, OpenVINO's own default would silently run in bf16."""
    with OpenVINORunner(cls_model, threads=2) as runner:
        assert str(runner.compiled.get_property("INFERENCE_PRECISION_HINT")) in ("<Type: 'float32'>", "f32")


@pytest.mark.skipif(
    not {"avx512_bf16", "amx_bf16"} & set(cpu_identity()["flags"]),
    reason="this CPU has no bf16 (AVX-512 bf16 / AMX); OpenVINO would keep f32",
)
def test_bf16_only_when_asked(cls_model):
    with create_runner("openvino", cls_model, threads=2, precision="bf16") as runner:
        assert "bfloat16" in str(runner.compiled.get_property("INFERENCE_PRECISION_HINT"))


def test_unknown_precision_is_refused(cls_model):
    with pytest.raises(BackendUnavailableError, match="precision"):
        create_runner("openvino", cls_model, precision="int4")


def test_dynamic_shapes_on_one_compiled_model(rec_model):
    with create_runner("openvino", rec_model, threads=2) as runner:
        for shape in [(1, 3, 48, 320), (4, 3, 48, 96), (2, 3, 48, 1000)]:
            out = runner.infer({"x": np.zeros(shape, np.float32)})
            value = next(iter(out.values()))
            assert value.shape[0] == shape[0] and value.shape[-1] == 6625


def test_outputs_are_not_overwritten_by_the_next_call(cls_model):
    with OpenVINORunner(cls_model, threads=2) as runner:
        first = runner.infer_one(np.ones((1, 3, 48, 192), np.float32))
        kept = first.copy()
        runner.infer_one(-np.ones((1, 3, 48, 192), np.float32))
        np.testing.assert_array_equal(first, kept)


def test_gpu_is_refused_with_a_pointer(cls_model):
    assert_gpu_is_refused_with_a_pointer("openvino", OpenVINORunner, cls_model)
