"""Text recognition (CTC): batches sorted by aspect ratio → rec model → greedy decode."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .. import kernels
from ..backends.base import Runner
from ..models.registry import ModelSpec
from ..models import inference_yml
from ..models.resolve import locate_model
from ..timing import NULL_TIMES, StageTimes
from .base import Predictor


# Largest batch as input columns at height 48 (batch size × padded width). Sorting by aspect ratio
# already keeps padding small; this cap stops a batch of very long lines (a page of 1200 px wide
# crops) from allocating batch_size × 1200 columns of activations at once: measured, the same speed
# and a lower peak RSS (benchmarks/README.md, "Levers").
MAX_BATCH_WIDTH = 3840
# Round batch widths up to a multiple of this (1: off). OpenVINO keeps memory per input shape it
# has seen: with 128-column buckets the peak RSS over the compare set fell by ~390 MB, at equal
# speed and equal or better accuracy (benchmarks/README.md, "Levers").
WIDTH_BUCKET = 128


def characters_from_model_dir(model_dir: str | Path) -> list[str] | None:
    """The characters listed in a PaddleX rec model dir's inference.yml (PostProcess.character_dict)."""
    yml = Path(model_dir) / "inference.yml"
    return inference_yml.read_facts(yml).get("characters") if yml.is_file() else None


def load_characters(dict_path: Path, use_space_char: bool = True) -> list[str]:
    lines = dict_path.read_text(encoding="utf-8").splitlines()
    return kernels.build_ctc_characters(lines, use_space_char=use_space_char)


class TextRecognizer(Predictor):
    """``predict(crops)`` returns [(text, score)] in the order of ``crops``.

    Crops are sorted by width/height so each batch pads little (PaddleX does
    the same), and batch results are put back in input order. A batch holds at
    most ``batch_size`` crops and at most ``max_batch_width`` input columns in
    all, so long lines go in smaller batches.
    """

    stage = "rec"

    def __init__(
        self, runner: Runner, spec: ModelSpec, characters: list[str], batch_size: int = 6,
        max_batch_width: int = MAX_BATCH_WIDTH, width_bucket: int = WIDTH_BUCKET,
    ) -> None:
        super().__init__(runner, spec)
        self.characters = characters
        self.batch_size = batch_size
        self.max_batch_width = max_batch_width
        self.width_bucket = width_bucket
        self.image_shape = tuple(spec.postprocess.get("image_shape", (3, 48, 320)))
        # Runners with fixed shape limits (TensorRT profiles) bound the batch and the width: wider
        # lines are squeezed to the widest width the engine takes rather than failing.
        self.max_width: int | None = None
        if self.max_input_shape:
            self.batch_size = max(1, min(self.batch_size, int(self.max_input_shape[0])))
            self.max_width = int(self.max_input_shape[3])

    @classmethod
    def from_module(cls, runner: Runner, spec: ModelSpec, module, artifacts=None) -> "TextRecognizer":
        """Characters from the model dir's ``inference.yml`` (PaddleX's list, verbatim), else the ONNX file's
        own ``character`` metadata (conversions such as RapidOCR's carry it), else the model's dict file."""
        use_space = bool(spec.postprocess.get("use_space_char", True))
        listed = characters_from_model_dir(module.model_dir) if module.model_dir and Path(module.model_dir).is_dir() \
            else None
        if listed is None and module.model_dir and artifacts is not None and artifacts.onnx_path is not None:
            listed = inference_yml.onnx_characters(artifacts.onnx_path)
        if listed is not None:
            # PaddleX uses the list verbatim; a list that already ends with the space gets no second one.
            characters = kernels.build_ctc_characters(listed, use_space_char=use_space and listed[-1] != " ")
        else:
            dict_path = (artifacts.extra_files.get("dict") if artifacts is not None else None) or locate_model(
                type(module)().model_name
            ).extra_files["dict"]
            characters = load_characters(dict_path, use_space)
        return cls(runner, spec, characters, module.batch_size)

    def batches(self, crops: Sequence[np.ndarray]) -> list[tuple[np.ndarray, int]]:
        """(crop indices, batch width) per batch: crops sorted by aspect ratio, at most ``batch_size``
        per batch and at most ``max_batch_width`` input columns in all (batch size × width)."""
        channels, height, min_width = self.image_shape
        ratios = np.asarray([c.shape[1] / max(1, c.shape[0]) for c in crops], dtype=np.float64)
        order = np.argsort(ratios, kind="stable")
        out: list[tuple[np.ndarray, int]] = []
        current: list[int] = []
        width = min_width
        for index in order:
            # Sorted ascending: the crop being added is the widest, so it sets the batch width.
            needed = self._bucketed(max(min_width, int(height * ratios[index])))
            if current and (len(current) == self.batch_size or (len(current) + 1) * needed > self.max_batch_width):
                out.append((np.asarray(current), width))
                current = []
            current.append(int(index))
            width = needed
        if current:
            out.append((np.asarray(current), width))
        return out

    def _bucketed(self, width: int) -> int:
        if self.width_bucket <= 1:
            return width
        return -(-width // self.width_bucket) * self.width_bucket

    def module_outputs(self, image: np.ndarray, module: Any, times: StageTimes = NULL_TIMES) -> dict[str, Any]:
        """PaddleX's text_recognition module: the image is one text line."""
        [(text, score)] = self.predict([image], times)
        return {"rec_text": text, "rec_score": float(score)}

    def predict(self, crops: Sequence[np.ndarray], times: StageTimes = NULL_TIMES) -> list[tuple[str, float]]:
        results: list[tuple[str, float]] = [("", 0.0)] * len(crops)
        channels, height, _ = self.image_shape
        for indices, width in self.batches(crops):
            batch = [crops[i] for i in indices]
            squeeze = self.max_width is not None and width > self.max_width
            with times.stage("rec.pre"):
                # A batch width at least as wide as the widest crop's: rec_preprocess pads to it.
                tensor = kernels.rec_preprocess(
                    batch, (channels, height, self.max_width if squeeze else width),
                    self.spec.mean, self.spec.std, self.spec.scale, dynamic_width=not squeeze,
                )
            probs = self.run(tensor, times)
            with times.stage("rec.post"):
                decoded = kernels.ctc_decode(probs, self.characters)
            for i, item in zip(indices, decoded):
                results[int(i)] = (item[0], float(item[1]))
        return results
