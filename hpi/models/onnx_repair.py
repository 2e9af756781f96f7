"""Repairs of paddle2onnx graphs that are valid ONNX but that ONNX Runtime / OpenVINO will not run.

One repair so far: a ``Where`` whose value inputs are booleans. paddle2onnx
2.0.1 writes one inside SLANet-plus's decoder (``Loop`` body, from Paddle's
``select_input``); ONNX Runtime has no bool kernel for ``Where``
(``NOT_IMPLEMENTED: Where(16)``) and OpenVINO refuses it too. The repair casts
both value inputs to int32, selects, and casts the result back to bool — the
same values, on types every backend implements. It walks every sub-graph
(``Loop``/``If``/``Scan`` bodies), where the node lives.

Measured (SLANet_plus, 5 rendered tables from 3×3 to 12×8, ruled/unruled,
merged cells, Chinese): after the repair ONNX Runtime's structure tokens are
identical to Paddle Inference's (oneDNN off) and loc/structure outputs differ
by ≤ 7e-6; the export check (:mod:`hpi.backends.export_check`) verifies that
for every export.
"""

from __future__ import annotations

import logging
from pathlib import Path

from .. import _deps

log = logging.getLogger(__name__)


def _known_types(graph, inferred) -> dict[str, int]:
    """Element type per value name in ``graph``, from shape inference and the graph's own constants."""
    onnx = _deps._import("onnx")
    types: dict[str, int] = {}
    for info in (*inferred.value_info, *inferred.input, *inferred.output):
        types[info.name] = info.type.tensor_type.elem_type
    for init in (*inferred.initializer, *graph.initializer):
        types[init.name] = init.data_type
    for node in graph.node:
        if node.op_type == "Constant":
            for attr in node.attribute:
                if attr.name == "value" and attr.type == onnx.AttributeProto.TENSOR:
                    types[node.output[0]] = attr.t.data_type
    return types


def _repair_graph(graph, inferred) -> int:
    onnx = _deps._import("onnx")
    helper, tensor = onnx.helper, onnx.TensorProto
    types = _known_types(graph, inferred)
    repaired = 0
    nodes = []
    for node, node_inferred in zip(graph.node, inferred.node):
        for attr, attr_inferred in zip(node.attribute, node_inferred.attribute):
            if attr.type == onnx.AttributeProto.GRAPH:
                repaired += _repair_graph(attr.g, attr_inferred.g)
        if node.op_type == "Where" and all(types.get(name) == tensor.BOOL for name in node.input[1:3]):
            cond, x, y = node.input
            x_int, y_int, out_int = f"{x}__hpi_i32", f"{y}__hpi_i32", f"{node.output[0]}__hpi_i32"
            nodes += [
                helper.make_node("Cast", [x], [x_int], to=tensor.INT32, name=f"{node.name}__hpi_cast_x"),
                helper.make_node("Cast", [y], [y_int], to=tensor.INT32, name=f"{node.name}__hpi_cast_y"),
                helper.make_node("Where", [cond, x_int, y_int], [out_int], name=node.name),
                helper.make_node("Cast", [out_int], [node.output[0]], to=tensor.BOOL, name=f"{node.name}__hpi_cast_out"),
            ]
            repaired += 1
        else:
            nodes.append(node)
    if repaired:
        del graph.node[:]
        graph.node.extend(nodes)
    return repaired


def repair_exported(path: Path) -> dict:
    """Repair the ONNX file at ``path`` in place; returns ``{"boolean_where": n}`` (n = 0: untouched).

    A file that needs no repair is not rewritten, so exports of models
    without such nodes stay byte-identical to paddle2onnx's output.
    """
    onnx = _deps._import("onnx")
    model = onnx.load(str(path))
    inferred = onnx.shape_inference.infer_shapes(model)
    count = _repair_graph(model.graph, inferred.graph)
    if count:
        onnx.checker.check_model(model)
        onnx.save(model, str(path))
        log.debug("Repaired %d boolean Where node(s) in %s", count, path)
    return {"boolean_where": count}


__all__ = ["repair_exported"]
