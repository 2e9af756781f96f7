"""Repairs of paddle2onnx graphs that are valid ONNX but that ONNX Runtime / OpenVINO will not run.

Two repairs, both found in SLANet-plus's decoder ``Loop``.

**Boolean Where.** A ``Where`` whose value inputs are booleans. paddle2onnx
2.0.1 writes one inside SLANet-plus's decoder (``Loop`` body, from Paddle's
``select_input``); ONNX Runtime has no bool kernel for ``Where``
(``NOT_IMPLEMENTED: Where(16)``) and OpenVINO refuses it too. The repair casts
both value inputs to int32, selects, and casts the result back to bool — the
same values, on types every backend implements. It walks every sub-graph
(``Loop``/``If``/``Scan`` bodies), where the node lives.

**Loop-body inputs that shadow outer names.** paddle2onnx names each ``Loop``
body input after the outer value fed into it. ONNX Runtime accepts that;
OpenVINO's ONNX frontend resolves such a name to the outer value and then
finds a body with one formal input instead of 14 ("canonical inputs size (1)
does not match…"). The repair renames those body inputs (and their uses
inside the body) to unique names: the same graph, which OpenVINO then
compiles.

Measured (SLANet_plus, 5 rendered tables from 3×3 to 12×8, ruled/unruled,
merged cells, Chinese): after the repair ONNX Runtime's structure tokens are
identical to Paddle Inference's (oneDNN off) and loc/structure outputs differ
by ≤ 7e-6; the export check (:mod:`hpi.backends.export_check`) verifies that
for every export. With the second repair OpenVINO (f32) agrees with ONNX
Runtime by ≤ 9e-6 on the same tables, and ONNX Runtime's outputs are
unchanged (bit-identical).
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


# Part of the export cache key: a change to the repairs re-exports models exported before it.
REPAIRS_VERSION = 2


def _value_names(graph) -> set[str]:
    names = {i.name for i in graph.input} | {i.name for i in graph.initializer}
    for node in graph.node:
        names.update(node.output)
    return names


def _rename_uses(graph, old: str, new: str) -> None:
    """``old`` → ``new`` in ``graph``'s node inputs and outputs list, and in nested graphs that do not
    define ``old`` themselves (where it is an outer-scope reference)."""
    onnx = _deps._import("onnx")
    for node in graph.node:
        for k, name in enumerate(node.input):
            if name == old:
                node.input[k] = new
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH and old not in _value_names(attr.g):
                _rename_uses(attr.g, old, new)
    for output in graph.output:
        if output.name == old:
            output.name = new


def _unshadow_loop_inputs(graph, scope: frozenset = frozenset()) -> int:
    onnx = _deps._import("onnx")
    scope = scope | _value_names(graph)
    renamed = 0
    for node in graph.node:
        for attr in node.attribute:
            if attr.type != onnx.AttributeProto.GRAPH:
                continue
            if node.op_type == "Loop":
                for body_input in attr.g.input:
                    if body_input.name in scope:
                        old, body_input.name = body_input.name, f"{body_input.name}__hpi_body"
                        _rename_uses(attr.g, old, body_input.name)
                        renamed += 1
            renamed += _unshadow_loop_inputs(attr.g, scope)
    return renamed


def repair_exported(path: Path) -> dict:
    """Repair the ONNX file at ``path`` in place; returns ``{"boolean_where": n, "loop_body_inputs": m}``
    (all 0: untouched).

    A file that needs no repair is not rewritten, so exports of models
    without such nodes stay byte-identical to paddle2onnx's output.
    """
    onnx = _deps._import("onnx")
    model = onnx.load(str(path))
    inferred = onnx.shape_inference.infer_shapes(model)
    repairs = {"boolean_where": _repair_graph(model.graph, inferred.graph),
               "loop_body_inputs": _unshadow_loop_inputs(model.graph)}
    if any(repairs.values()):
        onnx.checker.check_model(model)
        onnx.save(model, str(path))
        log.debug("Repaired %s in %s", repairs, path)
    return repairs


__all__ = ["REPAIRS_VERSION", "repair_exported"]
