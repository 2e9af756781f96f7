# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Normalise + HWC→CHW (+ right padding) kernel, C core in hpi_preprocess.c."""

import numpy as np

from cython.parallel cimport prange
from libc.stdint cimport int64_t, uint8_t

cdef extern from "hpi_kernels.h" nogil:
    void hpi_build_norm_lut(float scale, const float *mean, const float *std, float *lut)
    void hpi_normalize_hwc_to_chw(const uint8_t *src, int64_t w, int64_t src_stride, int64_t y0, int64_t y1,
                                  const float *lut, float *dst, int64_t plane, int64_t row)

DEF ROWS_PER_BLOCK = 8
DEF PARALLEL_MIN_PIXELS = 500000


def build_lut(float scale, const float[::1] mean, const float[::1] std):
    """The 3×256 float32 table value → (value * scale - mean[c]) / std[c]."""
    lut_arr = np.empty(3 * 256, dtype=np.float32)
    cdef float[::1] lut = lut_arr
    hpi_build_norm_lut(scale, &mean[0], &std[0], &lut[0])
    return lut_arr


def normalize_into(const uint8_t[:, :, ::1] image, const float[::1] lut, float[:, :, ::1] out, int num_threads=1):
    """Write image (h×w×3 uint8) normalised into out[:, :h, :] (3×H×W float32, H ≥ h, W ≥ w),
    zero-filling columns w..W. GIL released; row blocks in parallel for large images."""
    cdef int64_t h = image.shape[0], w = image.shape[1]
    cdef int64_t plane = out.shape[1] * out.shape[2], row = out.shape[2]
    cdef int64_t blocks = (h + ROWS_PER_BLOCK - 1) // ROWS_PER_BLOCK
    cdef int64_t block, y0, y1
    if image.shape[2] != 3 or out.shape[0] != 3 or out.shape[1] < h or row < w:
        raise ValueError("normalize_into: shapes do not fit")
    if h == 0 or w == 0:
        return
    with nogil:
        for block in prange(blocks, schedule="dynamic", num_threads=max(num_threads, 1),
                            use_threads_if=num_threads > 1 and h * w > PARALLEL_MIN_PIXELS):
            y0 = block * ROWS_PER_BLOCK
            y1 = min(y0 + ROWS_PER_BLOCK, h)
            hpi_normalize_hwc_to_chw(&image[0, 0, 0], w, 3 * w, y0, y1, &lut[0], &out[0, 0, 0], plane, row)


def normalize_batch(list images, const float[::1] lut, float[:, :, :, ::1] out, int num_threads=1):
    """Normalise each h×w×3 uint8 image i into out[i, :, :h, :w], zero-padding the rest of each row.
    All images must have out's height; one parallel pass over every row of the batch."""
    cdef int64_t n = len(images), height = out.shape[2], row = out.shape[3], plane = out.shape[2] * out.shape[3]
    cdef int64_t i, y
    cdef int64_t[::1] widths = np.zeros(max(n, 1), dtype=np.int64)
    cdef const uint8_t[:, :, ::1] view
    if n == 0:
        return
    pointers = np.zeros(n, dtype=np.uintp)
    cdef size_t[::1] ptrs = pointers
    for i in range(n):
        view = images[i]
        if view.shape[0] != height or view.shape[1] > row or view.shape[2] != 3:
            raise ValueError("normalize_batch: image shape does not fit the batch")
        widths[i] = view.shape[1]
        ptrs[i] = <size_t>&view[0, 0, 0]
    with nogil:
        for i in prange(n * height, schedule="dynamic", chunksize=16, num_threads=max(num_threads, 1),
                       use_threads_if=num_threads > 1 and n * height * row > PARALLEL_MIN_PIXELS):
            hpi_normalize_hwc_to_chw(<const uint8_t *>ptrs[i // height], widths[i // height], 3 * widths[i // height],
                                     i % height, i % height + 1, &lut[0], &out[i // height, 0, 0, 0], plane, row)
