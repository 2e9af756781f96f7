"""Semantic segmentation (PaddleX's ``semantic_segmentation`` module): a class id per pixel.

Everything model-specific comes from the model directory's ``inference.yml`` (PaddleSeg's deploy file), as
PaddleX 3.7.2's ``SegRunnerPredictor`` reads it (``paddlex/inference/models/semantic_segmentation/``):
``Deploy.transforms`` (:func:`hpi.models.preprocess.segmentation_preprocess`). The model returns the
``[N, H, W]`` label map (PaddleSeg's ``output_op: argmax``, what PaddleX runs) or, from an export without it,
``[N, C, H, W]`` logits, turned into the label map here (PaddleX 3.7.2 cannot run those). PaddleX's
``SegPostProcess``: the map resized back to the image's size, nearest neighbour, as ``[1, H, W]`` int32.

Images of the same model input size share a model call (``batch_size`` at most); a dynamic-size model gets
one image per call otherwise.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..backends.base import Runner
from ..errors import BackendError, ModelError
from ..models.preprocess import SegmentationPreprocess, check_target_size, segmentation_preprocess
from ..models.registry import ModelSpec
from ..timing import NULL_TIMES, StageTimes
from .base import Predictor, check_page, model_yml, same_shape_runs


class DeployPredictor(Predictor):
    """A model whose ``inference.yml`` has PaddleSeg's ``Deploy`` section (semantic segmentation, anomaly
    detection): its pre-processing and ``batch_size`` images of one input size per model call."""

    def __init__(self, runner: Runner, spec: ModelSpec, preprocess: SegmentationPreprocess,
                 batch_size: int = 1) -> None:
        super().__init__(runner, spec)
        self.preprocess = preprocess
        self.batch_size = batch_size

    @staticmethod
    def deploy_transforms(spec: ModelSpec, artifacts: Any, what: str, kind: str) -> tuple[str, list]:
        """(the model's name, its ``Deploy.transforms``); ``what`` (a segmentation model, ...) and ``kind``
        (semantic segmentation, ...) name it in the errors."""
        yml, data = model_yml(spec, artifacts, what, "its pre-processing")
        deploy = data.get("Deploy")
        if not isinstance(deploy, dict):
            raise ModelError(f"{yml} has no Deploy section (PaddleSeg's transforms); is model_dir {kind} model?")
        return (data.get("Global") or {}).get("model_name") or spec.name, deploy.get("transforms") or []


class SemanticSegmenter(DeployPredictor):
    """``predict(images)`` → per image its ``[1, H, W]`` int32 label map at the image's size."""

    stage = "seg"

    @classmethod
    def from_module(cls, runner: Runner, spec: ModelSpec, module: Any, artifacts: Any = None) -> "SemanticSegmenter":
        name, transforms = cls.deploy_transforms(spec, artifacts, "a segmentation model", "a semantic segmentation")
        target = check_target_size(getattr(module, "target_size", None), "target_size")
        return cls(runner, spec, segmentation_preprocess(transforms, name, target), module.batch_size)

    def predict(self, images: Sequence[np.ndarray], times: StageTimes = NULL_TIMES,
                target_size: Any = None) -> list[np.ndarray]:
        target = check_target_size(target_size, "target_size")
        with times.stage("seg.pre"):
            for image in images:
                check_page(image, "Semantic segmentation")
            tensors = [self.preprocess(image, target) for image in images]
        maps: list[np.ndarray] = []
        for start, end in same_shape_runs(tensors, self.batch_size):
            with times.stage("seg.model"):
                output = np.asarray(self.runner.infer_one(np.stack(tensors[start:end])))
            with times.stage("seg.post"):
                for image, label_map in zip(images[start:end], self._label_maps(output, end - start)):
                    maps.append(_to_size(label_map, image.shape[1], image.shape[0]))
        return maps

    def _label_maps(self, output: np.ndarray, count: int) -> np.ndarray:
        """The ``[N, h, w]`` int32 maps of one model call."""
        if output.ndim == 4 and output.shape[0] == count:  # logits: PaddleSeg exported without argmax
            return output.argmax(axis=1).astype(np.int32)
        if output.ndim == 3 and output.shape[0] == count:
            return output.astype(np.int32, copy=False)
        raise BackendError(f"{self.spec.name} returned shape {output.shape}; a segmentation model returns an "
                           f"[N, H, W] label map or [N, C, H, W] logits for its {count} image(s). Is model_dir a "
                           "semantic segmentation model?")

    def module_outputs(self, image: np.ndarray, module: Any, times: StageTimes = NULL_TIMES) -> dict[str, Any]:
        """PaddleX's semantic_segmentation module result (its ``SegResult``): ``pred``."""
        [label_map] = self.predict([image], times, getattr(module, "target_size", None))
        return {"pred": label_map}


def _to_size(label_map: np.ndarray, width: int, height: int) -> np.ndarray:
    """PaddleX's SegPostProcess.reverse_resize: nearest neighbour back to (width, height), as [1, H, W]."""
    if label_map.shape != (height, width):
        import cv2

        label_map = cv2.resize(label_map, (width, height), interpolation=cv2.INTER_NEAREST)
    return np.ascontiguousarray(label_map[None])


__all__ = ["DeployPredictor", "SemanticSegmenter"]
