"""Image classification: the model directory's own pre-processing → classifier → PaddleX's top-k.

Everything model-specific comes from the model's ``inference.yml``, as PaddleX's
``image_classification`` predictor reads it: ``PreProcess.transform_ops``
(:func:`hpi.models.preprocess.classification_preprocess`) and
``PostProcess.Topk`` (``topk``, ``label_list``). The top-k rule is PaddleX's
(``paddlex/inference/models/image_classification/processors.py``, ``Topk``): the
last ``k`` of an ascending argsort, reversed; scores rounded to 5 decimals; a
class without a label is named by its id.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..backends.base import Runner
from ..errors import BackendError, ModelError
from ..models import inference_yml
from ..models.preprocess import ClassificationPreprocess, classification_preprocess
from ..models.registry import ModelSpec
from ..timing import NULL_TIMES, StageTimes
from .base import Predictor, check_page


class ImageClassifier(Predictor):
    """``predict(images, topk)`` → per image (class ids, scores, label names), best first."""

    stage = "cls"

    def __init__(self, runner: Runner, spec: ModelSpec, preprocess: ClassificationPreprocess,
                 labels: Sequence[str] | None, topk: int, batch_size: int = 1) -> None:
        super().__init__(runner, spec)
        self.preprocess = preprocess
        self.labels = list(labels) if labels else None
        self.topk = topk
        self.batch_size = batch_size

    @classmethod
    def from_module(cls, runner: Runner, spec: ModelSpec, module: Any, artifacts: Any = None) -> "ImageClassifier":
        yml = artifacts.extra_files.get("yml") if artifacts is not None else None
        if yml is None:
            raise ModelError(f"{spec.name}: an image classifier needs its PaddleX inference.yml (its pre-processing "
                             "and labels); give the model directory, not a bare .onnx file.")
        data = inference_yml.read_yaml(yml)
        name = (data.get("Global") or {}).get("model_name") or spec.name
        preprocess = classification_preprocess((data.get("PreProcess") or {}).get("transform_ops"), name)
        topk_section = (data.get("PostProcess") or {}).get("Topk")
        if not isinstance(topk_section, dict):
            raise ModelError(f"{yml}: PostProcess has no Topk section; PaddleX's image classification needs it "
                             "(topk, label_list).")
        labels = topk_section.get("label_list")
        if labels is not None and (not isinstance(labels, list) or not labels):
            raise ModelError(f"{yml}: PostProcess.Topk.label_list must be a list of class names, got {labels!r:.60}.")
        topk = topk_section.get("topk", 5)
        if not isinstance(topk, int) or isinstance(topk, bool) or topk < 1:
            raise ModelError(f"{yml}: PostProcess.Topk.topk must be a whole number ≥ 1, got {topk!r}.")
        return cls(runner, spec, preprocess, [str(label) for label in labels] if labels else None, topk,
                   module.batch_size)

    def predict(self, images: Sequence[np.ndarray], topk: int | None = None,
                times: StageTimes = NULL_TIMES) -> list[tuple[list[int], list[float], list[str]]]:
        k = self.topk if topk is None else topk
        out = []
        for start in range(0, len(images), self.batch_size):
            batch = images[start:start + self.batch_size]
            with times.stage("cls.pre"):
                for image in batch:
                    check_page(image, "Image classification")
                tensor = np.stack([self.preprocess(image) for image in batch])
            probs = np.asarray(self.run(tensor, times))
            with times.stage("cls.post"):
                out += self._topk(probs, k)
        return out

    def _topk(self, probs: np.ndarray, k: int) -> list[tuple[list[int], list[float], list[str]]]:
        if probs.ndim != 2:
            raise BackendError(f"The classifier {self.spec.name} returned shape {probs.shape}; an image classifier "
                               "returns one row of class scores per image.")
        if self.labels is not None and probs.shape[1] != len(self.labels):
            raise ModelError(f"The classifier {self.spec.name} scores {probs.shape[1]} classes, but its inference.yml "
                             f"lists {len(self.labels)} labels; the label_list belongs to another model.")
        indexes = probs.argsort(axis=1)[:, -k:][:, ::-1].astype(np.int32)
        rows = []
        for row, index in zip(probs, indexes):
            names = [self.labels[i] if self.labels is not None else str(int(i)) for i in index]
            rows.append(([int(i) for i in index], [float(s) for s in np.around(row[index], decimals=5)], names))
        return rows

    def module_outputs(self, image: np.ndarray, module: Any, times: StageTimes = NULL_TIMES) -> dict[str, Any]:
        [(class_ids, scores, names)] = self.predict([image], module.topk, times)
        return {"class_ids": class_ids, "scores": scores, "label_names": names}


__all__ = ["ImageClassifier"]
