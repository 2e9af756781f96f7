"""The runner interface every backend implements.

A runner is a context manager (``activate``/``deactivate``) whose ``infer``
takes and returns name-keyed dicts of numpy arrays, in the style of
Polygraphy's runners: the public methods check state, ``_*_impl`` methods do
the work.
"""

from __future__ import annotations

import abc
import os
import threading
from typing import Any, ClassVar, Mapping

import numpy as np

from ..env import env_number
from ..errors import BackendError
from ..models.artifacts import ModelArtifacts
from .options import Option, check_options

THREADS_ENV = "HPI_NUM_THREADS"


def default_threads() -> int:
    threads = env_number(THREADS_ENV, None, int, "a whole number of threads ≥ 1")
    if threads is not None:
        return threads
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


class Runner(abc.ABC):
    """Runs one model on one backend.

    Subclasses set ``backend_name`` and implement ``_activate_impl``,
    ``_infer_impl``, ``_deactivate_impl``. ``thread_safe = False`` makes
    ``infer`` serialise calls with a lock. ``options`` are checked against
    the backend's declaration in :data:`hpi.backends.BACKENDS` (a subclass
    accepts its base runner's options too); :meth:`option` reads one, or its
    declared default.
    """

    backend_name: ClassVar[str] = "?"
    thread_safe: ClassVar[bool] = True

    def __init__(
        self,
        model: ModelArtifacts,
        *,
        device: str = "cpu",
        threads: int | None = None,
        precision: str = "fp32",
        options: Mapping | None = None,
    ) -> None:
        self.model = model
        self.device = device
        self.threads = threads or default_threads()
        self.precision = precision
        self.options = check_options(self.backend_name, self.declared_options(), options)
        self.is_active = False
        self.input_names: list[str] = []
        self.output_names: list[str] = []
        self._lock = threading.Lock()

    @classmethod
    def declared_options(cls) -> dict[str, Option]:
        """The options this runner takes: its backend's, and those of the backends it derives from."""
        from . import BACKENDS  # the table imports this module

        declared: dict[str, Option] = {}
        for klass in reversed(cls.__mro__):
            info = BACKENDS.get(getattr(klass, "backend_name", ""))
            if info is not None:
                declared.update(info.options)
        return declared

    def option(self, name: str) -> Any:
        """The value of option ``name``: as given, else its declared default."""
        value = self.options.get(name)
        if value is not None:
            return value
        declared = self.declared_options()
        if name not in declared:
            raise BackendError(f"{self.backend_name} runner reads option {name!r}, which its backend does not declare.")
        return declared[name].default

    # -- lifecycle -------------------------------------------------------
    def activate(self) -> "Runner":
        if not self.is_active:
            self._activate_impl()
            self.is_active = True
        return self

    def deactivate(self) -> None:
        if self.is_active:
            self._deactivate_impl()
            self.is_active = False

    def __enter__(self) -> "Runner":
        return self.activate()

    def __exit__(self, *exc) -> None:
        self.deactivate()

    # -- inference -------------------------------------------------------
    def infer(self, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run the model. ``feed`` maps input names to arrays; returns outputs by name, in model order."""
        if not self.is_active:
            raise BackendError(
                f"{self.backend_name} runner for {self.model.name} is not active; "
                "use it as a context manager or call activate() first."
            )
        missing = [name for name in self.input_names if name not in feed]
        if missing:
            raise BackendError(
                f"{self.model.name} needs inputs {self.input_names}; missing {missing} "
                f"(given {sorted(feed)})."
            )
        feed = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in feed.items()}
        if self.thread_safe:
            return self._infer_impl(feed)
        with self._lock:
            return self._infer_impl(feed)

    @property
    def image_input_name(self) -> str:
        """The input that takes the image batch: ``image`` in PaddleX's detectors (whose first input may be
        ``im_shape``), a time-series model's first input in PaddleX's (sorted) order, else the first."""
        if "image" in self.input_names:
            return "image"
        rules = getattr(getattr(self.model, "spec", None), "inputs", ())
        if len(rules) > 1 and {rule.name for rule in rules} == set(self.input_names):
            return rules[0].name
        return self.input_names[0]

    def probe_feed(self, array: np.ndarray) -> dict[str, np.ndarray]:
        """The feed for an image batch ``array`` (N×C×H×W) as the model's first input; PaddleX's exported
        detectors also take, per image, its resized size ``im_shape`` ([H, W]) and ``scale_factor`` (1, 1:
        boxes stay in input pixels). Checks and timing feed models this way."""
        image = self.image_input_name
        feed = {image: array}
        batch, height, width = array.shape[0], array.shape[-2], array.shape[-1]
        for name in self.input_names:
            if name == image:
                continue
            if name == "im_shape":
                feed[name] = np.tile(np.array([[height, width]], np.float32), (batch, 1))
            elif name == "scale_factor":
                feed[name] = np.ones((batch, 2), np.float32)
            elif (rule := self._input_rule(name)) is not None:
                # A time-series model's other inputs (known covariates, a padding mask): seeded values of the
                # shape its inference.yml declares; a mask is all ones (a full-length series).
                shape = (batch, *rule.typical_shapes[0][1:])
                feed[name] = (np.ones(shape, np.float32) if "mask" in name else
                              np.random.default_rng(len(name)).standard_normal(shape).astype(np.float32))
            else:
                raise BackendError(f"{self.model.name} has an input {name!r} besides the image {image!r}; "
                                   "hpi knows PaddleX's detection inputs im_shape and scale_factor, and the "
                                   "inputs a time-series model's inference.yml declares.")
        return feed

    def _input_rule(self, name: str):
        """The model's input rule named ``name`` (from its facts), if it has one."""
        spec = getattr(self.model, "spec", None)
        return next((rule for rule in getattr(spec, "inputs", ()) if rule.name == name), None)

    def infer_one(self, array: np.ndarray) -> np.ndarray:
        """Convenience for models of one image input (and PaddleX's detection companions): the first output."""
        out = self.infer(self.probe_feed(array))
        return next(iter(out.values()))

    def warmup(self, shapes: list[tuple[int, ...]], runs: int = 1) -> None:
        rng = np.random.default_rng(0)
        for shape in shapes:
            data = rng.standard_normal(shape).astype(np.float32)
            for _ in range(runs):
                self.infer_one(data)

    @abc.abstractmethod
    def _activate_impl(self) -> None: ...

    @abc.abstractmethod
    def _infer_impl(self, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]: ...

    def _deactivate_impl(self) -> None:
        pass

    def describe(self) -> str:
        return f"{self.backend_name} ({self.precision}, {self.threads} threads)"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.model.name} on {self.device}, active={self.is_active}>"
