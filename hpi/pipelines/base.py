"""The Pipeline base: what every pipeline repeats, written once.

A pipeline subclass declares its PaddleX name, config class, parameters
(:mod:`hpi.pipelines.params`) and model slots, and implements
:meth:`Pipeline.predict_item` for one decoded image. The base owns input
iteration (:mod:`hpi.inputs`), per-input error isolation (:class:`ErrorResult`,
``on_error``), per-call parameter checking, lazy predictor loading per slot
(a model hpi ships, any PaddleX model name, a PaddleX model dir or ``.onnx`` file → backend runner →
predictor), sub-pipelines, ``describe()``, ``close()`` and the context manager.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from dataclasses import dataclass, fields
from typing import Any, Callable, ClassVar, Iterator, Mapping

from ..backends.export_check import prepare_model
from ..backends.select import choose_runner
from ..config import ConfigBase, HPIConfig, get_path, section
from ..device import Device, parse_device
from ..errors import ConfigError, HPIError, ModelError, ModelUnavailableError
from ..inputs import InputItem, expand_inputs, iter_items
from ..models import catalog, inference_yml
from ..models.registry import MODELS, ModelSpec, directory_spec
from ..models.store import official_model_dir
from ..models.tasks import TaskInfo, get_task, task_for_model
from ..results import ErrorResult
from .modules import ModuleConfig
from .params import Param, apply_overrides, given_call_params, resolve_call

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PipelineConfig(ConfigBase):
    """What every pipeline config has: PaddleX's ``pipeline_name`` and hpi's ``hpi_config``."""

    IGNORED_KEYS: ClassVar[tuple[str, ...]] = ("use_hpip",)

    pipeline_name: str = ""  # subclasses default it to their PaddleX name
    hpi_config: HPIConfig = section(HPIConfig)

    def check(self, where: str, nested: bool) -> None:
        expected = next(f.default for f in fields(self) if f.name == "pipeline_name")
        if self.pipeline_name != expected:
            label = f"{where}.pipeline_name" if where else "pipeline_name"
            raise ConfigError(f"{label} is {self.pipeline_name!r}; it must be {expected!r}.")


@dataclass(frozen=True)
class ModelSlot:
    """A model a pipeline may load: where its module config is, and the predictor that runs it."""

    config: str  # attribute of the pipeline config holding the ModuleConfig
    predictor: type  # has ``from_module(runner, spec, module_config, artifacts)``


# (slot path, runner) → the runner to use instead: see Pipeline.wrap_runners.
RunnerWrapper = Callable[[tuple[str, ...], Any], Any]


class Pipeline:
    """Base of every pipeline. Create pipelines with :func:`hpi.create_pipeline`.

    A pipeline object may be used from several threads at once: per-call
    parameters are arguments, never stored state; predictors load once under
    a lock; the runners are thread-safe (README, "Threads").
    """

    name: ClassVar[str] = ""
    config_class: ClassVar[type[PipelineConfig]] = PipelineConfig
    params: ClassVar[tuple[Param, ...]] = ()
    models: ClassVar[Mapping[str, ModelSlot]] = {}
    # Sub-pipeline attribute → (pipeline class, attribute of its config in this pipeline's config).
    subpipelines: ClassVar[Mapping[str, tuple[type, str]]] = {}

    def __init__(self, config: PipelineConfig, device: str | Device | None = None,
                 parent: Pipeline | None = None) -> None:
        self.config = config
        self.device = device if isinstance(device, Device) else parse_device(device)
        self.parent = parent
        # A sub-pipeline runs with its parent's hpi settings, as in PaddleX.
        self.hpi_config = parent.hpi_config if parent is not None else config.hpi_config
        self._predictors: dict[str, Any] = {}
        self._lock = threading.RLock()
        self._children: dict[str, Pipeline] = {}
        self._wrap_runner: RunnerWrapper | None = None
        for attribute, (child_class, config_attribute) in self.subpipelines.items():
            child = child_class(getattr(config, config_attribute), self.device, parent=self)
            self._children[attribute] = child
            setattr(self, attribute, child)
        if parent is None:  # inside a parent, the parent decides what loads when
            for path in self.startup_slots(config):
                self.predictor_at(path)

    # -- creation -----------------------------------------------------------------------------------------
    @classmethod
    def apply_overrides(cls, data: dict, overrides: Mapping[str, Any]) -> dict:
        """``create_pipeline``'s keyword overrides written into the raw config mapping.

        PaddleOCR's constructor rule for pipelines that nest the doc preprocessor: giving
        ``use_doc_orientation_classify`` or ``use_doc_unwarping`` (and not ``use_doc_preprocessor``)
        runs the preprocessor when either of them is on.
        """
        data = apply_overrides(data, cls.params, overrides)
        given = {k for k, v in overrides.items() if v is not None}
        if ("doc_preprocessor" in cls.subpipelines and any(p.name == "use_doc_preprocessor" for p in cls.params)
                and "use_doc_preprocessor" not in given
                and given & {"use_doc_orientation_classify", "use_doc_unwarping"}):
            doc = (data.get("SubPipelines") or {}).get("DocPreprocessor") or {}
            data = {**data, "use_doc_preprocessor": bool(
                doc.get("use_doc_orientation_classify", True) or doc.get("use_doc_unwarping", False))}
        return data

    @classmethod
    def startup_slots(cls, config: PipelineConfig) -> list[tuple[str, ...]]:
        """Slot paths loaded at creation, the others load on first use: ``("text_detection",)``, or
        ``("doc_preprocessor", "doc_orientation")`` for a sub-pipeline's. Default: every own slot."""
        return [(slot,) for slot in cls.models]

    @classmethod
    def module_config_for(cls, config: PipelineConfig, path: tuple[str, ...]) -> ModuleConfig:
        """The module config of a slot path in ``config`` (no pipeline needed: ``hpi benchmark`` uses it)."""
        if len(path) > 1:
            child_class, attribute = cls.subpipelines[path[0]]
            return child_class.module_config_for(getattr(config, attribute), path[1:])
        return getattr(config, cls.models[path[0]].config)

    @classmethod
    def slot_paths(cls) -> list[tuple[str, ...]]:
        """Every slot path this pipeline may load, its sub-pipelines' included (``hpi build`` builds them all)."""
        paths = [(slot,) for slot in cls.models]
        for attribute, (child_class, _) in cls.subpipelines.items():
            paths += [(attribute, *path) for path in child_class.slot_paths()]
        return paths

    def predictor_at(self, path: tuple[str, ...]):
        """The predictor of a slot path (see :meth:`startup_slots`)."""
        return self._children[path[0]].predictor_at(path[1:]) if len(path) > 1 else self.predictor(path[0])

    # -- models -------------------------------------------------------------------------------------------
    def module_config(self, slot: str) -> ModuleConfig:
        return getattr(self.config, self.models[slot].config)

    def predictor(self, slot: str):
        """The predictor of ``slot``, loaded on first use (once, also when threads race for it)."""
        predictor = self._predictors.get(slot)
        if predictor is None:
            with self._lock:
                predictor = self._predictors.get(slot)
                if predictor is None:
                    predictor = self._load(slot)
                    self._predictors[slot] = predictor
        return predictor

    def wrap_runners(self, wrap: RunnerWrapper) -> None:
        """Put ``wrap(path, runner)`` around the runner of every slot, sub-pipelines' included: the
        ones loaded now and those that load later. ``path`` is the slot path (``("text_recognition",)``,
        ``("doc_preprocessor", "doc_orientation")``); ``wrap`` returns a runner-like object (same
        ``infer``/``infer_one``/``input_names``/``deactivate``). The server's cross-request batching
        (:mod:`hpi.serving.batching`) is installed this way, without changing any pipeline."""
        with self._lock:
            self._wrap_runner = wrap
            for slot, predictor in self._predictors.items():
                predictor.runner = wrap((slot,), predictor.runner)
            for attribute, child in self._children.items():
                child.wrap_runners(lambda path, runner, _a=attribute: wrap((_a, *path), runner))

    def loaded(self, slot: str):
        """The predictor of ``slot`` if it has been loaded, else None."""
        return self._predictors.get(slot)

    def _load(self, slot: str):
        module = self.module_config(slot)
        artifacts, spec = resolve_module_model(module)
        hpi = self.hpi_config
        runner = choose_runner(
            artifacts, device=self.device, backend=hpi.backend, threads=hpi.threads,
            precision=hpi.precision, measure=hpi.measure, backend_config=hpi.backend_config,
        )
        if self._wrap_runner is not None:
            runner = self._wrap_runner((slot,), runner)
        return self.models[slot].predictor.from_module(runner, spec, module, artifacts)

    # -- prediction ---------------------------------------------------------------------------------------
    def prepare_call(self, params: dict[str, Any], given: set[str]) -> Any:
        """The checked per-call parameters (``None`` → config value) in the form :meth:`predict_item` takes."""
        return params

    def predict_item(self, item: InputItem, call: Any):
        """The result of one decoded image (``item.image``, BGR uint8)."""
        raise NotImplementedError

    def predict(self, input: Any, on_error: str | None = None, **params) -> Iterator:
        """Run the pipeline on each image of ``input``; yields one result per image (per page for PDFs).

        ``input``: an image or PDF path, a directory, a numpy array (H×W×3 BGR
        uint8) or a list of those. A bad input raises :class:`InputError`
        when it is the only input; inside a batch it is yielded as an
        :class:`ErrorResult` and the rest go on (``on_error="raise"`` or
        ``"report"`` overrides this). ``params``: the pipeline's per-call
        parameters (PaddleX's names); ``None`` means the config's value.
        """
        return self._predict_items(input, on_error, self.call_for(params))

    def call_for(self, params: dict[str, Any]) -> Any:
        """The settings of one ``predict(**params)`` call: checked, the config's value for each one not given."""
        return self.prepare_call(resolve_call(self.config, self.params, params), given_call_params(self.params, params))

    def _predict_items(self, input: Any, on_error: str | None, call: Any) -> Iterator:
        if on_error not in (None, "raise", "report"):
            raise ConfigError(f"on_error is {on_error!r}; use 'raise' or 'report'.")
        return self._items(input, on_error, call)

    def batch_size(self) -> int:
        """Decoded images handed to one :meth:`predict_items` call; 1 (the default): one at a time."""
        return 1

    def predict_items(self, items: list[InputItem], call: Any) -> list:
        """The results of several decoded images at once (a pipeline whose model takes a batch per call
        overrides it); by default :meth:`predict_item` for each."""
        return [self.predict_item(item, call) for item in items]

    # ``input`` → (its entries: paths, URLs, arrays, InputErrors; whether it is a batch), as the CLI lists them.
    expand = staticmethod(expand_inputs)

    def read_inputs(self, input: Any) -> tuple[Iterator, bool]:
        """The items of ``input`` (decoded lazily; an unreadable one carries its error) and whether it is a
        batch: images and PDF pages (:func:`hpi.inputs.iter_items`); the time-series pipelines read series."""
        return iter_items(input)

    def _items(self, input: Any, on_error: str | None, call: Any) -> Iterator:
        items, is_batch = self.read_inputs(input)
        mode = on_error or ("report" if is_batch else "raise")
        size = self.batch_size()
        pending: list[InputItem] = []
        for item in items:
            pending.append(item)
            if size == 1 or sum(p.error is None for p in pending) >= size:
                yield from self._results(pending, call, mode)
                pending = []
        yield from self._results(pending, call, mode)

    def _results(self, pending: list[InputItem], call: Any, mode: str) -> Iterator:
        """The results of ``pending`` in order: the readable ones in one :meth:`predict_items` call when there
        are several (if that call fails, each alone, so the failure is the one image's)."""
        good = [item for item in pending if item.error is None]
        done: dict[int, Any] = {}
        if len(good) > 1:
            try:
                done = {id(item): result for item, result in zip(good, self.predict_items(good, call))}
            except Exception:  # noqa: BLE001 - redone one by one below, which names the image that fails
                done = {}
        for item in pending:
            if item.error is None:
                if id(item) in done:
                    yield done[id(item)]
                    continue
                try:
                    yield self.predict_item(item, call)
                    continue
                except HPIError as exc:  # unreadable input, a backend failing on this image, ...
                    item.error = exc
                except Exception as exc:  # a bug on one image must not end a long batch either
                    if mode == "raise":
                        raise
                    item.error = HPIError(
                        f"{item.input_path or item.stem}: processing failed ({type(exc).__name__}: {exc})"
                    )
            if mode == "raise":
                raise item.error
            log.warning("Skipped %s: %s", item.input_path or item.stem, item.error)
            yield ErrorResult(item.input_path, item.page_index, item.error, item.stem)

    def __call__(self, input: Any, on_error: str | None = None, **params) -> Iterator:
        return self.predict(input, on_error=on_error, **params)

    # -- life cycle ---------------------------------------------------------------------------------------
    def describe(self) -> dict[str, str]:
        """Slot → backend description of every loaded model; a sub-pipeline's slots under its name
        (``doc_preprocessor.doc_orientation``), so two sub-pipelines' ``text_detection`` stay apart."""
        out = {slot: predictor.runner.describe() for slot, predictor in self._predictors.items()}
        for attribute, child in self._children.items():
            out.update({f"{attribute}.{slot}": text for slot, text in child.describe().items()})
        return out

    describe_backends = describe

    def close(self) -> None:
        """Release every runner (sub-pipelines included). The pipeline cannot predict afterwards."""
        with self._lock:
            for predictor in self._predictors.values():
                predictor.runner.deactivate()
            for child in self._children.values():
                child.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def resolve_module_model(module: ModuleConfig):
    """(artifacts, spec) for a module's model: a model dir / .onnx file, a model hpi ships, or any PaddleX
    model by name (PaddleX's cache, hpi's cache, or fetched: :func:`hpi.models.store.official_model_dir`).

    Models hpi does not ship take their facts from their own ``inference.yml``, on top of the task's
    default registry model's (input shapes for selection and TensorRT).
    """
    task = module.TASK
    default_spec: ModelSpec | None = MODELS.get(type(module)().model_name)
    if default_spec is None:  # a task hpi ships no model for: the model's own inference.yml says the rest
        default_spec = directory_spec(module.model_name or task, task)
    if module.model_dir:
        yml = Path(module.model_dir).expanduser() / "inference.yml"
        named = inference_yml.model_name(yml) if yml.is_file() else None
        row = task_for_model(named) if isinstance(named, str) else None
        if row is not None and not runs_in(named, row, task):
            raise ConfigError(f"model_dir {module.model_dir} holds {named!r}, a {row.name} model (PaddleX's "
                              f"{row.paddlex_module}); this slot needs a {task} model.")
        artifacts = prepare_model(module.model_dir, default_spec=default_spec)
    elif module.model_name in MODELS:
        spec = MODELS[module.model_name]
        if spec.task != task:
            raise ConfigError(f"Model {module.model_name!r} is a {spec.task} model, not {task}.")
        artifacts = prepare_model(module.model_name)
    else:
        row = task_for_model(module.model_name)
        if row is not None and not runs_in(module.model_name, row, task):
            raise ConfigError(f"Model {module.model_name!r} is a {row.name} model (PaddleX's "
                              f"{row.paddlex_module}), not {task}; name a {task} model.")
        try:
            directory = official_model_dir(module.model_name)
        except ModelError as exc:
            shipped = [n for n, s in MODELS.items() if s.task == task and s.status == "used"]
            nearest = nearest_model(module.model_name, shipped)
            raise ModelUnavailableError(
                f"No weights for {task} model {module.model_name!r}. {exc}"
                + (f"\nOr use the nearest model hpi ships: model_name: {nearest}" if nearest else "")
                + f" (hpi ships: {', '.join(shipped) or 'none yet'})."
            ) from None
        artifacts = prepare_model(str(directory), default_spec=default_spec)
    return artifacts, artifacts.spec or default_spec


def runs_in(model_name: str, row: TaskInfo, task: str) -> bool:
    """Whether a model of task ``row`` runs in a slot of ``task``: the same task, or PaddleX's generic module
    whose model list holds it (a textline orientation model is an image classifier to PaddleX)."""
    if row.name == task:
        return True
    slot = get_task(task)
    return not slot.model_names and bool(slot.paddlex_model_list) and \
        catalog.paddlex_module(model_name) == slot.paddlex_model_list


def nearest_model(name: str, shipped: list[str]) -> str | None:
    """The shipped model closest to a PaddleX model without weights here: same generation first
    (PP-OCRv6_medium_det → PP-OCRv6_small_det), else the newest one (PP-OCRv3_det → PP-OCRv6_small_det)."""
    generation = name.split("_", 1)[0]
    same = [n for n in shipped if n.split("_", 1)[0] == generation]
    if same:
        return same[0]
    newest = sorted(shipped, key=lambda n: MODELS[n].generation, reverse=True)
    return newest[0] if newest else None


def or_default(value: Any, default: Any) -> Any:
    """``value`` unless it is None (0.0 and False are values)."""
    return default if value is None else value


__all__ = ["ModelSlot", "Pipeline", "PipelineConfig", "or_default", "get_path", "resolve_module_model"]
