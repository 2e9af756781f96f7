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

from dataclasses import replace
from typing import Any, Sequence

import numpy as np

from ..backends.base import Runner
from ..errors import BackendError, ModelError
from ..models.preprocess import ClassificationPreprocess, classification_preprocess
from ..models.registry import ModelSpec
from ..timing import NULL_TIMES, StageTimes
from .base import Predictor, check_page, model_yml, same_shape_runs


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

    @staticmethod
    def read_model_yml(spec: ModelSpec, artifacts: Any) -> tuple[Any, dict, ClassificationPreprocess]:
        """(the yml's path, its content, its pre-processing) of a PaddleX classifier directory."""
        yml, data = model_yml(spec, artifacts, "an image classifier", "its pre-processing and labels")
        name = (data.get("Global") or {}).get("model_name") or spec.name
        return yml, data, classification_preprocess((data.get("PreProcess") or {}).get("transform_ops"), name)

    @staticmethod
    def read_labels(yml: Any, section: dict) -> list[str] | None:
        labels = section.get("label_list")
        if labels is not None and (not isinstance(labels, list) or not labels):
            raise ModelError(f"{yml}: label_list must be a list of class names, got {labels!r:.60}.")
        return [str(label) for label in labels] if labels else None

    @classmethod
    def from_module(cls, runner: Runner, spec: ModelSpec, module: Any, artifacts: Any = None) -> "ImageClassifier":
        yml, data, preprocess = cls.read_model_yml(spec, artifacts)
        topk_section = (data.get("PostProcess") or {}).get("Topk")
        if not isinstance(topk_section, dict):
            raise ModelError(f"{yml}: PostProcess has no Topk section; PaddleX's image classification needs it "
                             "(topk, label_list).")
        labels = cls.read_labels(yml, topk_section)
        topk = topk_section.get("topk", 5)
        if not isinstance(topk, int) or isinstance(topk, bool) or topk < 1:
            raise ModelError(f"{yml}: PostProcess.Topk.topk must be a whole number ≥ 1, got {topk!r}.")
        return cls(runner, spec, preprocess, labels, topk, module.batch_size)

    def predict(self, images: Sequence[np.ndarray], topk: int | None = None,
                times: StageTimes = NULL_TIMES) -> list[tuple[list[int], list[float], list[str]]]:
        k = self.topk if topk is None else topk
        return self._classify(images, times, lambda probs: self._topk(probs, k))

    def _classify(self, images: Sequence[np.ndarray], times: StageTimes, post) -> list:
        """``post(probs)`` per batch of ``batch_size`` images → the rows of all images."""
        with times.stage("cls.pre"):
            for image in images:
                check_page(image, "Image classification")
            tensors = [self.preprocess(image) for image in images]
        out: list = []
        for start, end in same_shape_runs(tensors, self.batch_size):  # without a crop sizes follow the images
            probs = np.asarray(self.run(np.stack(tensors[start:end]), times))
            with times.stage("cls.post"):
                self._check_scores(probs)
                out += post(probs)
        return out

    def _check_scores(self, probs: np.ndarray) -> None:
        if probs.ndim != 2:
            raise BackendError(f"The classifier {self.spec.name} returned shape {probs.shape}; an image classifier "
                               "returns one row of class scores per image.")
        if self.labels is not None and probs.shape[1] != len(self.labels):
            raise ModelError(f"The classifier {self.spec.name} scores {probs.shape[1]} classes, but its inference.yml "
                             f"lists {len(self.labels)} labels; the label_list belongs to another model.")

    def _topk(self, probs: np.ndarray, k: int) -> list[tuple[list[int], list[float], list[str]]]:
        indexes = probs.argsort(axis=1)[:, -k:][:, ::-1].astype(np.int32)
        rows = []
        for row, index in zip(probs, indexes):
            names = [self.labels[i] if self.labels is not None else str(int(i)) for i in index]
            rows.append(([int(i) for i in index], [float(s) for s in np.around(row[index], decimals=5)], names))
        return rows

    def module_outputs(self, image: np.ndarray, module: Any, times: StageTimes = NULL_TIMES) -> dict[str, Any]:
        [(class_ids, scores, names)] = self.predict([image], module.topk, times)
        return {"class_ids": class_ids, "scores": scores, "label_names": names}


def check_multilabel_threshold(value: Any, label: str = "threshold") -> float | dict | list | None:
    """PaddleX's multi-label threshold: a number, ``{"default": t, class id: t, ...}`` (``default`` required)
    or one number per class; None stays None."""
    from ..errors import ConfigError

    def number(item: Any, where: str) -> float:
        if isinstance(item, bool) or not isinstance(item, (int, float)) or not 0.0 <= float(item) <= 1.0:
            raise ConfigError(f"{where} is {item!r}; a threshold is a number in [0, 1].")
        return float(item)

    if value is None:
        return None
    if isinstance(value, dict):
        if value.get("default") is None:
            raise ConfigError(f"{label} as a mapping needs its 'default' threshold (PaddleX's rule), e.g. "
                              "{'default': 0.5, 3: 0.8}; got keys " + ", ".join(map(repr, value)) + ".")
        out: dict = {"default": number(value["default"], f"{label}['default']")}
        for key, item in value.items():
            if key == "default":
                continue
            if isinstance(key, str) and key.strip().isdigit():
                key = int(key)
            if isinstance(key, bool) or not isinstance(key, int) or key < 0:
                raise ConfigError(f"{label} has the key {key!r}; keys are 'default' and class ids (0, 1, 2, ...).")
            out[key] = number(item, f"{label}[{key!r}]")
        return out
    if isinstance(value, (list, tuple)):
        return [number(item, f"{label}[{i}]") for i, item in enumerate(value)]
    return number(value, label)


class MultiLabelClassifier(ImageClassifier):
    """PaddleX's multi-label classification (``image_multilabel_classification``): every class whose score is
    over its threshold, best first (PaddleX's ``MultiLabelThreshOutput``: ``argsort`` of the negated scores
    over the threshold, scores rounded to 5 decimals). Its pre-processing is the classifiers' without the
    centre crop, as PaddleX's multi-label predictor runs it."""

    def __init__(self, runner: Runner, spec: ModelSpec, preprocess: ClassificationPreprocess,
                 labels: Sequence[str] | None, threshold: Any, batch_size: int = 1) -> None:
        super().__init__(runner, spec, preprocess, labels, 1, batch_size)
        self.threshold = check_multilabel_threshold(threshold)

    @classmethod
    def from_module(cls, runner: Runner, spec: ModelSpec, module: Any, artifacts: Any = None) -> "MultiLabelClassifier":
        yml, data, preprocess = cls.read_model_yml(spec, artifacts)
        # PaddleX 3.7.2's MLClasPredictor.process runs Read → Resize → Normalize → ToCHW: a CropImage op of
        # the model's inference.yml is built but never applied. The model gets what PaddleX gives it.
        preprocess = replace(preprocess, crop=None)
        section = (data.get("PostProcess") or {}).get("MultiLabelThreshOutput")
        if not isinstance(section, dict):
            raise ModelError(f"{yml}: PostProcess has no MultiLabelThreshOutput section; PaddleX's multi-label "
                             "classification needs it (threshold, label_list). Is it a multi-label model?")
        labels = cls.read_labels(yml, section)
        if labels is None:
            raise ModelError(f"{yml}: PostProcess.MultiLabelThreshOutput has no label_list (PaddleX needs it too).")
        threshold = module.threshold if module.threshold is not None else section.get("threshold", 0.5)
        return cls(runner, spec, preprocess, labels, threshold, module.batch_size)

    def thresholds(self, threshold: Any, classes: int) -> np.ndarray:
        """One threshold per class from a number, a mapping with 'default', or a list."""
        from ..errors import ConfigError

        value = check_multilabel_threshold(threshold) if threshold is not None else self.threshold
        if isinstance(value, dict):
            unknown = sorted(k for k in value if k != "default" and k >= classes)
            if unknown:
                raise ConfigError(f"threshold names class ids {unknown}, but {self.spec.name} has {classes} classes.")
            limits = np.full(classes, value["default"], np.float64)
            for key, item in value.items():
                if key != "default":
                    limits[key] = item
            return limits
        if isinstance(value, list):
            if len(value) != classes:
                raise ConfigError(f"threshold has {len(value)} numbers, but {self.spec.name} has {classes} classes "
                                  "(one threshold per class).")
            return np.asarray(value, np.float64)
        return np.full(classes, value, np.float64)

    def predict(self, images: Sequence[np.ndarray], threshold: Any = None,
                times: StageTimes = NULL_TIMES) -> list[tuple[list[int], list[float], list[str]]]:
        if threshold is not None:
            check_multilabel_threshold(threshold)
        return self._classify(images, times, lambda probs: self._over(probs, threshold))

    def _over(self, probs: np.ndarray, threshold: Any) -> list[tuple[list[int], list[float], list[str]]]:
        limits = self.thresholds(threshold, probs.shape[1])
        rows = []
        for row in probs:
            over = row > limits.astype(row.dtype)
            index = np.where(over)[0][np.argsort(-row[over])]
            scores = np.around(row[index].astype(float), decimals=5)
            rows.append(([int(i) for i in index], [float(v) for v in scores], [self.labels[i] for i in index]))
        return rows

    def module_outputs(self, image: np.ndarray, module: Any, times: StageTimes = NULL_TIMES) -> dict[str, Any]:
        [(class_ids, scores, names)] = self.predict([image], module.threshold, times)
        return {"class_ids": class_ids, "scores": scores, "label_names": names}


__all__ = ["ImageClassifier", "MultiLabelClassifier", "check_multilabel_threshold"]
