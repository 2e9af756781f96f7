# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Document unwarping kernel (grid upsampling + bilinear resampling), C core in hpi_unwarp.c."""

from cython.parallel cimport prange
from libc.stdint cimport int64_t, uint8_t

cdef extern from "hpi_kernels.h" nogil:
    int hpi_unwarp_rows(const uint8_t *image, int64_t h, int64_t w, int64_t channels, const float *grid,
                        int64_t gh, int64_t gw, int64_t out_h, int64_t out_w, int64_t y0, int64_t y1, uint8_t *out)

DEF ROWS_PER_BLOCK = 16
DEF PARALLEL_MIN_PIXELS = 500000


def unwarp_into(const uint8_t[:, :, ::1] image, const float[:, :, ::1] grid, uint8_t[:, :, ::1] out,
                int num_threads=1):
    """Resample image (h×w×c uint8) through grid (2×gh×gw, normalised x/y) into out (H×W×c).
    GIL released; row blocks in parallel for large pages. Raises MemoryError if a buffer fails."""
    cdef int64_t h = image.shape[0], w = image.shape[1], c = image.shape[2]
    cdef int64_t gh = grid.shape[1], gw = grid.shape[2], out_h = out.shape[0], out_w = out.shape[1]
    cdef int64_t blocks = (out_h + ROWS_PER_BLOCK - 1) // ROWS_PER_BLOCK
    cdef int64_t block, y0, y1
    cdef int failed = 0
    if grid.shape[0] != 2 or out.shape[2] != c or gh < 1 or gw < 1:
        raise ValueError("unwarp_into: shapes do not fit")
    if out_h == 0 or out_w == 0:
        return
    with nogil:
        for block in prange(blocks, schedule="dynamic", num_threads=max(num_threads, 1),
                            use_threads_if=num_threads > 1 and out_h * out_w > PARALLEL_MIN_PIXELS):
            y0 = block * ROWS_PER_BLOCK
            y1 = min(y0 + ROWS_PER_BLOCK, out_h)
            # an in-place sum is a reduction in prange (a plain assignment would be lastprivate)
            failed += hpi_unwarp_rows(&image[0, 0, 0], h, w, c, &grid[0, 0, 0], gh, gw, out_h, out_w, y0, y1,
                                      &out[0, 0, 0]) != 0
    if failed:
        raise MemoryError("unwarp_into: could not allocate a row buffer")
