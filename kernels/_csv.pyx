# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Plain CSV columns (C core in hpi_csv.c); the Python face is hpi.kernels._compiled.csv_columns."""

import numpy as np

from libc.stdint cimport int64_t, uint8_t

cdef extern from "hpi_kernels.h" nogil:
    int64_t hpi_csv_split(const uint8_t *data, int64_t size, int64_t width, int64_t *starts, int64_t *ends,
                          int64_t capacity)
    int hpi_csv_numbers(const uint8_t *data, const int64_t *starts, const int64_t *ends, int64_t rows,
                        int64_t width, int64_t column, int64_t *ints, double *floats)
    int64_t hpi_csv_longest(const int64_t *starts, const int64_t *ends, int64_t rows, int64_t width,
                            int64_t column)
    void hpi_csv_gather(const uint8_t *data, const int64_t *starts, const int64_t *ends, int64_t rows,
                        int64_t width, int64_t column, int64_t itemsize, uint8_t *out)
    int HPI_CSV_INT, HPI_CSV_FLOAT, HPI_CSV_TEXT, HPI_CSV_OUT_OF_RANGE


def csv_columns(const uint8_t[::1] body, int64_t width, int64_t lines):
    """The columns of a quote-free CSV body of ``lines`` lines (see hpi.kernels._reference_csv), GIL released
    while scanning and parsing."""
    cdef int64_t capacity = lines * width
    starts_arr = np.empty(max(capacity, 1), np.int64)
    ends_arr = np.empty(max(capacity, 1), np.int64)
    cdef int64_t[::1] starts = starts_arr
    cdef int64_t[::1] ends = ends_arr
    cdef int64_t size = body.shape[0], rows, column, longest
    cdef int kind
    cdef const uint8_t *data = &body[0] if size else NULL
    cdef int64_t[::1] ints
    cdef double[::1] floats
    cdef uint8_t[::1] text
    if size == 0 or width < 1:
        return None
    with nogil:
        rows = hpi_csv_split(data, size, width, &starts[0], &ends[0], capacity)
    if rows != lines:
        return None
    columns = []
    ints_arr = np.empty(rows, np.int64)
    floats_arr = np.empty(rows, np.float64)
    ints = ints_arr
    floats = floats_arr
    for column in range(width):
        with nogil:
            kind = hpi_csv_numbers(data, &starts[0], &ends[0], rows, width, column, &ints[0], &floats[0])
        if kind == HPI_CSV_INT:
            columns.append(ints_arr.copy())
        elif kind == HPI_CSV_FLOAT:
            columns.append(floats_arr.copy())
        elif kind == HPI_CSV_OUT_OF_RANGE:
            return None
        else:
            longest = hpi_csv_longest(&starts[0], &ends[0], rows, width, column)
            out = np.empty(rows, f"S{longest}")
            text = out.view(np.uint8)
            with nogil:
                hpi_csv_gather(data, &starts[0], &ends[0], rows, width, column, longest, &text[0])
            columns.append(out)
    return columns
