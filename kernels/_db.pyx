# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""DB post-processing kernels (C core in hpi_db.c). The Python face is hpi.kernels._compiled."""

import cv2
import numpy as np

from libc.stdint cimport int32_t, int64_t, uint8_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy

cdef extern from "hpi_kernels.h" nogil:
    ctypedef struct hpi_rotated_rect:
        float cx, cy, width, height, angle
    ctypedef struct hpi_db_params:
        double box_thresh
        double unclip_ratio
        int slow_score
        int src_h, src_w
    size_t hpi_min_area_rect_work_size(int64_t n)
    int hpi_min_area_rect(const int32_t *xy, int64_t n, void *work, hpi_rotated_rect *rect)
    int hpi_convex_hull(const int32_t *xy, int64_t n, int *hull, int *work)
    void hpi_box_points(const hpi_rotated_rect *rect, float *corners)
    void hpi_order_mini_box(const float *corners, float *ordered)
    size_t hpi_fill_work_size(int64_t n, int64_t rows)
    double hpi_polygon_mean(const float *prob, int64_t stride, const int32_t *xy, int64_t n, int64_t x0, int64_t y0,
                            int64_t x1, int64_t y1, uint8_t *mask_buf, void *work)
    int64_t hpi_offset_capacity(int64_t n, double delta)
    int64_t hpi_offset_polygon(const float *xy, int64_t n, double delta, int32_t *out)
    void hpi_order_points_clockwise(const float *pts, float *out)
    double hpi_db_score_fast(const float *prob, int64_t h, int64_t w, const float *box, uint8_t *mask, void *work)
    double hpi_db_score_slow(const float *prob, int64_t h, int64_t w, const int32_t *contour, int64_t n, int32_t *local,
                             uint8_t *mask, void *work)
    int64_t hpi_db_unclip(const float *box, double unclip_ratio, int32_t *out)
    int hpi_db_finish_box(const float *box, int64_t h, int64_t w, int src_h, int src_w, int32_t *out)
    int hpi_threshold_map(const float *prob, int64_t count, float thresh, uint8_t *bitmap)
    int64_t hpi_db_quads(const float *prob, int64_t h, int64_t w, const int32_t *points, const int64_t *offsets,
                         int64_t num_contours, const hpi_db_params *params, int32_t *boxes, float *scores)


def threshold_map(const float[:, ::1] prob, float thresh):
    """(prob > thresh) as a 0/255 uint8 bitmap, and whether the map has NaN/Inf. GIL released."""
    bitmap_arr = np.empty((prob.shape[0], prob.shape[1]), dtype=np.uint8)
    cdef uint8_t[:, ::1] bitmap = bitmap_arr
    cdef int bad = 0
    cdef int64_t count = prob.shape[0] * prob.shape[1]
    if count:
        with nogil:
            bad = hpi_threshold_map(&prob[0, 0], count, thresh, &bitmap[0, 0])
    return bitmap_arr, bool(bad)


def quads(const float[:, ::1] prob, contours, int64_t max_candidates, double box_thresh, double unclip_ratio,
          bint slow_score, int src_h, int src_w):
    """Boxes from contours (cv2.findContours output) with PaddleOCR boxes_from_bitmap semantics.

    Minimum-area rectangles come from cv2.minAreaRect (OpenCV 4.13 changed its arithmetic, and
    the boxes are truncated to integers right after, so only OpenCV itself gives the reference's
    pixels); corners (bit-identical to cv2.boxPoints), ordering, scores, the unclip offset,
    rescaling and filtering are C, run with the GIL released. Returns (boxes N×4×2 int32, scores N float32).
    """
    cdef int64_t h = prob.shape[0], w = prob.shape[1]
    cdef int64_t n = min(len(contours), max_candidates)
    cdef int64_t i, k = 0, count, longest = 4
    cdef double score
    cdef float box[8]
    cdef int32_t out[8]
    cdef float corners[8]
    cdef hpi_rotated_rect rect
    cdef const int32_t[:, :, ::1] contour
    cdef int32_t[:, ::1] offset_points
    cdef int32_t[::1] local
    cdef uint8_t[::1] mask
    cdef void *work = NULL
    boxes_arr = np.empty((max(n, 0), 4, 2), dtype=np.int32)
    scores_arr = np.empty(max(n, 0), dtype=np.float32)
    cdef int32_t[:, :, ::1] boxes = boxes_arr
    cdef float[::1] scores = scores_arr
    if n <= 0 or h == 0 or w == 0:
        return boxes_arr[:0], scores_arr[:0]
    if slow_score:
        for i in range(n):
            longest = max(longest, <int64_t>len(contours[i]))
    # Largest offset: distance = area * ratio / perimeter <= (short side / 2) * ratio.
    offset_arr = np.empty((hpi_offset_capacity(4, max(h, w) * max(unclip_ratio, 0.0) / 2 + 2), 2), dtype=np.int32)
    offset_points = offset_arr
    local_arr = np.empty(2 * longest + 8, dtype=np.int32)
    local = local_arr
    mask_arr = np.zeros(h * w + 1, dtype=np.uint8)
    mask = mask_arr
    min_area_rect = cv2.minAreaRect
    work = malloc(hpi_fill_work_size(longest + 4, h + 1))
    if work == NULL:
        raise MemoryError()
    try:
        for i in range(n):
            contour_obj = contours[i]
            (rect.cx, rect.cy), (rect.width, rect.height), rect.angle = min_area_rect(contour_obj)
            if min(rect.width, rect.height) < 3:
                continue
            if slow_score:
                contour = contour_obj
                with nogil:
                    hpi_box_points(&rect, corners)
                    hpi_order_mini_box(corners, box)
                    score = hpi_db_score_slow(&prob[0, 0], h, w, &contour[0, 0, 0], contour.shape[0], &local[0],
                                              &mask[0], work)
            else:
                with nogil:
                    hpi_box_points(&rect, corners)
                    hpi_order_mini_box(corners, box)
                    score = hpi_db_score_fast(&prob[0, 0], h, w, box, &mask[0], work)
            if box_thresh > score:
                continue
            with nogil:
                count = hpi_db_unclip(box, unclip_ratio, &offset_points[0, 0])
            if count == 0:
                continue
            (rect.cx, rect.cy), (rect.width, rect.height), rect.angle = min_area_rect(offset_arr[:count])
            if min(rect.width, rect.height) < 5:
                continue
            with nogil:
                hpi_box_points(&rect, corners)
                hpi_order_mini_box(corners, box)
                if hpi_db_finish_box(box, h, w, src_h, src_w, out):
                    memcpy(&boxes[k, 0, 0], out, 8 * sizeof(int32_t))
                    scores[k] = <float>score
                    k += 1
    finally:
        free(work)
    return boxes_arr[:k], scores_arr[:k]


def quads_c(const float[:, ::1] prob, const int32_t[:, ::1] points, const int64_t[::1] offsets,
            double box_thresh, double unclip_ratio, bint slow_score, int src_h, int src_w):
    """The all-C pipeline (hpi_db_quads, C min-area rectangles) the shared library exposes to C users.

    Same output as quads() up to OpenCV-version float differences in the min-area rectangles."""
    cdef int64_t num = offsets.shape[0] - 1
    boxes_arr = np.empty((max(num, 0), 4, 2), dtype=np.int32)
    scores_arr = np.empty(max(num, 0), dtype=np.float32)
    cdef int32_t[:, :, ::1] boxes = boxes_arr
    cdef float[::1] scores = scores_arr
    cdef hpi_db_params params
    cdef int64_t kept = 0
    params.box_thresh = box_thresh
    params.unclip_ratio = unclip_ratio
    params.slow_score = slow_score
    params.src_h = src_h
    params.src_w = src_w
    if num <= 0 or prob.shape[0] == 0 or prob.shape[1] == 0 or points.shape[0] == 0:
        return boxes_arr[:0], scores_arr[:0]
    with nogil:
        kept = hpi_db_quads(&prob[0, 0], prob.shape[0], prob.shape[1], &points[0, 0], &offsets[0], num, &params,
                            &boxes[0, 0, 0], &scores[0])
    if kept < 0:
        raise MemoryError("db_decode: out of memory")
    return boxes_arr[:kept], scores_arr[:kept]


# ---- single steps, exposed so the tests can compare them bit for bit with OpenCV / pyclipper


def min_area_rect(const int32_t[:, ::1] points):
    """((cx, cy), (w, h), angle) as cv2.minAreaRect for integer points."""
    cdef hpi_rotated_rect rect
    cdef int64_t n = points.shape[0]
    cdef void *work
    cdef int rc
    if n == 0:
        raise ValueError("min_area_rect needs at least one point")
    work = malloc(hpi_min_area_rect_work_size(n))
    if work == NULL:
        raise MemoryError()
    rc = hpi_min_area_rect(&points[0, 0], n, work, &rect)
    free(work)
    if rc != 0:
        raise ValueError("min_area_rect: degenerate hull")
    return (rect.cx, rect.cy), (rect.width, rect.height), rect.angle


def box_points(rect):
    """cv2.boxPoints for ((cx, cy), (w, h), angle), float32 4×2."""
    cdef hpi_rotated_rect r
    (r.cx, r.cy), (r.width, r.height), r.angle = rect
    out_arr = np.empty((4, 2), dtype=np.float32)
    cdef float[:, ::1] out = out_arr
    hpi_box_points(&r, &out[0, 0])
    return out_arr


def mini_box(const int32_t[:, ::1] points):
    """PaddleOCR get_mini_boxes: (ordered 4×2 float32 box, shorter side)."""
    rect = min_area_rect(points)
    corners = box_points(rect)
    out_arr = np.empty((4, 2), dtype=np.float32)
    cdef float[:, ::1] out = out_arr
    cdef float[:, ::1] c = corners
    hpi_order_mini_box(&c[0, 0], &out[0, 0])
    return out_arr, min(rect[1])


def polygon_mean(const float[:, ::1] prob, const int32_t[:, ::1] xy, int64_t x0, int64_t y0, int64_t x1, int64_t y1):
    """cv2.mean(prob[y0:y1+1, x0:x1+1], mask) with mask = cv2.fillPoly(zeros, [xy], 1)."""
    cdef int64_t n = xy.shape[0]
    mask = np.zeros((y1 - y0 + 1) * (x1 - x0 + 1) + 1, dtype=np.uint8)
    cdef uint8_t[::1] m = mask
    cdef void *work = malloc(hpi_fill_work_size(n + 1, y1 - y0 + 1))
    cdef double value
    if work == NULL:
        raise MemoryError()
    value = hpi_polygon_mean(&prob[0, 0], prob.shape[1], &xy[0, 0], n, x0, y0, x1, y1, &m[0], work)
    free(work)
    return value


def offset_polygon(const float[:, ::1] xy, double delta):
    """pyclipper PyclipperOffset (JT_ROUND, ET_CLOSEDPOLYGON).Execute(delta) points, before the union."""
    cdef int64_t cap = hpi_offset_capacity(xy.shape[0], delta)
    out_arr = np.empty((cap, 2), dtype=np.int32)
    cdef int32_t[:, ::1] out = out_arr
    cdef int64_t count = hpi_offset_polygon(&xy[0, 0], xy.shape[0], delta, &out[0, 0])
    if count < 0:
        raise ValueError("offset_polygon: too many vertices")
    return out_arr[:count]


def order_points_clockwise(const float[:, ::1] pts):
    out_arr = np.empty((4, 2), dtype=np.float32)
    cdef float[:, ::1] out = out_arr
    hpi_order_points_clockwise(&pts[0, 0], &out[0, 0])
    return out_arr


def convex_hull(const int32_t[:, ::1] points):
    """Indices of the clockwise hull, in cv2.convexHull(points, clockwise=True) order."""
    cdef int64_t n = points.shape[0]
    hull_arr = np.empty(max(n, 1), dtype=np.intc)
    work_arr = np.empty(3 * n + 2, dtype=np.intc)
    cdef int[::1] hull = hull_arr
    cdef int[::1] work = work_arr
    if n == 0:
        return hull_arr[:0]
    cdef int count = hpi_convex_hull(&points[0, 0], n, &hull[0], &work[0])
    return hull_arr[:count]
