"""Pre- and post-processing kernels of the pipelines: compiled, or their pure-Python references.

Public API (same signatures in both backends)::

    det_preprocess(image, limit_side_len=960, limit_type="max", max_side_limit=4000, mean, std, scale, out=None)
        -> (tensor 1×3×h×w float32, ratio_h, ratio_w)
    db_decode(prob, src_h, src_w, thresh=0.3, box_thresh=0.6, max_candidates=1000, unclip_ratio=1.5,
              score_mode="fast", box_type="quad", use_dilation=False) -> (boxes, scores)
    ctc_decode(probs N×T×C, characters) -> [(text, score), ...]
    build_ctc_characters(dict_lines, use_space_char=True) -> ["blank", ..., " "]
    rec_preprocess(crops, image_shape=(3, 48, 320), mean, std, scale, dynamic_width=True) -> N×3×48×W float32
    classify_preprocess(image, resize_short=256, crop_size=(224, 224), mean, std, scale, rgb=True) -> 1×3×h×w
    paddlex_normalize(image, scale, mean, std) -> 3×h×w float32 (PaddleX's Normalize arithmetic, then CHW)
    crop_text_regions(image, boxes) -> [crop, ...]
    unwarp_page(image, grid 2×gh×gw) -> image unwarped through UVDoc's grid (same size, uint8)
    table_preprocess(image, max_side=488, mean, std, scale) -> (1×3×488×488 float32, (resized_h, resized_w))
    table_decode(probs T×C, loc T×8|T×4, td_mask, beg_idx, end_idx, scale_x, scale_y)
        -> (tokens int32, score, cell boxes K×8 int32)
    match_cells_ocr(cell_boxes M×4, ocr_boxes N×4) -> int32 cell index per OCR box
    rectify_curved_text(image, polygon N×2) -> h×w×3 uint8 (a curved text band straightened)
    remove_dark_ink(image, max_value=160, min_saturation=70, ink_min_value=60) -> (image, ink share)
    picodet_decode(scores, boxes, input_hw, image_hw, strides=(8, 16, 32, 64), score_threshold=0.025,
                   nms_threshold=0.6, nms_top_k=1000, keep_top_k=100) -> N×6 (class, score, x1, y1, x2, y2)
    csv_columns(body, width, lines) -> [int64 | float64 | fixed-width bytes array per column] or None

``BACKEND`` says which implementation is in use: ``"compiled"`` (Cython/C modules built from
``kernels/``) or ``"reference"`` (``hpi.kernels._reference``, numpy/OpenCV). ``HPI_PURE_PYTHON=1``
forces the reference; if the compiled modules are missing the reference is used with one warning.
Every compiled kernel releases the GIL; ``HPI_KERNEL_THREADS=N`` (default 1) also splits large
calls over N OpenMP threads. Both backends raise ``hpi.errors.InputError`` for unusable inputs.
"""

from __future__ import annotations

import warnings

from . import _reference

__all__ = ["BACKEND", *_reference.__all__]


def _load():
    from ..env import env_flag

    if env_flag("HPI_PURE_PYTHON", False):
        return _reference, "reference"
    try:
        from . import _compiled
    except ImportError as exc:
        warnings.warn(
            f"hpi's compiled kernels are not available ({exc}); using the slower pure-Python references. "
            "Reinstall hpi with a C compiler and Cython (pip install -e . --no-build-isolation) to build them.",
            RuntimeWarning,
            stacklevel=3,
        )
        return _reference, "reference"
    return _compiled, "compiled"


_impl, BACKEND = _load()

det_preprocess = _impl.det_preprocess
rec_preprocess = _impl.rec_preprocess
classify_preprocess = _impl.classify_preprocess
crop_text_regions = _impl.crop_text_regions
db_decode = _impl.db_decode
ctc_decode = _impl.ctc_decode
picodet_decode = _impl.picodet_decode
rectify_curved_text = _impl.rectify_curved_text
remove_dark_ink = _impl.remove_dark_ink
table_preprocess = _impl.table_preprocess
table_decode = _impl.table_decode
match_cells_ocr = _impl.match_cells_ocr
unwarp_page = _impl.unwarp_page
paddlex_normalize = _impl.paddlex_normalize
csv_columns = _impl.csv_columns
build_ctc_characters = _reference.build_ctc_characters
