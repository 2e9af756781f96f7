/* hpi kernels: the pure-C part of hpi's OCR pre/post-processing.
 *
 * Built two ways: into the Python extension modules hpi.kernels._ctc/_preprocess/_db
 * (setup.py, Cython wrappers in kernels/_*.pyx) and into a standalone shared library
 * libhpi_kernels (CMakeLists.txt) for C/C++ serving code. No function here touches Python,
 * allocates global state or keeps locks: all are safe to call from many threads at once.
 */
#ifndef HPI_KERNELS_H
#define HPI_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ CTC greedy decode */

/* For rows [0, rows) of a rows×classes float32 matrix: index of the first maximum (as
 * numpy.argmax) and the maximum. Returns 1 if any value is NaN (then the outputs are
 * unspecified), else 0. */
int hpi_ctc_argmax_rows(const float *probs, int64_t rows, int64_t classes, int32_t *indices, float *max_probs);

/* Collapse one sequence of T argmax indices: keep step t when index != 0 (blank) and
 * index != previous index. Writes the kept indices to out (capacity T), returns how many
 * were kept and their mean max-probability in *score (0.0 if none). */
int64_t hpi_ctc_collapse(const int32_t *indices, const float *max_probs, int64_t steps, int32_t *out, double *score);

/* ------------------------------------------------------------------ pre-processing */

/* lut[c*256 + v] = ((float)v * scale - mean[c]) / std[c], in float32 arithmetic (as numpy). */
void hpi_build_norm_lut(float scale, const float mean[3], const float std[3], float lut[3 * 256]);

/* One pass uint8 HWC (3 channels, row stride src_stride bytes) → float32 CHW through lut.
 * Rows [y0, y1) are written to dst[c*plane + y*row + x] for x < w; when row > w the
 * rest of each row (x in [w, row)) is set to 0 (right padding). */
void hpi_normalize_hwc_to_chw(const uint8_t *src, int64_t w, int64_t src_stride, int64_t y0, int64_t y1,
                              const float *lut, float *dst, int64_t plane, int64_t row);

/* ------------------------------------------------------------------ DB post-processing */

/* A rotated rectangle as OpenCV's RotatedRect (centre, size, angle in degrees). */
typedef struct {
    float cx, cy, width, height, angle;
} hpi_rotated_rect;

/* Minimum-area rectangle of n integer points, bit-identical to cv::minAreaRect (convex hull
 * by Sklansky's scan, rotating calipers in float). work needs 3*n+2 ints + 4*n floats
 * (hpi_min_area_rect_work_size(n) bytes). Returns 0, or -1 when n == 0. */
size_t hpi_min_area_rect_work_size(int64_t n);
int hpi_min_area_rect(const int32_t *xy, int64_t n, void *work, hpi_rotated_rect *rect);

/* The 4 corners of a rotated rectangle as cv::boxPoints (float32 arithmetic). */
void hpi_box_points(const hpi_rotated_rect *rect, float corners[8]);

/* PaddleOCR get_mini_boxes ordering of 4 corners: sorted by x, then (TL, TR, BR, BL) by y. */
void hpi_order_mini_box(const float corners[8], float ordered[8]);

/* Mean of prob (h×w float32, row stride in elements) over the pixels cv::fillPoly marks for
 * the integer polygon xy (n vertices, coordinates relative to the map), restricted to the box
 * [x0, x1]×[y0, y1] (inclusive, inside the map). spans needs 2*(y1-y0+1) ints,
 * edges n*40 bytes (hpi_fill_work_size). Returns the mean (0 if no pixel is set). */
size_t hpi_fill_work_size(int64_t n, int64_t rows);
double hpi_polygon_mean(const float *prob, int64_t stride, const int32_t *xy, int64_t n, int64_t x0, int64_t y0,
                        int64_t x1, int64_t y1, void *work);

/* Offset a closed polygon outwards by delta with round joins, as Clipper 6.4 (pyclipper
 * PyclipperOffset, JT_ROUND, ET_CLOSEDPOLYGON, ArcTolerance 0.25) does for a convex path:
 * input coordinates truncated to integers, output integer points (not de-duplicated).
 * out needs hpi_offset_capacity(n, delta) points. Returns the number written. */
int64_t hpi_offset_capacity(int64_t n, double delta);
int64_t hpi_offset_polygon(const float *xy, int64_t n, double delta, int32_t *out);

/* PaddleX order_points_clockwise on 4 points (float32), TL, TR, BR, BL. */
void hpi_order_points_clockwise(const float pts[8], float out[8]);

#ifdef __cplusplus
}
#endif

#endif /* HPI_KERNELS_H */
