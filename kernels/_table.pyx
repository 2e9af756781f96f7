# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Table structure decode and OCR-to-cell matching (C core in hpi_table.c); the face is hpi.kernels._compiled."""

import numpy as np

from libc.stdint cimport int32_t, int64_t, uint8_t

cdef extern from "hpi_kernels.h" nogil:
    int64_t hpi_table_decode(const float *probs, const float *loc, int64_t steps, int64_t classes, int64_t loc_dims,
                             const uint8_t *td_mask, int32_t beg_idx, int32_t end_idx, double scale_x,
                             double scale_y, int32_t *tokens, int32_t *boxes, int64_t *n_boxes, double *score,
                             int *has_nan)
    void hpi_match_cells(const double *cells, int64_t n_cells, const double *ocr, int64_t n_ocr, int32_t *out)


def decode(const float[:, ::1] probs, const float[:, ::1] loc, const uint8_t[::1] td_mask, int beg_idx,
           int end_idx, double scale_x, double scale_y):
    """(tokens int32, score, boxes K×8 int32, has_nan) of one table, GIL released."""
    cdef int64_t steps = probs.shape[0], classes = probs.shape[1], loc_dims = loc.shape[1]
    tokens_arr = np.empty(max(steps, 1), dtype=np.int32)
    boxes_arr = np.empty((max(steps, 1), 8), dtype=np.int32)
    cdef int32_t[::1] tokens = tokens_arr
    cdef int32_t[:, ::1] boxes = boxes_arr
    cdef int64_t n_tokens = 0, n_boxes = 0
    cdef double score = 0.0
    cdef int has_nan = 0
    if steps == 0:
        return tokens_arr[:0], 0.0, boxes_arr[:0], False
    with nogil:
        n_tokens = hpi_table_decode(&probs[0, 0], &loc[0, 0], steps, classes, loc_dims, &td_mask[0], beg_idx,
                                    end_idx, scale_x, scale_y, &tokens[0], &boxes[0, 0], &n_boxes, &score,
                                    &has_nan)
    return tokens_arr[:n_tokens], score, boxes_arr[:n_boxes], bool(has_nan)


def match(const double[:, ::1] cells, const double[:, ::1] ocr):
    """For each OCR box, the index of its best cell (-1 with no cells), GIL released."""
    cdef int64_t n_cells = cells.shape[0], n_ocr = ocr.shape[0]
    out_arr = np.full(n_ocr, -1, dtype=np.int32)
    cdef int32_t[::1] out = out_arr
    if n_ocr == 0 or n_cells == 0:
        return out_arr
    with nogil:
        hpi_match_cells(&cells[0, 0], n_cells, &ocr[0, 0], n_ocr, &out[0])
    return out_arr
