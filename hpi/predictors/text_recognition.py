"""Text recognition (CTC): batches sorted by aspect ratio → rec model → greedy decode."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from .. import kernels
from ..backends.base import Runner
from ..models.registry import ModelSpec
from ..timing import NULL_TIMES, StageTimes


def load_characters(dict_path: Path, use_space_char: bool = True) -> list[str]:
    lines = dict_path.read_text(encoding="utf-8").splitlines()
    return kernels.build_ctc_characters(lines, use_space_char=use_space_char)


class TextRecognizer:
    """``predict(crops)`` returns [(text, score)] in the order of ``crops``.

    Crops are sorted by width/height so each batch pads little (PaddleX does
    the same), and batch results are put back in input order.
    """

    def __init__(self, runner: Runner, spec: ModelSpec, characters: list[str], batch_size: int = 6) -> None:
        self.runner = runner
        self.spec = spec
        self.characters = characters
        self.batch_size = batch_size
        self.input_name = runner.input_names[0]
        self.image_shape = tuple(spec.postprocess.get("image_shape", (3, 48, 320)))

    def predict(self, crops: Sequence[np.ndarray], times: StageTimes = NULL_TIMES) -> list[tuple[str, float]]:
        results: list[tuple[str, float]] = [("", 0.0)] * len(crops)
        ratios = [c.shape[1] / max(1, c.shape[0]) for c in crops]
        order = np.argsort(np.asarray(ratios, dtype=np.float64), kind="stable")
        for start in range(0, len(order), self.batch_size):
            indices = order[start:start + self.batch_size]
            batch = [crops[i] for i in indices]
            with times.stage("rec.pre"):
                tensor = kernels.rec_preprocess(batch, self.image_shape, self.spec.mean, self.spec.std, self.spec.scale)
            with times.stage("rec.model"):
                probs = next(iter(self.runner.infer({self.input_name: tensor}).values()))
            with times.stage("rec.post"):
                decoded = kernels.ctc_decode(probs, self.characters)
            for i, item in zip(indices, decoded):
                results[int(i)] = (item[0], float(item[1]))
        return results
