# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Curved text rectification kernel (C core in hpi_curved.c); the Python face is hpi.kernels._compiled."""

import numpy as np

from libc.stdint cimport int64_t, uint8_t

cdef extern from "hpi_kernels.h" nogil:
    int HPI_CURVED_SIDE_POINTS
    int hpi_curved_sides(const double *points, int64_t n, double *top, double *bottom)
    void hpi_curved_size(const double *top, const double *bottom, int64_t *width, int64_t *height)
    void hpi_curved_sample(const uint8_t *image, int64_t h, int64_t w, const double *top, const double *bottom,
                           int64_t out_w, int64_t out_h, uint8_t *out)
    void hpi_remove_dark_ink(const uint8_t *image, int64_t pixels, int max_value, int min_saturation,
                             int ink_min_value, uint8_t *out, int64_t *ink_count, int64_t *dark_count)


def rectify(const uint8_t[:, :, ::1] image, const double[:, ::1] points):
    """The band ``points`` (N×2 float64, N ≥ 4) of ``image`` (H×W×3 uint8) straightened; GIL released.

    Returns the h×w×3 uint8 crop, or None when the outline cannot be resampled (out of memory).
    """
    cdef int64_t n = points.shape[0], h = image.shape[0], w = image.shape[1]
    cdef int64_t out_w = 0, out_h = 0
    cdef int status
    top_arr = np.empty((HPI_CURVED_SIDE_POINTS, 2), dtype=np.float64)
    bottom_arr = np.empty((HPI_CURVED_SIDE_POINTS, 2), dtype=np.float64)
    cdef double[:, ::1] top = top_arr
    cdef double[:, ::1] bottom = bottom_arr
    with nogil:
        status = hpi_curved_sides(&points[0, 0], n, &top[0, 0], &bottom[0, 0])
        if status == 0:
            hpi_curved_size(&top[0, 0], &bottom[0, 0], &out_w, &out_h)
    if status != 0:
        return None
    out_arr = np.empty((out_h, out_w, 3), dtype=np.uint8)
    cdef uint8_t[:, :, ::1] out = out_arr
    with nogil:
        hpi_curved_sample(&image[0, 0, 0], h, w, &top[0, 0], &bottom[0, 0], out_w, out_h, &out[0, 0, 0])
    return out_arr


def remove_dark_ink(const uint8_t[:, :, ::1] image, int max_value, int min_saturation, int ink_min_value):
    """(image with dark unsaturated pixels white, ink pixel count, whitened pixel count); GIL released."""
    cdef int64_t h = image.shape[0], w = image.shape[1], ink = 0, dark = 0
    out_arr = np.empty((h, w, 3), dtype=np.uint8)
    cdef uint8_t[:, :, ::1] out = out_arr
    if h * w == 0:
        return out_arr, 0, 0
    with nogil:
        hpi_remove_dark_ink(&image[0, 0, 0], h * w, max_value, min_saturation, ink_min_value, &out[0, 0, 0],
                            &ink, &dark)
    return out_arr, ink, dark
