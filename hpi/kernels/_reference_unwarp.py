"""Pure-Python reference of the document unwarping kernel (``unwarp_page``), numpy in float64.

UVDoc predicts a coarse grid (2×45×31: for each point of the flat page, where it lies in the
photographed page, x and y normalised to [-1, 1]). PaddleX's UVDoc (and the UVDoc authors'
``bilinear_unwarping``) upsample it to the page size bilinearly with ``align_corners=True`` and
resample the page with ``grid_sample`` (bilinear, ``align_corners=True``, zeros outside). This
module does exactly that, in the same order of operations as ``kernels/hpi_unwarp.c``, so the
compiled kernel agrees with it to a grey level. (``cv2.resize`` is not used for the upsampling: it
aligns pixel centres, not corners; ``cv2.remap`` quantises positions to 1/32 pixel.)

Rounding: values are rounded half up; PaddleX truncates (``astype(uint8)`` of ``v × 255``), so
its pages are on average half a grey level darker.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from ._validation import _validate_image

__all__ = ["unwarp_page"]


def _validate_grid(grid) -> np.ndarray:
    """A 2×gh×gw float32 C-contiguous grid (a leading batch axis of 1 is dropped)."""
    if not isinstance(grid, np.ndarray):
        raise InputError(f"grid must be a numpy array, got {type(grid).__name__}.")
    if grid.ndim == 4 and grid.shape[0] == 1:
        grid = grid[0]
    if grid.ndim != 3 or grid.shape[0] != 2 or grid.shape[1] < 1 or grid.shape[2] < 1:
        raise InputError(
            f"grid must be 2×gh×gw (x and y planes, as UVDoc's first output), got shape {grid.shape}."
        )
    if not np.issubdtype(grid.dtype, np.floating):
        raise InputError(f"grid must be floating point, got dtype {grid.dtype}.")
    return np.ascontiguousarray(grid, dtype=np.float32)


def _check_unwarp_args(image, grid) -> tuple[np.ndarray, np.ndarray]:
    return _validate_image(image), _validate_grid(grid)


def _corner_aligned(n: int, n_src: int) -> tuple[np.ndarray, np.ndarray]:
    """Per output position: source index i0 (i0 + 1 stays inside) and weight, align_corners=True."""
    scale = (n_src - 1) / (n - 1) if n > 1 else 0.0
    pos = np.arange(n, dtype=np.float64) * scale
    index = np.clip(np.floor(pos).astype(np.int64), 0, max(n_src - 2, 0))
    weight = pos - index if n_src > 1 else np.zeros(n)
    return index, weight


def unwarp_page(image: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """The page ``image`` (H×W×3 uint8 BGR) resampled through UVDoc's ``grid`` (2×gh×gw): H×W×3 uint8.

    Pixel (y, x) of the result is the page sampled at the grid point upsampled to (y, x); points
    outside the page give black (as PaddleX's ``grid_sample`` with zeros padding).
    """
    image, grid = _check_unwarp_args(image, grid)
    h, w = image.shape[:2]
    gh, gw = grid.shape[1:]
    rows, row_w = _corner_aligned(h, gh)
    cols, col_w = _corner_aligned(w, gw)
    g = grid.astype(np.float64)
    next_row, next_col = rows + (1 if gh > 1 else 0), cols + (1 if gw > 1 else 0)
    # rows first, then columns: the compiled kernel's order
    along_rows = g[:, rows, :] * (1.0 - row_w)[None, :, None] + g[:, next_row, :] * row_w[None, :, None]
    full = along_rows[:, :, cols] * (1.0 - col_w) + along_rows[:, :, next_col] * col_w
    px = (full[0] + 1.0) * (0.5 * (w - 1))
    py = (full[1] + 1.0) * (0.5 * (h - 1))
    finite = np.isfinite(px) & np.isfinite(py)
    px, py = np.where(finite, px, -10.0), np.where(finite, py, -10.0)
    fx, fy = np.floor(px), np.floor(py)
    dx, dy = (px - fx)[..., None], (py - fy)[..., None]
    x0, y0 = fx.astype(np.int64), fy.astype(np.int64)

    def corner(ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        inside = (xs >= 0) & (xs < w) & (ys >= 0) & (ys < h)
        values = image[np.clip(ys, 0, h - 1), np.clip(xs, 0, w - 1)].astype(np.float64)
        return values * inside[..., None]

    top = corner(y0, x0) * (1.0 - dx) + corner(y0, x0 + 1) * dx
    bottom = corner(y0 + 1, x0) * (1.0 - dx) + corner(y0 + 1, x0 + 1) * dx
    value = top * (1.0 - dy) + bottom * dy + 0.5
    return np.clip(value, 0.0, 255.0).astype(np.uint8)
