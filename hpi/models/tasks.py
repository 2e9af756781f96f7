"""One table of model tasks: what is true of each, declared in one row.

A row says how outputs of the task's models are judged (fp32 parity,
low-precision agreement, the TensorRT FP16 guard: rules from
:mod:`hpi.models.agreement`), what input probes them (:mod:`hpi.models.probe_inputs`)
and which TensorRT optimization-profile recipe fits their shapes (a name that
:mod:`hpi.backends.tensorrt.profiles` implements). Selection, the export
check and TensorRT look the row up instead of testing task names.

| task                        | parity       | low precision  | FP16 guard     | probe  | profiles       |
|-----------------------------|--------------|----------------|----------------|--------|----------------|
| text_detection              | bitmap       | bitmap         | detection      | page   | aspect_buckets |
| seal_text_detection         | bitmap       | bitmap         | detection      | page   | aspect_buckets |
| text_recognition            | lines (1)    | decoded lines  | recognition    | line   | width_buckets  |
| textline_orientation        | max abs      | argmax         | classification | line ↕ | batch          |
| doc_orientation             | max abs      | argmax         | classification | noise  | batch          |
| image_unwarping            | max abs      | argmax         | generic        | page   | by_shape       |
| layout_detection, table_structure_recognition, anything else | max abs | argmax | generic | noise | by_shape |

(1) max abs within the tolerance, or else every CTC-decoded line identical with line scores within 1e-3 (raw
values within 1e-2): fp32 float noise between runtimes does not reject a backend.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from ..errors import ConfigError, did_you_mean
from . import agreement
from .agreement import Comparison, GuardResult

ParityRule = Callable[..., Comparison]  # (spec, reference, candidate, max_abs, tolerance)
LowPrecisionRule = Callable[..., str]  # (spec, reference, candidate) -> "" or what differs
GuardRule = Callable[[np.ndarray, np.ndarray, "dict | None"], GuardResult]  # (reference, candidate, postprocess)

PROBES = ("page", "line", "noise")
PROFILE_RECIPES = ("aspect_buckets", "width_buckets", "batch", "single", "by_shape")


@dataclass(frozen=True)
class TaskInfo:
    """What is true of one model task.

    ``probe`` is the kind of input that exercises the model like the
    pipeline does: a rendered ``page``, rendered text ``line``s (every other
    one upside down when ``probe_upside_down``), or seeded ``noise``.
    ``profile_recipe`` names the TensorRT profile recipe for its (single,
    NCHW) input: ``aspect_buckets``, ``width_buckets``, ``batch``, ``single``
    (one profile spanning the rule) or ``by_shape``, which picks one from
    which dimensions are dynamic.
    """

    name: str
    parity: ParityRule
    low_precision: LowPrecisionRule
    fp16_guard: GuardRule
    probe: str = "noise"
    probe_upside_down: bool = False
    profile_recipe: str = "by_shape"
    description: str = ""
    # PaddleX's side: the module name its pipeline YAMLs give the task (``module_name``), the PaddleX module
    # whose model list (paddlex/modules/<module>/model_list.py, recorded in hpi.models.catalog) holds the
    # task's models, and which of that list's models are this task (empty: every one no other row names).
    paddlex_module: str = ""
    paddlex_model_list: str = ""
    model_names: tuple[str, ...] = ()
    # The pre-processing ops PaddleX's predictor for the task knows (a model directory's inference.yml
    # naming another is refused, as PaddleX refuses it); empty: not checked.
    preprocess_ops: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.probe not in PROBES:
            raise ConfigError(f"Task {self.name!r}: probe must be one of {PROBES}; got {self.probe!r}.")
        if self.profile_recipe not in PROFILE_RECIPES:
            raise ConfigError(
                f"Task {self.name!r}: profile_recipe must be one of {PROFILE_RECIPES}; got {self.profile_recipe!r}."
            )


GENERIC = TaskInfo(
    "generic", agreement.parity_max_abs, agreement.low_precision_argmax, agreement.guard_generic,
    description="any other model: raw values, per-row argmax, 1% of the output range, seeded noise",
)
_DETECTION = TaskInfo(
    "text_detection", agreement.parity_bitmap, agreement.low_precision_bitmap, agreement.guard_detection,
    probe="page", profile_recipe="aspect_buckets", description="DB text detection: a probability map per page",
)
_ORIENTATION = TaskInfo(
    "doc_orientation", agreement.parity_max_abs, agreement.low_precision_argmax, agreement.guard_classification,
    profile_recipe="batch", description="whole-page orientation classes (0/90/180/270)",
)

# PaddleX 3.7.2's layout models: its object_detection predictor serves them, with the layout rules.
_LAYOUT_MODELS = (
    "PicoDet_layout_CDLA", "PicoDet_layout_1x", "PicoDet_layout_1x_table", "PicoDet-S_layout_3cls",
    "PicoDet-S_layout_17cls", "PicoDet-L_layout_3cls", "PicoDet-L_layout_17cls", "RT-DETR-H_layout_3cls",
    "RT-DETR-H_layout_17cls", "PP-DocLayout-S", "PP-DocLayout-M", "PP-DocLayout-L", "PP-DocLayout_plus-L",
    "PP-DocBlockLayout",
)

# The ops PaddleX 3.7.2's predictors register (paddlex/inference/models/<task>/predictor.py, @register).
_DET_OPS = ("DecodeImage", "DetResizeForTest", "NormalizeImage", "ToCHWImage", "DetLabelEncode", "KeepKeys")
_CLS_OPS = ("ResizeImage", "CropImage", "NormalizeImage", "ToCHWImage")
_DETECTION = replace(_DETECTION, preprocess_ops=_DET_OPS)
# PaddleX's object_detection predictor: its registered ops (object_detection/predictor.py).
_OBJECT_OPS = ("Resize", "NormalizeImage", "Permute", "Pad", "PadStride", "WarpAffine")
# Detectors are probed with seeded noise, not a rendered page: on a white page every cell scores the same, and
# which of the tied boxes NMS keeps is each runtime's own choice (measured: Paddle Inference and ONNX Runtime kept
# different boxes of equal score on a 64×64 page), which says nothing about the export.
_SOD_MODELS = ("PP-YOLOE_plus_SOD-S", "PP-YOLOE_plus_SOD-L", "PP-YOLOE_plus_SOD-largesize-L")
_ORIENTATION = replace(_ORIENTATION, preprocess_ops=_CLS_OPS)

TASKS: dict[str, TaskInfo] = {
    row.name: row
    for row in (
        replace(_DETECTION, paddlex_module="text_detection", paddlex_model_list="text_detection"),
        # PaddleX's text_detection CURVE_MODELS.
        replace(_DETECTION, name="seal_text_detection", description="DB detection of curved seal text",
                paddlex_module="seal_text_detection", paddlex_model_list="text_detection",
                model_names=("PP-OCRv4_mobile_seal_det", "PP-OCRv4_server_seal_det")),
        TaskInfo(
            "text_recognition", agreement.parity_decoded_lines, agreement.low_precision_lines,
            agreement.guard_recognition,
            probe="line", profile_recipe="width_buckets", description="CTC text recognition of line crops",
            paddlex_module="text_recognition", paddlex_model_list="text_recognition",
            preprocess_ops=("DecodeImage", "RecResizeImg", "MultiLabelEncode", "KeepKeys"),
        ),
        replace(_ORIENTATION, name="textline_orientation", probe="line", probe_upside_down=True,
                description="text line orientation classes (0/180)", paddlex_module="textline_orientation",
                paddlex_model_list="image_classification",
                model_names=("PP-LCNet_x0_25_textline_ori", "PP-LCNet_x1_0_textline_ori",
                             "PP-OCRv2_mobile_textline_ori")),
        replace(_ORIENTATION, paddlex_module="doc_text_orientation", paddlex_model_list="image_classification",
                model_names=("PP-LCNet_x1_0_doc_ori",)),
        replace(GENERIC, name="layout_detection", parity=agreement.parity_detection_rows,
                description="layout boxes (raw detection head outputs, or PaddleX's [N, 6] rows)",
                paddlex_module="layout_detection", paddlex_model_list="object_detection", model_names=_LAYOUT_MODELS),
        replace(GENERIC, name="table_structure_recognition", description="table structure tokens and cell boxes",
                paddlex_module="table_structure_recognition", paddlex_model_list="table_recognition",
                model_names=("SLANet", "SLANet_plus"),
                preprocess_ops=("DecodeImage", "TableLabelEncode", "TableBoxEncode", "ResizeTableImage",
                                "NormalizeImage", "PaddingTableImage", "ToCHWImage", "KeepKeys")),
        replace(_ORIENTATION, name="image_classification", description="image classes (softmax probabilities)",
                paddlex_module="image_classification", paddlex_model_list="image_classification"),
        replace(_ORIENTATION, name="image_multilabel_classification",
                description="image classes, each scored on its own (sigmoid probabilities)",
                paddlex_module="image_multilabel_classification", paddlex_model_list="multilabel_classification",
                model_names=("PP-HGNetV2-B0_ML", "PP-HGNetV2-B4_ML", "PP-HGNetV2-B6_ML", "PP-LCNet_x1_0_ML",
                             "ResNet50_ML", "CLIP_vit_base_patch16_448_ML")),
        replace(GENERIC, name="object_detection", preprocess_ops=_OBJECT_OPS,
                parity=agreement.parity_detection_rows,
                description="labelled boxes: [N, 6] rows (class, score, x1, y1, x2, y2) after NMS in the graph",
                paddlex_module="object_detection", paddlex_model_list="object_detection"),
        replace(GENERIC, name="small_object_detection", preprocess_ops=_OBJECT_OPS,
                parity=agreement.parity_detection_rows,
                description="object detection with PaddleX's small-object models",
                paddlex_module="small_object_detection", paddlex_model_list="object_detection",
                model_names=_SOD_MODELS),
        replace(GENERIC, name="rotated_object_detection", preprocess_ops=_OBJECT_OPS,
                parity=agreement.parity_detection_rows,
                description="rotated boxes: [N, 10] rows (class, score, four corners) after polygon NMS in the graph",
                paddlex_module="rotated_object_detection", paddlex_model_list="object_detection",
                model_names=("PP-YOLOE-R-L",)),
        replace(GENERIC, name="instance_segmentation", preprocess_ops=_OBJECT_OPS,
                parity=agreement.parity_detection_rows,
                description="labelled boxes ([N, 6] rows, NMS in the graph) and [N, H, W] masks at the image's size",
                paddlex_module="instance_segmentation", paddlex_model_list="instance_segmentation"),
        replace(GENERIC, name="semantic_segmentation", parity=agreement.parity_label_map,
                preprocess_ops=("Resize", "Normalize"),
                description="a class id per pixel: an [N, H, W] label map (argmax in the graph) or logits",
                paddlex_module="semantic_segmentation", paddlex_model_list="semantic_segmentation"),
        replace(GENERIC, name="anomaly_detection", preprocess_ops=("Resize", "Normalize"),
                description="an anomaly score map per image (STFPM), thresholded into a defect mask",
                paddlex_module="anomaly_detection", paddlex_model_list="anomaly_detection"),
        replace(GENERIC, name="ts_forecast", description="the steps after a time series ([N, out_chunk_len, C])",
                paddlex_module="ts_forecast", paddlex_model_list="ts_forecast"),
        replace(GENERIC, name="ts_anomaly_detection",
                description="a time series reconstructed ([N, in_chunk_len, C]); steps far from it are anomalies",
                paddlex_module="ts_anomaly_detection", paddlex_model_list="ts_anomaly_detection"),
        replace(GENERIC, name="ts_classification", description="class logits per time series ([N, classes])",
                paddlex_module="ts_classification", paddlex_model_list="ts_classification"),
        replace(GENERIC, name="image_unwarping", probe="page",
                description="document unwarping (UVDoc: a coarse sampling grid over the page)",
                paddlex_module="image_unwarping", paddlex_model_list="image_unwarping"),
    )
}

# Closer than this to a known task name counts as a typo, not as a new task.
_TYPO_CUTOFF = 0.8


def get_task(name: str | None) -> TaskInfo:
    """The row of task ``name``; the generic row for None or a task without a row.

    A name that is almost a known one (``text_detecton``) is a typo, not a new
    task: it raises :class:`~hpi.errors.ConfigError` with a "did you mean"
    rather than silently getting the generic, looser checks.
    """
    if name is None:
        return GENERIC
    row = TASKS.get(name)
    if row is not None:
        return row
    if difflib.get_close_matches(name, TASKS, n=1, cutoff=_TYPO_CUTOFF):
        raise ConfigError(
            f"Unknown task {name!r}{did_you_mean(name, TASKS, cutoff=_TYPO_CUTOFF)}. Known tasks: "
            f"{', '.join(TASKS)}; a new task gets the generic checks, or a row in hpi.models.tasks.TASKS."
        )
    return GENERIC


def task_for_model(name: str) -> TaskInfo | None:
    """The task of a model named ``name``: hpi's registry, else PaddleX's model lists (the row that names
    the model, else the catch-all row of the PaddleX module listing it); None when no row has it."""
    from . import catalog
    from .registry import MODELS

    if name in MODELS:
        return get_task(MODELS[name].task)
    for row in TASKS.values():
        if name in row.model_names:
            return row
    listed_in = catalog.paddlex_module(name)
    if listed_in is None:
        return None
    return next((row for row in TASKS.values() if row.paddlex_model_list == listed_in and not row.model_names), None)


def task_of(spec) -> TaskInfo:
    """The row for a :class:`~hpi.models.registry.ModelSpec` (generic when ``spec`` is None)."""
    return get_task(getattr(spec, "task", None))


__all__ = ["GENERIC", "TASKS", "TaskInfo", "get_task", "task_for_model", "task_of"]
