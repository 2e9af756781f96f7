"""SLANet_plus: paddle2onnx's graph repaired (boolean Where in the decoder Loop) and proven on rendered tables."""

from __future__ import annotations

import numpy as np
import pytest

from table_rendering import Cell, grid, render_table


@pytest.fixture(scope="module")
def slanet_plus():
    from hpi.backends.export_check import prepare_model

    return prepare_model("SLANet_plus")


def test_export_was_repaired_and_checked(slanet_plus):
    meta = slanet_plus.export_meta
    assert meta["repairs"] == {"boolean_where": 1, "loop_body_inputs": 13}
    assert meta["parity"]["checked"] and all(r["ok"] for r in meta["parity"]["results"])


def test_onnx_runtime_and_openvino_match_paddle_inference_on_rendered_tables(slanet_plus):
    from hpi.backends.onnxruntime import OnnxRuntimeRunner
    from hpi.backends.openvino import OpenVINORunner
    from hpi.backends.paddle import PaddleRunner
    from hpi.kernels import table_preprocess

    tables = [render_table(grid(3, 3), margin=4),
              render_table([[Cell("Region", rowspan=2), Cell("Sales", colspan=2)], [Cell("2024"), Cell("2025")],
                            [Cell("North"), Cell("120"), Cell("135")]], ruled=False),
              render_table(grid(4, 4, 3, chinese=True))]
    with OnnxRuntimeRunner(slanet_plus, threads=2) as onnx_runner, OpenVINORunner(slanet_plus, threads=2) as ov, \
            PaddleRunner(slanet_plus, threads=2, options={"mkldnn": False}) as paddle_runner:
        for table in tables:
            feed = {"x": table_preprocess(table.image)[0]}
            ref = sorted(paddle_runner.infer(feed).values(), key=lambda a: a.shape[-1])
            for runner in (onnx_runner, ov):
                got = sorted(runner.infer(feed).values(), key=lambda a: a.shape[-1])
                for a, b in zip(got, ref):
                    assert a.shape == b.shape  # the decoder stopped at the same step
                    assert float(np.max(np.abs(a - b))) <= 1e-4
                assert got[1].argmax(-1).tolist() == ref[1].argmax(-1).tolist()  # identical structure tokens


def test_repair_leaves_other_graphs_untouched(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    from hpi.models.onnx_repair import repair_exported

    node = helper.make_node("Where", ["c", "a", "b"], ["y"])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info(n, t, [2]) for n, t in
                                            (("c", TensorProto.BOOL), ("a", TensorProto.FLOAT),
                                             ("b", TensorProto.FLOAT))],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)]), str(path))
    before = path.read_bytes()
    assert repair_exported(path) == {"boolean_where": 0, "loop_body_inputs": 0}
    assert path.read_bytes() == before
