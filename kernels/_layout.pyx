# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""PicoDet layout decode kernel (C core in hpi_layout.c); the Python face is hpi.kernels._compiled."""

import numpy as np

from libc.stdint cimport int32_t, int64_t
from libc.stdlib cimport free, malloc

cdef extern from "hpi_kernels.h" nogil:
    ctypedef struct hpi_picodet_params:
        int num_classes
        int reg_bins
        double scale_x
        double scale_y
        float score_threshold
        float nms_threshold
        int nms_top_k
        int keep_top_k
    int64_t hpi_picodet_decode(const float *const *scores, const float *const *regs, const int32_t *strides,
                               const int32_t *grid_h, const int32_t *grid_w, int n_levels,
                               const hpi_picodet_params *params, float *out)


def picodet_decode(list scores, list regs, list grids, list strides, int classes, int bins, double scale_x,
                   double scale_y, float score_threshold, float nms_threshold, int nms_top_k, int keep_top_k):
    """Validated C-contiguous float32 levels (see _reference_layout) → N×6 float32 rows, GIL released."""
    cdef int n_levels = len(scores)
    cdef int64_t anchors = sum(g[0] * g[1] for g in grids)
    cdef int64_t capacity = keep_top_k if keep_top_k > 0 else anchors * classes
    out_arr = np.zeros((max(capacity, 1), 6), dtype=np.float32)
    cdef float[:, ::1] out = out_arr
    strides_arr = np.asarray(strides, dtype=np.int32)
    grid_h_arr = np.asarray([g[0] for g in grids], dtype=np.int32)
    grid_w_arr = np.asarray([g[1] for g in grids], dtype=np.int32)
    cdef int32_t[::1] strides_v = strides_arr
    cdef int32_t[::1] grid_h = grid_h_arr
    cdef int32_t[::1] grid_w = grid_w_arr
    cdef const float **score_ptrs = <const float **>malloc(n_levels * sizeof(float *))
    cdef const float **reg_ptrs = <const float **>malloc(n_levels * sizeof(float *))
    cdef const float[:, ::1] view
    cdef hpi_picodet_params params
    cdef int64_t count
    cdef int level
    if score_ptrs == NULL or reg_ptrs == NULL:
        free(score_ptrs)
        free(reg_ptrs)
        raise MemoryError("picodet_decode: out of memory")
    try:
        for level in range(n_levels):
            view = scores[level]
            score_ptrs[level] = &view[0, 0]
            view = regs[level]
            reg_ptrs[level] = &view[0, 0]
        params.num_classes = classes
        params.reg_bins = bins
        params.scale_x = scale_x
        params.scale_y = scale_y
        params.score_threshold = score_threshold
        params.nms_threshold = nms_threshold
        params.nms_top_k = nms_top_k
        params.keep_top_k = keep_top_k
        with nogil:
            count = hpi_picodet_decode(score_ptrs, reg_ptrs, &strides_v[0], &grid_h[0], &grid_w[0], n_levels,
                                       &params, &out[0, 0])
    finally:
        free(score_ptrs)
        free(reg_ptrs)
    if count < 0:
        raise MemoryError("picodet_decode: out of memory")
    return out_arr[:count].copy()
