"""TensorRT optimization profiles from a model's shape rules, and routing inputs to them.

Pure logic (no TensorRT import), so CI tests it on any machine.

A TensorRT engine built with several optimization profiles accepts any input
shape inside one of them without rebuilding; TensorRT picks kernels for each
profile's ``opt`` shape, so a few buckets around the shapes a pipeline really
feeds run faster than one wide profile:

* detection (H and W dynamic, batch 1): a ``square`` catch-all up to the
  rule's max, plus ``portrait`` and ``landscape`` buckets around the
  960-side limit PaddleX resizes pages to;
* recognition (H fixed, W dynamic): batch 1..N with width buckets
  (320, 960, then the rule's max, i.e. the longest line accepted);
* fixed-size inputs (textline orientation): one profile, batch 1..N.

Which recipe a model gets is its task's row (:mod:`hpi.models.tasks`,
``profile_recipe``); ``by_shape`` (unknown tasks) picks one from which of the
rule's dimensions are dynamic, as does a recipe that does not fit the rule.
:func:`route` sends each input to the profile that fits best; when none fits
the error lists the profiles, so the caller knows which limit to respect.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from ..._deps import import_onnx
from ...errors import BackendError
from ...models.tasks import get_task

Shape = tuple[int, ...]

DET_LIMIT = 960  # the side PaddleX resizes pages to
REC_WIDTHS = (320, 960)


def as_shape(dims) -> Shape:
    """A shape as a tuple of ints (TensorRT returns ``Dims`` objects)."""
    return tuple(int(d) for d in dims)


class ProfileError(BackendError):
    """An input shape fits none of an engine's optimization profiles, or a profile is invalid."""


@dataclass(frozen=True)
class ShapeRange:
    """min/opt/max of one input, as TensorRT's ``IOptimizationProfile.set_shape`` takes them."""

    min: Shape
    opt: Shape
    max: Shape

    def __post_init__(self) -> None:
        if not (len(self.min) == len(self.opt) == len(self.max)):
            raise ProfileError(f"min/opt/max have different ranks: {self.min}, {self.opt}, {self.max}.")
        for lo, mid, hi in zip(self.min, self.opt, self.max):
            if not (0 < lo <= mid <= hi):
                raise ProfileError(
                    f"Invalid shape range: need 0 < min <= opt <= max per dimension, got "
                    f"min {self.min}, opt {self.opt}, max {self.max}."
                )

    def contains(self, shape: Sequence[int]) -> bool:
        shape = tuple(int(d) for d in shape)
        return len(shape) == len(self.min) and all(
            lo <= d <= hi for lo, d, hi in zip(self.min, shape, self.max)
        )

    def distance_to_opt(self, shape: Sequence[int]) -> float:
        """Sum of |log(dim / opt dim)|: how far ``shape`` is from what the kernels were tuned for."""
        return sum(abs(math.log(d / o)) for d, o in zip(shape, self.opt))

    def as_dict(self) -> dict:
        return {"min": list(self.min), "opt": list(self.opt), "max": list(self.max)}


@dataclass(frozen=True)
class Profile:
    """One optimization profile: a shape range per input name."""

    name: str
    inputs: tuple[tuple[str, ShapeRange], ...]

    def __getitem__(self, input_name: str) -> ShapeRange:
        for name, shape_range in self.inputs:
            if name == input_name:
                return shape_range
        raise KeyError(input_name)

    @property
    def input_names(self) -> list[str]:
        return [name for name, _ in self.inputs]

    def contains(self, shapes: Mapping[str, Sequence[int]]) -> bool:
        return all(name in shapes and r.contains(shapes[name]) for name, r in self.inputs)

    def max_volume(self) -> int:
        return sum(math.prod(r.max) for _, r in self.inputs)

    def as_dict(self) -> dict:
        return {"name": self.name, "inputs": {name: r.as_dict() for name, r in self.inputs}}

    @classmethod
    def from_dict(cls, data: Mapping) -> "Profile":
        try:
            inputs = tuple(
                (str(name), ShapeRange(tuple(r["min"]), tuple(r["opt"]), tuple(r["max"])))
                for name, r in data["inputs"].items()
            )
            return cls(str(data.get("name", "custom")), inputs)
        except (KeyError, TypeError, AttributeError) as exc:
            raise ProfileError(
                f"A profile must look like {{'name': ..., 'inputs': {{'x': {{'min': [...], 'opt': [...], "
                f"'max': [...]}}}}}}; got {data!r} ({exc})."
            ) from exc

    def describe(self) -> str:
        parts = [f"{name} min {r.min} opt {r.opt} max {r.max}" for name, r in self.inputs]
        return f"{self.name} [{'; '.join(parts)}]"


def _round_to(value: float, multiple: int, lo: int, hi: int) -> int:
    """``value`` rounded to a multiple of ``multiple``, kept inside [lo, hi]."""
    multiple = max(1, multiple)
    rounded = int(round(value / multiple)) * multiple
    return max(lo, min(hi, rounded))


def rule_profile(rule, name: str = "full") -> Profile:
    """The one profile that spans an :class:`~hpi.models.registry.InputRule`'s min/opt/max."""
    return Profile(name, ((rule.name, ShapeRange(tuple(rule.min_shape), tuple(rule.opt_shape), tuple(rule.max_shape))),))


def detection_profiles(rule, limit: int = 960) -> list[Profile]:
    """Aspect buckets for an NCHW input whose H and W are both dynamic.

    ``square`` spans the whole rule (so every shape the rule allows fits);
    ``portrait`` (H up to the max, W up to ``limit``) and ``landscape`` (the
    transpose) are tuned for pages resized to a ``limit`` long side.
    """
    (b0, c, h_min, w_min), (b1, _, h_opt, w_opt), (b2, _, h_max, w_max) = (
        rule.min_shape, rule.opt_shape, rule.max_shape
    )
    q = max(1, rule.multiple_of)
    side_max = min(h_max, w_max)
    limit = _round_to(min(limit, side_max), q, max(h_min, w_min), side_max)
    # The rule's own opt gives the page aspect; PaddleX's default (960 x 736) is portrait.
    aspect = min(h_opt, w_opt) / max(h_opt, w_opt) if h_opt != w_opt else 0.75
    short = _round_to(limit * aspect, q, max(h_min, w_min), limit)
    profiles = [
        Profile("square", ((rule.name, ShapeRange((b0, c, h_min, w_min), (b1, c, limit, limit), (b2, c, h_max, w_max))),)),
    ]
    if limit < side_max:
        profiles.append(Profile("portrait", ((rule.name, ShapeRange(
            (b0, c, h_min, w_min), (b1, c, limit, short), (b2, c, h_max, limit))),)))
        profiles.append(Profile("landscape", ((rule.name, ShapeRange(
            (b0, c, h_min, w_min), (b1, c, short, limit), (b2, c, limit, w_max))),)))
    return profiles


def recognition_profiles(rule, widths: Iterable[int] = (320, 960), max_batch: int | None = None) -> list[Profile]:
    """Width buckets for an NCHW input with fixed H and dynamic W, batch min..max.

    Each bucket spans widths from the rule's min up to its bound, so narrow
    batches route to the tightest bucket; the last bucket always reaches the
    rule's max width (the longest line accepted).
    """
    (b0, c, h, w_min), (b1, _, _, w_opt), (b2, _, _, w_max) = rule.min_shape, rule.opt_shape, rule.max_shape
    if max_batch is not None:
        b2 = max(b0, int(max_batch))
        b1 = min(b1, b2)
    bounds = sorted({max(w_min, min(int(w), w_max)) for w in widths} | {w_max})
    q = max(1, rule.multiple_of)
    profiles = []
    previous = None
    for bound in bounds:
        # The first bucket is tuned at its bound (320: the width PaddleX pads most lines to);
        # wider buckets at the middle of the widths that route to them.
        opt = bound if previous is None else _round_to((previous + bound) / 2, q, w_min, bound)
        profiles.append(Profile(f"width<={bound}", ((rule.name, ShapeRange(
            (b0, c, h, w_min), (b1, c, h, opt), (b2, c, h, bound))),)))
        previous = bound
    return profiles


def batch_profile(rule, max_batch: int | None = None) -> Profile:
    """One profile for an input whose only dynamic dimension is the batch."""
    if max_batch is None:
        return rule_profile(rule, "batch")
    b0 = rule.min_shape[0]
    b2 = max(b0, int(max_batch))
    opt = (min(rule.opt_shape[0], b2),) + tuple(rule.opt_shape[1:])
    return Profile("batch", ((rule.name, ShapeRange(tuple(rule.min_shape), opt, (b2,) + tuple(rule.max_shape[1:]))),))


def profiles_for_rules(rules: Sequence, options: Mapping | None = None, task: str | None = None) -> list[Profile]:
    """The optimization profiles hpi builds for a model of ``task`` with these input rules.

    ``options`` (the runner's options) may set ``profiles`` (a list of
    :meth:`Profile.as_dict` dicts, used as given), ``det_limit`` (960),
    ``rec_widths`` ((320, 960)) and ``max_batch``. ``task`` names the row
    whose ``profile_recipe`` applies (None: ``by_shape``).
    """
    options = dict(options or {})
    if options.get("profiles"):
        profiles = [p if isinstance(p, Profile) else Profile.from_dict(p) for p in options["profiles"]]
        _check_unique(profiles)
        return profiles
    if not rules:
        raise ProfileError("The model has no input shape rules; give options['profiles'] explicitly.")
    if len(rules) > 1:
        # Several inputs: one profile spanning each rule (bucketing them jointly is model-specific).
        merged = tuple(item for rule in rules for item in rule_profile(rule).inputs)
        return [Profile("full", merged)]
    rule = rules[0]
    if len(rule.min_shape) != 4:
        return [rule_profile(rule)]
    recipe = _fitting_recipe(get_task(task).profile_recipe, rule)
    max_batch = options.get("max_batch")
    if recipe == "aspect_buckets":
        profiles = detection_profiles(rule, int(options.get("det_limit") or DET_LIMIT))
    elif recipe == "width_buckets":
        profiles = recognition_profiles(rule, options.get("rec_widths") or REC_WIDTHS, max_batch)
    elif recipe == "batch":
        profiles = [batch_profile(rule, max_batch)]
    else:
        profiles = [rule_profile(rule)]
    _check_unique(profiles)
    return profiles


def _fitting_recipe(recipe: str, rule) -> str:
    """``recipe`` when the NCHW rule's dynamic dimensions fit it, else the one they call for (``by_shape``).

    Aspect buckets need H and W dynamic, width buckets W only, the batch
    profile neither; ``single`` (one profile spanning the rule) fits any rule.
    """
    h_dynamic = rule.min_shape[2] != rule.max_shape[2]
    w_dynamic = rule.min_shape[3] != rule.max_shape[3]
    fits = {
        "aspect_buckets": h_dynamic and w_dynamic,
        "width_buckets": w_dynamic and not h_dynamic,
        "batch": not h_dynamic and not w_dynamic,
        "single": True,
    }
    if fits.get(recipe, False):
        return recipe
    return next(name for name in ("aspect_buckets", "width_buckets", "batch", "single") if fits[name])


def _check_unique(profiles: Sequence[Profile]) -> None:
    names = [p.name for p in profiles]
    if len(set(names)) != len(names):
        raise ProfileError(f"Profile names must be unique; got {names}.")
    if not profiles:
        raise ProfileError("At least one optimization profile is needed.")


def route(profiles: Sequence[Profile], shapes: Mapping[str, Sequence[int]]) -> int:
    """Index of the profile that should run inputs of ``shapes``.

    Among the profiles whose [min, max] contain every input shape, the one
    whose ``opt`` is closest (log scale) wins; ties go to the smaller max
    (less activation memory), then to the lower index. Raises
    :class:`ProfileError` naming every profile when none fits.
    """
    shapes = {name: tuple(int(d) for d in shape) for name, shape in shapes.items()}
    fitting = [i for i, profile in enumerate(profiles) if profile.contains(shapes)]
    if not fitting:
        listed = "; ".join(f"#{i} {p.describe()}" for i, p in enumerate(profiles))
        raise ProfileError(
            f"Input shapes {shapes} fit none of this engine's optimization profiles: {listed}. "
            "Resize the input to fit (e.g. a smaller detection side limit or recognition batch), "
            "or build the engine with wider profiles (options['profiles'])."
        )

    def score(i: int) -> tuple[float, int, int]:
        profile = profiles[i]
        distance = sum(r.distance_to_opt(shapes[name]) for name, r in profile.inputs)
        return (round(distance, 9), profile.max_volume(), i)

    return min(fitting, key=score)


def profiles_as_json(profiles: Sequence[Profile]) -> list[dict]:
    return [p.as_dict() for p in profiles]


def onnxruntime_trt_profile_options(profile: Profile) -> dict[str, str]:
    """``trt_profile_{min,opt,max}_shapes`` provider options for ONNX Runtime's TensorRT EP.

    Explicit shapes stop the EP from rebuilding its engine each time a new
    input shape falls outside the range it has seen (its default).
    """
    def fmt(which: str) -> str:
        return ",".join(
            f"{name}:{'x'.join(str(d) for d in getattr(r, which))}" for name, r in profile.inputs
        )

    return {
        "trt_profile_min_shapes": fmt("min"),
        "trt_profile_opt_shapes": fmt("opt"),
        "trt_profile_max_shapes": fmt("max"),
    }


# A model directory with no shape rules (a PaddleX vision model of a task hpi ships none for): its ONNX inputs'
# own dims, a dynamic batch as 1 to max_batch (1: hpi's detectors run one image per call), dynamic image sides
# (an N×C×H×W input) from 32 to 2048 px tuned at 640, and companion inputs (PaddleX detectors' im_shape and
# scale_factor, N×2) following the batch.
DYNAMIC_SIDE = (32, 640, 2048)


def onnx_input_profiles(onnx_path: Path, max_batch: int | None = None) -> list[Profile]:
    """One profile from the ONNX file's own input shapes: fixed dimensions as they are, a dynamic batch from 1 to
    ``max_batch`` (default 1), the dynamic sides of an image input within :data:`DYNAMIC_SIDE`. Any other dynamic
    dimension has no sensible default: a :class:`ProfileError` says to give ``options['profiles']``."""
    onnx = import_onnx()
    model = onnx.load(str(onnx_path), load_external_data=False)
    initializers = {init.name for init in model.graph.initializer}
    batch = max(1, int(max_batch or 1))
    inputs = []
    for value in model.graph.input:
        if value.name in initializers:
            continue
        dims = [d.dim_value if d.HasField("dim_value") else -1 for d in value.type.tensor_type.shape.dim]
        ranges = []  # (min, opt, max) per dimension
        for index, dim in enumerate(dims):
            if dim > 0:
                ranges.append((dim, dim, dim))
            elif index == 0:
                ranges.append((1, 1, batch))
            elif len(dims) == 4 and index in (2, 3):
                ranges.append(DYNAMIC_SIDE)
            else:
                raise ProfileError(
                    f"{onnx_path} input {value.name!r} has dynamic shape {dims} and the model has no shape "
                    "rules; pass options['profiles'] = [{'name': ..., 'inputs': {name: {'min', 'opt', 'max'}}}]."
                )
        low, opt, high = (tuple(r[i] for r in ranges) for i in range(3))
        inputs.append((value.name, ShapeRange(low, opt, high)))
    fixed = all(r.min == r.max for _, r in inputs)
    return [Profile("static" if fixed else "model_dims", tuple(inputs))]