"""PaddleX's single-model API, ``create_model``: one module's model on hpi's engine.

``create_model("PP-OCRv6_small_det")`` (or ``model_dir=`` a PaddleX model
directory / ``.onnx`` file) returns a one-slot pipeline of the model's task:
the same backend selection, input handling (images, PDFs, directories,
arrays; one bad file reported, the rest go on) and result methods as the
pipelines, with PaddleX's module parameter names (``limit_side_len``,
``thresh``, ``threshold``, ...) at creation and per ``predict`` call, and
PaddleX's module result keys (:mod:`hpi.results.modules`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from ..config import submodule
from ..errors import ConfigError, did_you_mean
from ..inputs import InputItem
from ..models import catalog, inference_yml
from ..models.registry import MODELS
from ..models.tasks import task_for_model
from ..predictors.doc_orientation import DocOrientationClassifier
from ..predictors.doc_unwarping import DocUnwarper
from ..predictors.table_structure import TableStructureRecognizer
from ..predictors.text_detection import DetParams, TextDetector
from ..predictors.text_recognition import TextRecognizer
from ..predictors.textline_orientation import TextlineClassifier
from ..results.modules import DocTrResult, TableStructureResult, TextDetResult, TextRecResult, TopkResult
from ..timing import StageTimes
from .base import ModelSlot, Pipeline, PipelineConfig
from .layout_detection import LayoutDetectionPipeline
from .modules import (
    DocOrientationClassifyConfig, DocUnwarpingConfig, SealTextDetectionConfig, TableStructureRecognitionConfig,
    TextDetectionConfig, TextLineOrientationConfig, TextRecognitionConfig,
)
from .params import Param


def _module_params(key: str, names: tuple[str, ...]) -> tuple[Param, ...]:
    """PaddleX's module parameters (``create_model(**kw)`` and ``predict(**kw)``) at ``SubModules.<key>``."""
    return tuple(Param(name, ("SubModules", key, name), call=True) for name in names)


def _module_config(pipeline_name: str, key: str, module_class: type) -> type[PipelineConfig]:
    """The config of a one-model pipeline: ``pipeline_name`` and the module at ``SubModules.<key>``."""
    namespace = {"__annotations__": {"pipeline_name": str, "module": module_class},
                 "pipeline_name": pipeline_name, "module": submodule(key, module_class),
                 "__module__": __name__, "__doc__": f"{module_class.__name__} alone (create_model)."}
    return dataclass(frozen=True)(type(f"{module_class.__name__}Model", (PipelineConfig,), namespace))


class _ModuleCalls:
    """PaddleX's module ``predict(input, batch_size=1, **params)``: the batch size is accepted (hpi runs one
    image per model call in these, and the results do not depend on it)."""

    def predict(self, input: Any, batch_size: int = 1, on_error: str | None = None, **params):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ConfigError(f"batch_size is {batch_size!r}; it must be a whole number ≥ 1.")
        return super().predict(input, on_error=on_error, **params)


class SingleModelPipeline(_ModuleCalls, Pipeline):
    """One model of a module task; ``module`` is the config attribute and slot name of its model.

    A subclass names its ``module_class`` (a :class:`~hpi.pipelines.modules.ModuleConfig`) and the
    ``module_key`` it has under ``SubModules``; its ``config_class`` is made from them.
    """

    module_key: ClassVar[str] = ""
    module_class: ClassVar[type] = type(None)
    # The settings create_model was given; the others take the model's own defaults (model_defaults), as
    # PaddleX's module predictors take theirs from the model's inference.yml.
    explicit: frozenset[str] = frozenset()

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls.config_class = _module_config(cls.name, cls.module_key, cls.module_class)

    def model_defaults(self) -> dict[str, Any]:
        return {}

    def prepare_call(self, params: dict[str, Any], given: set[str]) -> dict[str, Any]:
        own = {k: v for k, v in self.model_defaults().items() if k not in given and k not in self.explicit}
        return {**params, **own}

    def common(self, item: InputItem, times: StageTimes) -> dict[str, Any]:
        return {"input_path": item.input_path, "page_index": item.page_index, "input_img": item.image,
                "stem": item.stem, "timings_ms": times.as_ms()}


# -- text and seal text detection ------------------------------------------------------------------------
_DET_NAMES = ("limit_side_len", "limit_type", "max_side_limit", "thresh", "box_thresh", "unclip_ratio")


class TextDetectionModel(SingleModelPipeline):
    """PaddleX's ``text_detection`` module: ``dt_polys`` (quads) and ``dt_scores`` per image."""

    name = "model:text_detection"
    module_key = "TextDetection"
    module_class = TextDetectionConfig
    params = _module_params("TextDetection", _DET_NAMES)
    models = {"module": ModelSlot("module", TextDetector)}
    # PaddleX's text_detection module resizes the long side to 960 for the PP-OCR det models (the OCR
    # pipeline's config says 64 / min instead).
    RESIZE: ClassVar[dict[str, Any]] = {"limit_side_len": 960, "limit_type": "max"}

    def model_defaults(self) -> dict[str, Any]:
        post = self.predictor("module").spec.postprocess
        return {**self.RESIZE, **{k: post[k] for k in ("thresh", "box_thresh", "unclip_ratio") if k in post}}

    def predict_item(self, item: InputItem, call: dict[str, Any]) -> TextDetResult:
        times = StageTimes()
        module = self.config.module
        params = DetParams(call["limit_side_len"], call["limit_type"], call["max_side_limit"], call["thresh"],
                           call["box_thresh"], call["unclip_ratio"], module.box_type, module.score_mode)
        polys, scores = self.predictor("module").predict(item.image, params, times)
        return TextDetResult(dt_polys=[p for p in polys], dt_scores=[float(s) for s in scores],
                             **self.common(item, times))


class SealTextDetectionModel(TextDetectionModel):
    """PaddleX's ``seal_text_detection`` module: curved polygons around the text of stamps."""

    name = "model:seal_text_detection"
    module_key = "SealTextDetection"
    module_class = SealTextDetectionConfig
    params = _module_params("SealTextDetection", _DET_NAMES)
    RESIZE: ClassVar[dict[str, Any]] = {}  # PaddleX's 736 / min, the config's defaults


# -- text recognition ------------------------------------------------------------------------------------
class TextRecognitionModel(SingleModelPipeline):
    """PaddleX's ``text_recognition`` module: each input is one text line image → ``rec_text``, ``rec_score``."""

    name = "model:text_recognition"
    module_key = "TextRecognition"
    module_class = TextRecognitionConfig
    models = {"module": ModelSlot("module", TextRecognizer)}

    def predict_item(self, item: InputItem, call: dict[str, Any]) -> TextRecResult:
        times = StageTimes()
        [(text, score)] = self.predictor("module").predict([item.image], times)
        return TextRecResult(rec_text=text, rec_score=float(score), **self.common(item, times))


# -- classification: text line and document orientation --------------------------------------------------
class TextlineOrientationModel(SingleModelPipeline):
    """PaddleX's ``textline_orientation`` module: ``0_degree`` or ``180_degree`` per line image (the model's
    top class and score; the OCR pipeline's extra confidence rule for flipping is not applied here)."""

    name = "model:textline_orientation"
    module_key = "TextLineOrientation"
    module_class = TextLineOrientationConfig
    models = {"module": ModelSlot("module", TextlineClassifier)}
    LABELS = ("0_degree", "180_degree")

    def predict_item(self, item: InputItem, call: dict[str, Any]) -> TopkResult:
        times = StageTimes()
        [label], [score] = self.predictor("module").predict([item.image], times, apply_thresh=False)
        return TopkResult(class_ids=[label], scores=[score], label_names=[self.LABELS[label]],
                          **self.common(item, times))


class DocOrientationModel(SingleModelPipeline):
    """PaddleX's ``doc_text_orientation`` module: ``0``, ``90``, ``180`` or ``270`` per page."""

    name = "model:doc_text_orientation"
    module_key = "DocOrientationClassify"
    module_class = DocOrientationClassifyConfig
    models = {"module": ModelSlot("module", DocOrientationClassifier)}

    def predict_item(self, item: InputItem, call: dict[str, Any]) -> TopkResult:
        times = StageTimes()
        classifier = self.predictor("module")
        angle, score = classifier.predict(item.image, times)
        return TopkResult(class_ids=[classifier.angles.index(angle)], scores=[score], label_names=[str(angle)],
                          **self.common(item, times))


# -- table structure, unwarping ---------------------------------------------------------------------------
class TableStructureModel(SingleModelPipeline):
    """PaddleX's ``table_structure_recognition`` module: a table image → HTML tokens and cell boxes."""

    name = "model:table_structure_recognition"
    module_key = "TableStructureRecognition"
    module_class = TableStructureRecognitionConfig
    models = {"module": ModelSlot("module", TableStructureRecognizer)}

    def predict_item(self, item: InputItem, call: dict[str, Any]) -> TableStructureResult:
        times = StageTimes()
        structure = self.predictor("module").predict(item.image, times)
        return TableStructureResult(bbox=[list(map(float, box)) for box in structure.bbox],
                                    structure=list(structure.structure),
                                    structure_score=float(structure.structure_score), **self.common(item, times))


class UnwarpingModel(SingleModelPipeline):
    """PaddleX's ``image_unwarping`` module: a photographed page → ``doctr_img``, the page flattened."""

    name = "model:image_unwarping"
    module_key = "DocUnwarping"
    module_class = DocUnwarpingConfig
    models = {"module": ModelSlot("module", DocUnwarper)}

    def predict_item(self, item: InputItem, call: dict[str, Any]) -> DocTrResult:
        times = StageTimes()
        flat = self.predictor("module").predict(item.image, times)
        return DocTrResult(doctr_img=flat, **self.common(item, times))


# -- layout detection --------------------------------------------------------------------------------------
# PaddleX's layout module parameter names → the layout_detection pipeline's.
_LAYOUT_NAMES = {"threshold": "layout_threshold", "layout_nms": "layout_nms",
                 "layout_unclip_ratio": "layout_unclip_ratio", "layout_merge_bboxes_mode": "layout_merge_bboxes_mode"}


class LayoutDetectionModel(_ModuleCalls, LayoutDetectionPipeline):
    """PaddleX's ``layout_detection`` module: the layout_detection pipeline with the module's parameter names
    (``threshold`` rather than ``layout_threshold``); results are PaddleX's ``DetResult``."""

    module_key = "LayoutDetection"
    params = _module_params("LayoutDetection", tuple(_LAYOUT_NAMES))

    def prepare_call(self, params: dict[str, Any], given: set[str]) -> dict[str, Any]:
        return super().prepare_call({_LAYOUT_NAMES[k]: v for k, v in params.items()}, given)


# -- create_model ------------------------------------------------------------------------------------------
# Registry task → (the module pipeline, the task's PaddleX module name).
TASK_MODELS: dict[str, type[Pipeline]] = {
    "text_detection": TextDetectionModel,
    "seal_text_detection": SealTextDetectionModel,
    "text_recognition": TextRecognitionModel,
    "textline_orientation": TextlineOrientationModel,
    "doc_orientation": DocOrientationModel,
    "table_structure_recognition": TableStructureModel,
    "image_unwarping": UnwarpingModel,
    "layout_detection": LayoutDetectionModel,
}
def task_of(model_name: str | None, model_dir: str | Path | None) -> tuple[str, str | None]:
    """(registry task, model name) of a model given by name and/or directory (its inference.yml names it).

    The task comes from the model's name: hpi's registry, else PaddleX's model list
    (:func:`hpi.models.tasks.task_for_model`)."""
    if model_name is None and model_dir is not None:
        yml = Path(model_dir) / "inference.yml"
        model_name = inference_yml.model_name(yml) if yml.is_file() else None
        if model_name is None:
            raise ConfigError(f"model_dir {model_dir} has no inference.yml naming its model; pass model_name too "
                              "(e.g. create_model('PP-OCRv6_small_det', model_dir=...)).")
    if model_name is None:
        raise ConfigError("create_model needs a model_name (e.g. 'PP-OCRv6_small_det') or a model_dir.")
    row = task_for_model(model_name)
    if row is not None and row.name in TASK_MODELS:
        return row.name, model_name
    known = sorted(n for n, s in MODELS.items() if s.task in TASK_MODELS and s.status == "used")
    module = catalog.paddlex_module(model_name)
    what = (f"PaddleX's {module} model {model_name!r}: hpi does not run that module yet" if module else
            f"no task known for model {model_name!r}{did_you_mean(model_name, catalog.paddlex_models())}")
    raise ConfigError(f"create_model: {what}. hpi runs the modules of these models: {', '.join(known)}; a "
                      "PaddleX model directory of one of their tasks works with model_dir.")


def create_model(model_name: str | None = None, model_dir: str | Path | None = None, device: str | None = None,
                 **kwargs: Any) -> Pipeline:
    """PaddleX's ``create_model``: the model ``model_name`` (hpi's registry) or your PaddleX ``model_dir``.

    ``kwargs``: the module's settings with PaddleX's names (text detection: ``limit_side_len``,
    ``limit_type``, ``max_side_limit``, ``thresh``, ``box_thresh``, ``unclip_ratio``; layout:
    ``threshold``, ``layout_nms``, ``layout_unclip_ratio``, ``layout_merge_bboxes_mode``; the same names
    per ``predict`` call) and hpi's ``backend``, ``precision``, ``threads``, ``measure``.
    ``predict(input, batch_size=...)`` yields one result per image, with PaddleX's module keys.
    """
    task, name = task_of(model_name, model_dir)
    cls = TASK_MODELS[task]
    kwargs.pop("batch_size", None)  # PaddleX's create_model takes it; hpi runs one image per model call here
    module = {"model_name": name, "model_dir": str(model_dir) if model_dir is not None else None}
    data = cls.apply_overrides({"pipeline_name": cls.config_class().pipeline_name,
                                "SubModules": {cls.module_key: module}}, kwargs)
    model = cls(cls.config_class.from_dict(data, f"create_model({name!r})"), device=device)
    model.explicit = frozenset(k for k, v in kwargs.items() if v is not None)
    return model


__all__ = ["TASK_MODELS", "create_model", "task_of"]
