"""Object detection (PaddleX's ``object_detection`` module and its kin): labelled boxes from PaddleX's
exported detectors.

Everything model-specific comes from the model directory's ``inference.yml``, as PaddleX 3.7.2's
``DetRunnerPredictor`` reads it (``paddlex/inference/models/object_detection/predictor.py``):
``Preprocess`` (:func:`hpi.models.preprocess.detection_preprocess`), ``label_list``,
``draw_threshold`` and the layout settings (``layout_nms``, ``layout_unclip_ratio``,
``layout_merge_bboxes_mode``).

The model takes the image batch and, by name, ``im_shape`` (the resized ``[h, w]``) and
``scale_factor`` (resized over original, ``[h, w]``); it returns ``[N, 6]`` rows
``(class, score, x1, y1, x2, y2)`` in original-image pixels with NMS done inside the graph
(``multiclass_nms3``), and the box count per image; rotated detectors (PP-YOLOE-R) return ``[N, 10]`` rows
with the four corners instead (``multiclass_nms3`` over polygons). Post-processing is PaddleX's
``DetPostProcess`` (:func:`.layout_rules.apply_layout_rules`: threshold as a number or
``{class id: threshold}``, then the layout rules when asked).

One image per model call: paddle2onnx 2.0.1 writes ``multiclass_nms3`` with the batch fixed at
one (a batch of two fails in ONNX Runtime inside the converted NMS), so ``batch_size`` groups
the work of a call, not the model's input.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..backends.base import Runner
from ..errors import BackendError, ConfigError, ModelError
from ..models.preprocess import DetectionPreprocess, detection_preprocess
from ..models.registry import ModelSpec
from ..timing import NULL_TIMES, StageTimes
from .base import Predictor, check_page, model_yml
from .layout_rules import (
    apply_layout_rules, check_layout_nms, check_merge_mode, check_threshold, check_unclip_ratio,
)

DEFAULT_THRESHOLD = 0.5  # PaddleX's, when neither the call, the config nor the model's draw_threshold sets one


def _or(value: Any, default: Any) -> Any:
    return default if value is None else value


def check_img_size(value: Any, label: str = "img_size") -> tuple[int, int] | None:
    """PaddleX's ``img_size``: one side or a pair, which PaddleX's ``Resize`` reads as ``[h, w]``."""
    if value is None:
        return None
    pair = [value, value] if isinstance(value, int) and not isinstance(value, bool) else value
    if (not isinstance(pair, (list, tuple)) or len(pair) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in pair)):
        raise ConfigError(f"{label} is {value!r}; it must be a positive whole number or a pair of them "
                          "(the model's input size, [h, w]).")
    return int(pair[0]), int(pair[1])


def with_img_size(preprocess: list, img_size: tuple[int, int] | None) -> list:
    """PaddleX's ``img_size`` override: a first ``Resize`` is replaced by, otherwise preceded by, a plain
    resize to ``img_size`` (keep_ratio off, bicubic)."""
    if img_size is None:
        return preprocess
    ops = list(preprocess)
    if ops and isinstance(ops[0], dict) and ops[0].get("type") == "Resize":
        ops.pop(0)
    return [{"type": "Resize", "target_size": list(img_size), "keep_ratio": False, "interp": 2}, *ops]


class ObjectDetector(Predictor):
    """``predict(images)`` → per image PaddleX's boxes ``[{"cls_id", "label", "score", "coordinate"}]``."""

    stage = "det"

    def __init__(self, runner: Runner, spec: ModelSpec, preprocess: DetectionPreprocess, labels: Sequence[str],
                 settings: dict[str, Any]) -> None:
        super().__init__(runner, spec)
        self.preprocess = preprocess
        self.labels = tuple(labels)
        self.threshold = settings["threshold"]
        self.layout_nms = settings["layout_nms"]
        self.unclip_ratio = settings["layout_unclip_ratio"]
        self.merge_mode = settings["layout_merge_bboxes_mode"]
        unknown = [name for name in runner.input_names if name not in ("image", "im_shape", "scale_factor")]
        if unknown or "image" not in runner.input_names:
            raise ModelError(f"{spec.name} takes the inputs {list(runner.input_names)}; PaddleX's exported detectors "
                             "take image (and im_shape, scale_factor). Is model_dir an object detection model?")

    @classmethod
    def from_module(cls, runner: Runner, spec: ModelSpec, module: Any, artifacts: Any = None) -> "ObjectDetector":
        yml, data = model_yml(spec, artifacts, "a detector", "its pre-processing and labels")
        name = (data.get("Global") or {}).get("model_name") or spec.name
        img_size = check_img_size(getattr(module, "img_size", None), "img_size")
        if img_size is not None:
            fixed = _fixed_hw(artifacts)
            if fixed is not None:
                raise ConfigError(f"img_size={list(img_size)}: {name} takes a fixed {fixed[0]}×{fixed[1]} input "
                                  "(PaddleX refuses img_size for it too); leave img_size unset.")
        preprocess = detection_preprocess(with_img_size(data.get("Preprocess"), img_size), name)
        labels = data.get("label_list")
        if not isinstance(labels, list) or not labels:
            raise ModelError(f"{yml}: label_list must be the list of the model's class names, got {labels!r:.60}.")
        settings = {
            "threshold": check_threshold(_or(module.threshold, data.get("draw_threshold", DEFAULT_THRESHOLD)),
                                         "threshold"),
            "layout_nms": bool(_or(check_layout_nms(getattr(module, "layout_nms", None)), data.get("layout_nms"))),
            "layout_unclip_ratio": check_unclip_ratio(_or(getattr(module, "layout_unclip_ratio", None),
                                                          data.get("layout_unclip_ratio"))),
            "layout_merge_bboxes_mode": check_merge_mode(_or(getattr(module, "layout_merge_bboxes_mode", None),
                                                             data.get("layout_merge_bboxes_mode"))),
        }
        return cls(runner, spec, preprocess, [str(label) for label in labels], settings)

    def settings(self, threshold: Any = None, layout_nms: Any = None, layout_unclip_ratio: Any = None,
                 layout_merge_bboxes_mode: Any = None) -> tuple:
        """The call's settings over the predictor's (None: the predictor's), checked; PaddleX's rule for
        ``layout_nms``: on when the call or the model says so."""
        threshold = check_threshold(_or(threshold, self.threshold))
        if isinstance(threshold, dict):
            unknown = sorted(key for key in threshold if not 0 <= key < len(self.labels))
            if unknown:
                raise ConfigError(f"threshold names class ids {unknown}, but {self.spec.name} has "
                                  f"{len(self.labels)} classes (0–{len(self.labels) - 1}: "
                                  f"{', '.join(self.labels[:8])}{', ...' if len(self.labels) > 8 else ''}).")
        return (threshold, bool(check_layout_nms(layout_nms)) or self.layout_nms,
                check_unclip_ratio(_or(layout_unclip_ratio, self.unclip_ratio)),
                check_merge_mode(_or(layout_merge_bboxes_mode, self.merge_mode)))

    def predict(self, images: Sequence[np.ndarray], times: StageTimes = NULL_TIMES, *, threshold: Any = None,
                layout_nms: bool | None = None, layout_unclip_ratio: Any = None,
                layout_merge_bboxes_mode: Any = None) -> list[list[dict]]:
        """The boxes of each BGR image; keyword settings (None: the predictor's) as PaddleX names them."""
        settings = self.settings(threshold, layout_nms, layout_unclip_ratio, layout_merge_bboxes_mode)
        out = []
        for image in images:
            with times.stage("det.pre"):
                check_page(image, "Object detection")
                data = self.preprocess(image)
                feed = {"image": data.image[None],
                        "im_shape": np.array([data.img_size], np.float32),
                        "scale_factor": np.array([data.scale_factor], np.float32)}
                feed = {name: feed[name] for name in self.runner.input_names}
            with times.stage("det.model"):
                outputs = list(self.runner.infer(feed).values())
            with times.stage("det.post"):
                rows = self._rows(outputs)
                if len(rows) and rows[:, 0].max() >= len(self.labels):
                    raise ModelError(f"{self.spec.name} returned class {int(rows[:, 0].max())}, but its inference.yml "
                                     f"lists {len(self.labels)} labels; the label_list belongs to another model.")
                if rows.shape[1] == 10:
                    out.append(rotated_boxes(rows, (image.shape[1], image.shape[0]), self.labels, settings[0]))
                else:
                    out.append(apply_layout_rules(rows, (image.shape[1], image.shape[0]), self.labels, *settings))
        return out

    def _rows(self, outputs: list[np.ndarray]) -> np.ndarray:
        """The one image's ``[N, 6]`` rows (``[N, 10]``: rotated boxes' four corners), cut to its box count."""
        rows = next((o for o in outputs if o.ndim == 2 and o.shape[1] in (6, 10)), None)
        if rows is None:
            shapes = ", ".join(str(tuple(o.shape)) for o in outputs)
            raise BackendError(f"{self.spec.name} returned outputs of shapes {shapes}; PaddleX's exported detectors "
                               "return [N, 6] boxes (class, score, x1, y1, x2, y2), or [N, 10] rotated boxes (class, "
                               "score, four corners), and a box count.")
        extra = [o for o in outputs if o is not rows and o.ndim != 1]
        if extra:
            shapes = ", ".join(str(tuple(o.shape)) for o in extra)
            raise BackendError(f"{self.spec.name} also returns outputs of shapes {shapes} (masks: an instance "
                               "segmentation model?); object detection takes models that return boxes only.")
        return exported_rows(rows, outputs)[0]

    def module_outputs(self, image: np.ndarray, module: Any, times: StageTimes = NULL_TIMES) -> dict[str, Any]:
        """PaddleX's object_detection module result (its ``DetResult``): ``boxes``."""
        [boxes] = self.predict([image], times, threshold=module.threshold,
                               layout_nms=getattr(module, "layout_nms", None),
                               layout_unclip_ratio=getattr(module, "layout_unclip_ratio", None),
                               layout_merge_bboxes_mode=getattr(module, "layout_merge_bboxes_mode", None))
        return {"boxes": boxes}


class InstanceSegmenter(ObjectDetector):
    """PaddleX's instance segmentation (Mask-RT-DETR's exported form): ``predict(images)`` → per image
    ``(boxes, masks)``: PaddleX's boxes and, per box, its mask cropped to the box (``int32``, 0/1).

    The model returns the ``[N, 6]`` rows, the box count and ``[N, H, W]`` masks at the image's size (pasted
    inside the graph). PaddleX's ``InstanceSegPostProcess``: rows over ``threshold`` (a number), boxes clipped
    to the image (a box left empty is dropped with its mask: PaddleX 3.7.2 would pair the masks after it with
    the wrong boxes), each mask cut to its box's rounded coordinates.
    """

    stage = "ins"

    def predict(self, images: Sequence[np.ndarray], times: StageTimes = NULL_TIMES, *,
                threshold: Any = None, **_: Any) -> list[tuple[list[dict], list[np.ndarray]]]:
        threshold = check_threshold(_or(threshold, self.threshold))
        if isinstance(threshold, dict):
            raise ConfigError("threshold: instance segmentation takes one number (PaddleX's), not a per-class mapping.")
        out = []
        for image in images:
            with times.stage("ins.pre"):
                check_page(image, "Instance segmentation")
                data = self.preprocess(image)
                feed = {"image": data.image[None], "im_shape": np.array([data.img_size], np.float32),
                        "scale_factor": np.array([data.scale_factor], np.float32)}
                feed = {name: feed[name] for name in self.runner.input_names}
            with times.stage("ins.model"):
                outputs = list(self.runner.infer(feed).values())
            with times.stage("ins.post"):
                out.append(self._instances(outputs, image.shape[1], image.shape[0], threshold))
        return out

    def _instances(self, outputs: list[np.ndarray], width: int, height: int,
                   threshold: float) -> tuple[list[dict], list[np.ndarray]]:
        rows = next((o for o in outputs if o.ndim == 2 and o.shape[1] == 6), None)
        masks = next((o for o in outputs if o.ndim == 3), None)
        if rows is None or masks is None:
            shapes = ", ".join(str(tuple(o.shape)) for o in outputs)
            raise BackendError(f"{self.spec.name} returned outputs of shapes {shapes}; PaddleX's exported instance "
                               "segmentation models (Mask-RT-DETR, Mask R-CNN) return [N, 6] boxes, a box count and "
                               "[N, H, W] masks. SOLOv2's form is not supported yet.")
        rows, order = exported_rows(rows, outputs)
        masks = masks[:len(order)][order]
        if len(rows) and rows[:, 0].max() >= len(self.labels):
            raise ModelError(f"{self.spec.name} returned class {int(rows[:, 0].max())}, but its inference.yml lists "
                             f"{len(self.labels)} labels; the label_list belongs to another model.")
        keep = (rows[:, 1] > np.float32(threshold)) & (rows[:, 0] > -1)
        boxes, crops = [], []
        for row, mask in zip(rows[keep], masks[keep]):
            x1, y1 = max(0.0, float(row[2])), max(0.0, float(row[3]))
            x2, y2 = min(float(width), float(row[4])), min(float(height), float(row[5]))
            if x2 <= x1 or y2 <= y1:
                continue
            cls = int(row[0])
            boxes.append({"cls_id": cls, "label": self.labels[cls], "score": float(row[1]),
                          "coordinate": [x1, y1, x2, y2]})
            left, top, right, bottom = (int(round(v)) for v in (x1, y1, x2, y2))
            crops.append(np.ascontiguousarray(mask[top:bottom, left:right]).astype(np.int32, copy=False))
        return boxes, crops

    def module_outputs(self, image: np.ndarray, module: Any, times: StageTimes = NULL_TIMES) -> dict[str, Any]:
        """PaddleX's instance_segmentation module result: ``boxes`` and ``masks``."""
        [(boxes, masks)] = self.predict([image], times, threshold=module.threshold)
        return {"boxes": boxes, "masks": masks}


def nms_order(rows: np.ndarray) -> np.ndarray:
    """The order Paddle's ``multiclass_nms3`` gives its rows: class by class, best score first in each (a
    stable sort: equal scores keep the model's order). ONNX Runtime's ``NonMaxSuppression`` keeps it; OpenVINO's
    does not (measured: the same boxes in another order), so every backend's rows are put in it."""
    return np.lexsort((-rows[:, 1], rows[:, 0])) if len(rows) else np.arange(0)


def exported_rows(rows: np.ndarray, outputs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """One image's rows of a PaddleX export, cut to its box count (the 1-D output beside them) and put in
    Paddle's NMS order; and that order (indices into the cut rows), for outputs that go with the rows."""
    counts = next((o for o in outputs if o is not rows and o.ndim == 1), None)
    count = int(counts[0]) if counts is not None and counts.size else len(rows)
    rows = np.asarray(rows[:count], np.float32)
    order = nms_order(rows)
    return rows[order], order


def rotated_boxes(rows: np.ndarray, image_wh: tuple[int, int], labels: Sequence[str],
                  threshold: float | dict[int, float]) -> list[dict]:
    """PaddleX's DetPostProcess for rotated rows: the threshold (a number or per class), then
    ``restructured_rotated_boxes``: every corner clamped into the image, each box kept."""
    if isinstance(threshold, dict):
        limits = np.array([threshold.get(int(c), 0.5) for c in rows[:, 0]], dtype=np.float32)
    else:
        limits = np.float32(threshold)
    rows = rows[(rows[:, 1] > limits) & (rows[:, 0] > -1)]
    width, height = image_wh
    bounds = np.array([width, height] * 4, np.float64)
    boxes = []
    for row in rows:
        corners = np.minimum(np.maximum(row[2:].astype(np.float64), 0.0), bounds)
        cls = int(row[0])
        boxes.append({"cls_id": cls, "label": labels[cls] if 0 <= cls < len(labels) else str(cls),
                      "score": float(row[1]), "coordinate": [float(v) for v in corners]})
    return boxes


def _fixed_hw(artifacts: Any) -> tuple[int, int] | None:
    """The ``image`` input's fixed (h, w) in the model's ONNX graph; None when either is dynamic or no
    graph is at hand."""
    path = getattr(artifacts, "onnx_path", None)
    if path is None:
        return None
    from .._deps import import_onnx

    graph = import_onnx().load(str(path), load_external_data=False).graph
    image = next((i for i in graph.input if i.name == "image"), None)
    dims = [d.dim_value for d in image.type.tensor_type.shape.dim] if image is not None else []
    return (dims[2], dims[3]) if len(dims) == 4 and dims[2] > 0 and dims[3] > 0 else None


__all__ = ["InstanceSegmenter", "ObjectDetector", "check_img_size", "exported_rows", "nms_order", "rotated_boxes",
           "with_img_size"]
