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
| text_recognition            | max abs      | decoded lines  | recognition    | line   | width_buckets  |
| textline_orientation        | max abs      | argmax         | classification | line ↕ | batch          |
| doc_orientation             | max abs      | argmax         | classification | noise  | batch          |
| image_unwarping            | max abs      | argmax         | generic        | page   | by_shape       |
| layout_detection, table_structure_recognition, anything else | max abs | argmax | generic | noise | by_shape |
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

TASKS: dict[str, TaskInfo] = {
    row.name: row
    for row in (
        _DETECTION,
        replace(_DETECTION, name="seal_text_detection", description="DB detection of curved seal text"),
        TaskInfo(
            "text_recognition", agreement.parity_max_abs, agreement.low_precision_lines, agreement.guard_recognition,
            probe="line", profile_recipe="width_buckets", description="CTC text recognition of line crops",
        ),
        replace(_ORIENTATION, name="textline_orientation", probe="line", probe_upside_down=True,
                description="text line orientation classes (0/180)"),
        _ORIENTATION,
        replace(GENERIC, name="layout_detection", description="layout boxes (raw detection head outputs)"),
        replace(GENERIC, name="table_structure_recognition", description="table structure tokens and cell boxes"),
        replace(GENERIC, name="image_unwarping", probe="page",
                description="document unwarping (UVDoc: a coarse sampling grid over the page)"),
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


def task_of(spec) -> TaskInfo:
    """The row for a :class:`~hpi.models.registry.ModelSpec` (generic when ``spec`` is None)."""
    return get_task(getattr(spec, "task", None))


__all__ = ["GENERIC", "TASKS", "TaskInfo", "get_task", "task_of"]
