# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""CTC greedy decoding kernel (C core in hpi_ctc.c); the Python face is hpi.kernels._compiled."""

import numpy as np

from cython.parallel cimport prange
from libc.stdint cimport int32_t, int64_t

cdef extern from "hpi_kernels.h" nogil:
    int hpi_ctc_argmax_rows(const float *probs, int64_t rows, int64_t classes, int32_t *indices, float *max_probs)
    int64_t hpi_ctc_collapse(const int32_t *indices, const float *max_probs, int64_t steps, int32_t *out, double *score)

# Rows handed to one thread at a time: big enough to amortise scheduling, small enough to balance.
DEF ROWS_PER_BLOCK = 16
# Below this many floats a thread team costs more than it saves.
DEF PARALLEL_MIN_ELEMENTS = 4000000


def argmax_collapse(const float[:, :, ::1] probs, int num_threads=1):
    """Fused argmax / max / collapse over an N×T×C float32 batch, GIL released, rows in parallel.

    Returns ``(kept, counts, scores, has_nan)``: ``kept[b, :counts[b]]`` are the kept class
    indices of item b, ``scores[b]`` their mean max-probability.
    """
    cdef int64_t n = probs.shape[0], t = probs.shape[1], c = probs.shape[2]
    cdef int64_t rows = n * t
    cdef int64_t blocks = (rows + ROWS_PER_BLOCK - 1) // ROWS_PER_BLOCK
    indices_arr = np.empty(max(rows, 1), dtype=np.int32)
    max_arr = np.empty(max(rows, 1), dtype=np.float32)
    kept_arr = np.empty((n, max(t, 1)), dtype=np.int32)
    counts_arr = np.zeros(n, dtype=np.int64)
    scores_arr = np.zeros(n, dtype=np.float64)
    nan_arr = np.zeros(max(blocks, 1), dtype=np.int32)
    cdef int32_t[::1] indices = indices_arr
    cdef float[::1] max_probs = max_arr
    cdef int32_t[:, ::1] kept = kept_arr
    cdef int64_t[::1] counts = counts_arr
    cdef double[::1] scores = scores_arr
    cdef int32_t[::1] nan_flags = nan_arr
    cdef int64_t block, start, count, b
    cdef const float *base
    if rows == 0 or c == 0:
        return kept_arr, counts_arr, scores_arr, False
    base = &probs[0, 0, 0]
    with nogil:
        for block in prange(blocks, schedule="dynamic", num_threads=max(num_threads, 1),
                            use_threads_if=num_threads > 1 and rows * c > PARALLEL_MIN_ELEMENTS):
            start = block * ROWS_PER_BLOCK
            count = min(ROWS_PER_BLOCK, rows - start)
            nan_flags[block] = hpi_ctc_argmax_rows(base + start * c, count, c, &indices[start], &max_probs[start])
        for b in range(n):
            counts[b] = hpi_ctc_collapse(&indices[b * t], &max_probs[b * t], t, &kept[b, 0], &scores[b])
    return kept_arr, counts_arr, scores_arr, bool(nan_arr.any())
