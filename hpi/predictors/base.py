"""The predictor base: one model task as pre-process → runner → post-process."""

from __future__ import annotations

from typing import Any, ClassVar, Iterator, Sequence

import numpy as np

from ..backends.base import Runner
from ..errors import InputError, ModelError
from ..models.registry import ModelSpec
from ..timing import NULL_TIMES, StageTimes


def check_page(image: Any, task: str, min_side: int = 1) -> None:
    """Refuse, naming ``task``, anything but an H×W×3 uint8 BGR image with sides of ``min_side`` px or more."""
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise InputError(f"{task} expects an H×W×3 uint8 BGR image, got shape {getattr(image, 'shape', None)} "
                         f"{getattr(image, 'dtype', type(image).__name__)}.")
    height, width = image.shape[:2]
    if min(height, width) < min_side:
        needed = "a non-empty image" if min_side == 1 else f"a page of at least {min_side}×{min_side} pixels"
        raise InputError(f"{task} needs {needed}, got {height}×{width}.")


def model_yml(spec: ModelSpec, artifacts: Any, what: str, needs: str) -> tuple[Any, dict]:
    """(path, content) of a model directory's PaddleX ``inference.yml``; without one, an error saying that
    ``what`` (a detector, ...) needs it for ``needs`` (its pre-processing, ...)."""
    from ..models import inference_yml

    yml = artifacts.extra_files.get("yml") if artifacts is not None else None
    if yml is None:
        raise ModelError(f"{spec.name}: {what} needs its PaddleX inference.yml ({needs}); give the model directory, "
                         "not a bare .onnx file.")
    return yml, inference_yml.read_yaml(yml)


def same_shape_runs(arrays: Sequence[np.ndarray], batch_size: int) -> Iterator[tuple[int, int]]:
    """``(start, end)`` of each model call over ``arrays``: consecutive arrays of one shape, ``batch_size`` at most
    (a model of any input size gets images of different sizes in separate calls)."""
    start = 0
    while start < len(arrays):
        end = start + 1
        while end < len(arrays) and end - start < batch_size and arrays[end].shape == arrays[start].shape:
            end += 1
        yield start, end
        start = end


class Predictor:
    """Runs one model for its task. Subclasses set ``stage`` (the prefix of their timings: ``det``,
    ``rec``, ...) and implement ``predict``; :meth:`run` times the model call as ``<stage>.model``.

    ``max_input_shape`` is the runner's largest input shape when it has one
    (TensorRT profiles), else None: predictors keep their inputs inside it.
    """

    stage: ClassVar[str] = "model"

    def __init__(self, runner: Runner, spec: ModelSpec) -> None:
        self.runner = runner
        self.spec = spec
        self.input_name = getattr(runner, "image_input_name", None) or runner.input_names[0]
        limits = getattr(runner, "max_input_shape", None)
        shape = limits(self.input_name) if callable(limits) else None
        self.max_input_shape: tuple[int, ...] | None = tuple(int(d) for d in shape) if shape else None

    @classmethod
    def from_module(cls, runner: Runner, spec: ModelSpec, module: Any, artifacts: Any = None) -> "Predictor":
        """The predictor for a pipeline's module config (subclasses read their settings from it)."""
        return cls(runner, spec)

    def module_outputs(self, image: np.ndarray, module: Any, times: StageTimes = NULL_TIMES) -> dict[str, Any]:
        """PaddleX's module result fields for one image (``create_model``): ``module`` is the task's module
        config with the call's parameters written in. Each task's predictor implements it."""
        raise NotImplementedError(f"{type(self).__name__} has no single-model (create_model) form")

    def module_defaults(self) -> dict[str, Any]:
        """The module settings the model's own inference.yml gives (PaddleX's module predictors take those
        over the pipeline config's), for the ones the caller did not set."""
        return {}

    def run(self, tensor: np.ndarray, times: StageTimes = NULL_TIMES) -> np.ndarray:
        """The model's first output for ``tensor``."""
        with times.stage(f"{self.stage}.model"):
            return self.runner.infer_one(tensor)
