"""Verified models: locate, export Paddle → ONNX when needed, and check the export on the backends.

The models layer finds files and runs paddle2onnx (:mod:`hpi.models.resolve`,
:mod:`hpi.models.export`) but runs no model. The check lives here, where the
runners are: the export runs in ONNX Runtime and the original in Paddle
Inference (oneDNN off: the plain reference) on the same rendered input, and
they must agree by the task's fp32 parity rule (:func:`hpi.models.compare.compare_outputs`).
:func:`prepare_model` is what pipelines and commands call.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import numpy as np

from .. import _deps
from .._deps import INSTALL_CPU
from ..cache import atomic_write_json, cache_dir, read_json
from ..errors import ExportError, ModelError
from ..models import export
from ..models.artifacts import ModelArtifacts
from ..models.agreement import Comparison
from ..models.compare import compare_outputs
from ..models.probe_inputs import probe_input
from ..models.registry import ModelSpec
from ..models.registry_onnx import BACKEND_CROSS_CHECK
from ..models.resolve import locate_model, needs_export
from .onnxruntime import OnnxRuntimeRunner
from .paddle import PaddleRunner

log = logging.getLogger(__name__)

FP16_TOLERANCE = 2e-3  # fp16 original vs its fp32 copy, relative to the output's magnitude (at least 1)


def prepare_model(ref: str | Path, need_onnx: bool = True, default_spec: ModelSpec | None = None) -> ModelArtifacts:
    """The model ``ref`` names, with a verified ONNX export when ``need_onnx`` and only Paddle files exist
    (when the export fails or disagrees, the Paddle files alone: Paddle Inference runs the model).

    ``ref`` is a registry name (fetched on first use), any PaddleX model name (PaddleX's cache,
    hpi's cache or fetched: :mod:`hpi.models.store`), a PaddleX model
    directory or an ``.onnx`` file; ``default_spec`` gives the model facts for
    user files whose name is not in the registry (see
    :func:`hpi.models.resolve.locate_model`).
    """
    artifacts = locate_model(ref, default_spec)
    if "onnx_fp16" in artifacts.extra_files:
        check_fp16_copy(artifacts)
    if need_onnx and needs_export(artifacts):
        try:
            return export_checked(artifacts)
        except ExportError as exc:
            if not _deps.is_available("paddle"):
                raise
            # Paddle Inference runs the original: the model still runs, on that backend only.
            log.info("Model %s runs on Paddle Inference only: %s", artifacts.name, _first_line(exc))
            return artifacts
    if artifacts.spec is not None and artifacts.spec.reference_onnx and artifacts.paddle_files is None \
            and isinstance(ref, str) and ref == artifacts.spec.name:
        check_conversion(artifacts)
    return artifacts


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def check_conversion(artifacts: ModelArtifacts) -> dict:
    """A model shipped as a third party's ONNX, checked once against an independent conversion of the weights.

    Both run in ONNX Runtime on the model's rendered probe inputs and must agree by the task's fp32 parity
    rule; the verdict is cached under ``$HPI_HOME/verified`` keyed by both files' content, so it runs once.
    """
    spec = artifacts.spec
    if spec.reference_onnx == BACKEND_CROSS_CHECK:
        return check_backends(artifacts)
    reference = locate_model(spec.reference_onnx)
    key = f"{artifacts.content_hash[:16]}-{reference.content_hash[:16]}"
    path = cache_dir("verified") / f"{spec.name}-{key}.json"
    record = read_json(path, warn=True) if path.exists() else None
    if record and record.get("ok"):
        return record
    results = []
    with OnnxRuntimeRunner(artifacts, threads=2) as candidate, OnnxRuntimeRunner(reference, threads=2) as other:
        for shape in spec.inputs[0].typical_shapes[-1:]:  # the smallest typical shape: a second or two
            feed = probe_input(spec, tuple(shape))
            comparison = compare_outputs(spec, other.infer_one(feed), candidate.infer_one(feed))
            results.append({"shape": list(shape), **comparison.as_dict(), "reason": comparison.reason})
            if not comparison.ok:
                raise ModelError(
                    f"{spec.name} ({artifacts.onnx_path.name} from {spec.source.requirement}) disagrees with the "
                    f"independent conversion {reference.name} on a rendered input of shape {tuple(shape)}: "
                    f"{comparison.reason}. The wheel's file is not the model it claims to be; hpi will not run it."
                )
    record = {"ok": True, "model": spec.name, "reference": reference.name, "results": results}
    atomic_write_json(path, record)
    log.info("Checked %s against the independent conversion %s: %s", spec.name, reference.name,
             "; ".join(r["reason"] for r in results))
    return record


def check_backends(artifacts: ModelArtifacts) -> dict:
    """A shipped ONNX with no independent conversion: ONNX Runtime and OpenVINO (two independent runtimes)
    must agree on the model's rendered probe input by the task's fp32 parity rule; cached like
    :func:`check_conversion`. Without OpenVINO installed the check is skipped with one warning."""
    from .openvino import OpenVINORunner

    spec = artifacts.spec
    path = cache_dir("verified") / f"{spec.name}-{artifacts.content_hash[:16]}-openvino.json"
    record = read_json(path, warn=True) if path.exists() else None
    if record and record.get("ok"):
        return record
    shape = tuple(spec.inputs[0].typical_shapes[-1])
    feed = probe_input(spec, shape)
    try:
        with OpenVINORunner(artifacts, threads=2) as other:
            expected = other.infer_one(feed)
    except Exception as exc:  # OpenVINO missing or unable to compile: nothing to compare with
        log.warning("Could not cross-check %s in OpenVINO (%s); running it unchecked.", spec.name, exc)
        return {"ok": False, "model": spec.name, "reason": str(exc)}
    with OnnxRuntimeRunner(artifacts, threads=2) as candidate:
        comparison = compare_outputs(spec, expected, candidate.infer_one(feed))
    if not comparison.ok:
        raise ModelError(
            f"{spec.name} ({artifacts.onnx_path.name} from {spec.source.requirement}) gives different outputs in "
            f"ONNX Runtime and OpenVINO on a rendered input of shape {shape}: {comparison.reason}. The file is "
            "not a model both runtimes read the same way; hpi will not run it."
        )
    record = {"ok": True, "model": spec.name, "reference": "openvino",
              "results": [{"shape": list(shape), **comparison.as_dict(), "reason": comparison.reason}]}
    atomic_write_json(path, record)
    log.info("Checked %s in ONNX Runtime against OpenVINO: %s", spec.name, comparison.reason)
    return record


def check_fp16_copy(artifacts: ModelArtifacts) -> dict:
    """An fp16 model run as its fp32 copy (:mod:`hpi.models.onnx_fp32`): the fp16 original (fp16 input, in
    ONNX Runtime) and the copy must agree on the model's rendered probe input by the task's fp32 parity rule
    (the copy computes in fp32, so they differ by fp16 rounding only); cached like :func:`check_conversion`."""
    spec = artifacts.spec
    path = cache_dir("verified") / f"{artifacts.name}-{artifacts.content_hash[:16]}-fp16.json"
    record = read_json(path, warn=True) if path.exists() else None
    if record and record.get("ok"):
        return record
    ort = _deps._import("onnxruntime")
    with OnnxRuntimeRunner(artifacts, threads=2) as candidate:
        shapes = parity_shapes(spec, list(candidate.session.get_inputs()[0].shape))
        feed = probe_input(spec, shapes[0])
        got = candidate.infer_one(feed)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    original = ort.InferenceSession(str(artifacts.extra_files["onnx_fp16"]), options,
                                    providers=["CPUExecutionProvider"])
    expected = original.run(None, {original.get_inputs()[0].name: feed.astype(np.float16)})[0].astype(np.float32)
    # fp16 arithmetic alone moves outputs by ~1e-3 of their range (UVDoc's grid: 2.8e-4 on ±0.9)
    scale = max(1.0, float(np.max(np.abs(expected)))) if expected.size else 1.0
    if spec is not None:
        comparison = compare_outputs(replace(spec, tolerance=max(spec.tolerance, FP16_TOLERANCE * scale)),
                                     expected, got)
    else:  # a user's fp16 .onnx of an unknown model: the raw values only
        diff = float(np.max(np.abs(expected - got))) if expected.shape == got.shape else float("inf")
        limit = FP16_TOLERANCE * scale
        comparison = Comparison(diff, None, diff <= limit, f"max abs {diff:.2e} (≤ {limit:g})")
    if not comparison.ok:
        raise ModelError(
            f"The fp32 copy of the fp16 model {artifacts.name} disagrees with the original on a rendered input of "
            f"shape {shapes[0]}: {comparison.reason}. hpi will not run it; report this with the model file."
        )
    record = {"ok": True, "model": artifacts.name, "reference": "fp16 original (onnxruntime)",
              "results": [{"shape": list(shapes[0]), **comparison.as_dict(), "reason": comparison.reason}]}
    atomic_write_json(path, record)
    log.info("Checked the fp32 copy of %s against its fp16 original: %s", artifacts.name, comparison.reason)
    return record


def export_checked(artifacts: ModelArtifacts) -> ModelArtifacts:
    """``artifacts`` with ``onnx_path`` set to its cached or fresh export, checked by :func:`check_export`."""
    return export.export_onnx(artifacts, check=check_export)


def parity_shapes(spec: ModelSpec | None, input_shape: list) -> list[tuple[int, ...]]:
    """The input shapes an export is checked on: the smallest typical one, or the model's own dims."""
    if spec is not None and spec.inputs:
        rule = spec.inputs[0]
        # The smallest typical shape keeps the check to a second or two.
        return [min(rule.typical_shapes, key=lambda s: int(np.prod(s)))]
    # No input rules (a user's model of a task hpi ships none for): the model's own static dims; 1 for the batch, 64 for other dynamic ones
    # (onnxruntime reports those as None, -1 or a symbolic name).
    shape = [d if isinstance(d, int) and d > 0 else (1 if i == 0 else 64) for i, d in enumerate(input_shape)]
    return [tuple(shape)]


def check_export(candidate: ModelArtifacts) -> dict:
    """Run the export in ONNX Runtime and the original in Paddle Inference on the same input.

    Returns the parity record stored in the export's meta.json; raises
    :class:`~hpi.errors.ExportError` when the export does not run or disagrees.
    """
    try:
        with OnnxRuntimeRunner(candidate, threads=2) as onnx_runner:
            image_input = next(i for i in onnx_runner.session.get_inputs() if i.name == onnx_runner.image_input_name)
            shapes = parity_shapes(candidate.spec, list(image_input.shape))
            feeds = [probe_input(candidate.spec, shape) for shape in shapes]
            # Every output, in order (a table model's structure tokens as well as its cell boxes).
            onnx_out = [list(onnx_runner.infer(onnx_runner.probe_feed(feed)).values()) for feed in feeds]
    except Exception as exc:
        from ..models.export import SUPPORTED_PADDLE2ONNX, _converter_version

        version = _converter_version()
        hint = (f"paddle2onnx {version} cannot express one of its ops for ONNX Runtime (PP-YOLOE-R's NMS over "
                "polygons is one)" if version in SUPPORTED_PADDLE2ONNX else
                f"hpi needs paddle2onnx 2.0.1 (2.1.0 is known to write broken rec/cls graphs): {INSTALL_CPU}")
        raise ExportError(
            f"paddle2onnx wrote an ONNX model for {candidate.name} that ONNX Runtime cannot run ({exc}). {hint}."
        ) from exc
    # oneDNN off: the plain reference (measured: Paddle differs from itself by 4e-5 with IR passes on/off).
    with PaddleRunner(candidate, threads=2, options={"mkldnn": False}) as paddle_runner:
        paddle_out = [list(paddle_runner.infer(paddle_runner.probe_feed(feed)).values()) for feed in feeds]
    results = []
    for shape, ref_outputs, got_outputs in zip(shapes, paddle_out, onnx_out):
        if len(ref_outputs) != len(got_outputs):
            raise ExportError(
                f"The ONNX export of {candidate.name} has {len(got_outputs)} outputs, the Paddle model "
                f"{len(ref_outputs)}; the export is not the same model."
            )
        for index, (ref, got) in enumerate(zip(ref_outputs, got_outputs)):
            comparison = compare_outputs(candidate.spec, ref, got)
            record = {"shape": list(shape), **comparison.as_dict(), "reason": comparison.reason}
            results.append(record if len(ref_outputs) == 1 else {"output": index, **record})
            if not comparison.ok:
                raise ExportError(
                    f"The ONNX export of {candidate.name} disagrees with Paddle Inference on a rendered "
                    f"input of shape {shape} (output {index}): {comparison.reason}. This is beyond fp32 "
                    "reordering noise; the converter version is probably wrong (hpi pins paddle2onnx 2.0.1, "
                    "paddlepaddle 3.2.2)."
                )
    summary = "; ".join(r["reason"] for r in results)
    return {"checked": True, "reference": "paddle (oneDNN off)", "results": results, "summary": summary}


__all__ = ["check_backends", "check_conversion", "check_export", "check_fp16_copy", "export_checked", "parity_shapes", "prepare_model"]
