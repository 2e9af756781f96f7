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

import functools
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

from ..config import submodule
from ..errors import ConfigError, did_you_mean
from ..inputs import InputItem
from ..models import catalog, inference_yml
from ..models.registry import MODELS
from ..models.tasks import task_for_model
from ..timeseries.series import TASKS as SERIES_TASKS
from ..timing import StageTimes
from .base import ModelSlot, Pipeline, PipelineConfig
from .module_tasks import MODULE_TASKS, ModuleTask
from .params import Param


class ModulePipeline(Pipeline):
    """One model of a module task, made from its :class:`~.module_tasks.ModuleTask` row by :meth:`for_task`.

    ``predict(input, batch_size=1, **params)`` as PaddleX's module predictors: the batch size is accepted
    (one image per model call here; results do not depend on it), ``params`` are the module's parameters.
    A setting ``create_model`` was not given takes the model's own value (its inference.yml), then PaddleX's
    module default, as PaddleX's module predictors do, and each call's settings are checked by the module
    config's own rules before any image.
    """

    row: ClassVar[ModuleTask]
    # The settings create_model was given (they win over the model's own defaults).
    explicit: frozenset[str] = frozenset()

    @classmethod
    @functools.cache
    def for_task(cls, task: str) -> type[ModulePipeline]:
        row = MODULE_TASKS[task]
        name = f"model:{row.info.paddlex_module}"
        config = dataclass(frozen=True)(type(f"{row.config.__name__}Model", (PipelineConfig,), {
            "__annotations__": {"pipeline_name": str, "module": row.config},
            "pipeline_name": name, "module": submodule(row.key, row.config),
            "__module__": __name__, "__doc__": f"{row.config.__name__} alone (create_model).",
        }))
        bases: tuple[type, ...] = (cls,)
        if task in SERIES_TASKS:  # series in, not images: the time-series pipelines' reading and batching
            from .time_series.pipeline import SeriesPipeline

            bases = (SeriesPipeline, cls)
        return type(f"{row.config.__name__.removesuffix('Config')}Model", bases, {
            "__module__": __name__, "row": row, "name": name, "config_class": config,
            "params": tuple(Param(p, ("SubModules", row.key, p), call=True) for p in row.params),
            "models": {"module": ModelSlot("module", row.predictor)}, "result_class": row.result,
        })

    def predict(self, input: Any, batch_size: int = 1, on_error: str | None = None, **params):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ConfigError(f"batch_size is {batch_size!r}; it must be a whole number ≥ 1.")
        return super().predict(input, on_error=on_error, **params)

    def prepare_call(self, params: dict[str, Any], given: set[str]) -> Any:
        own = {**self.row.call_defaults, **self.predictor("module").module_defaults()}
        settings = {**params, **{k: v for k, v in own.items() if k in params and k not in given | self.explicit}}
        module = replace(self.config.module, **settings)
        module.check("", nested=True)
        return module

    def predict_item(self, item: InputItem, module: Any):
        times = StageTimes()
        outputs = self.predictor("module").module_outputs(item.image, module, times)
        return self.row.result(**outputs, input_path=item.input_path, page_index=item.page_index,
                               input_img=item.image, stem=item.stem, timings_ms=times.as_ms())


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
    if row is not None and row.name in MODULE_TASKS:
        return row.name, model_name
    known = sorted(n for n, s in MODELS.items() if s.task in MODULE_TASKS and s.status == "used")
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
    cls = ModulePipeline.for_task(task)
    batch_size = kwargs.pop("batch_size", None)  # PaddleX's create_model takes it; one image per model call here
    module = {"model_name": name, "model_dir": str(model_dir) if model_dir is not None else None}
    if task in SERIES_TASKS and batch_size is not None:  # series per model call
        module["batch_size"] = batch_size
    data = cls.apply_overrides({"pipeline_name": cls.name, "SubModules": {cls.row.key: module}}, kwargs)
    model = cls(cls.config_class.from_dict(data, f"create_model({name!r})"), device=device)
    model.explicit = frozenset(k for k, v in kwargs.items() if v is not None)
    return model


__all__ = ["ModulePipeline", "create_model", "task_of"]
