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

/* Minimum-area rectangle of n integer points (convex hull as cv::convexHull orders it, then
 * every hull edge tried in double precision). The same rectangle as cv::minAreaRect, but not
 * always the same (w, h, angle) triple or the same last float bits: OpenCV 4.13 changed its
 * calipers and angle convention. work needs hpi_min_area_rect_work_size(n) bytes. Returns 0,
 * or -1 when n == 0. The Python extension calls cv2.minAreaRect itself so its boxes match the
 * reference pixel for pixel; C users get this one through hpi_db_quads. */
size_t hpi_min_area_rect_work_size(int64_t n);
int hpi_min_area_rect(const int32_t *xy, int64_t n, void *work, hpi_rotated_rect *rect);

/* The clockwise convex hull as cv::convexHull(points, hull, clockwise=true) orders it: hull
 * receives indices into xy (n ints), work needs 3*n+2 ints. Returns the hull size. */
int hpi_convex_hull(const int32_t *xy, int64_t n, int *hull, int *work);

/* The 4 corners of a rotated rectangle, bit-identical to cv::boxPoints (same float32 steps). */
void hpi_box_points(const hpi_rotated_rect *rect, float corners[8]);

/* PaddleOCR get_mini_boxes ordering of 4 corners: sorted by x, then (TL, TR, BR, BL) by y. */
void hpi_order_mini_box(const float corners[8], float ordered[8]);

/* Mean of prob (map row stride in elements) over the pixels cv::fillPoly(mask, [xy], 1) marks
 * for the integer polygon xy (n vertices, coordinates relative to (x0, y0)) inside the mask
 * [x0, x1]×[y0, y1] (inclusive, inside the map). mask_buf needs (x1-x0+1)*(y1-y0+1) bytes,
 * zeroed (it is left zeroed again), work hpi_fill_work_size(n, rows) bytes. Returns 0 when
 * no pixel is set. */
size_t hpi_fill_work_size(int64_t n, int64_t rows);
double hpi_polygon_mean(const float *prob, int64_t stride, const int32_t *xy, int64_t n, int64_t x0, int64_t y0,
                        int64_t x1, int64_t y1, uint8_t *mask_buf, void *work);

/* Offset a closed polygon outwards by delta with round joins, as Clipper 6.4 (pyclipper
 * PyclipperOffset, JT_ROUND, ET_CLOSEDPOLYGON, ArcTolerance 0.25) does for a convex path:
 * input coordinates truncated to integers, output integer points (not de-duplicated; their
 * convex hull equals the hull of Clipper's result). n ≤ 64. out needs hpi_offset_capacity(n,
 * delta) points. Returns the number written, 0 for fewer than 3 distinct points, -1 if n > 64. */
int64_t hpi_offset_capacity(int64_t n, double delta);
int64_t hpi_offset_polygon(const float *xy, int64_t n, double delta, int32_t *out);

/* PaddleX order_points_clockwise on 4 points (float32), TL, TR, BR, BL. */
void hpi_order_points_clockwise(const float pts[8], float out[8]);

/* The whole per-contour pipeline for box_type "quad" (PaddleOCR boxes_from_bitmap followed by
 * PaddleX filter_tag_det_res). Contour c is points[2*offsets[c] .. 2*offsets[c+1]) (x, y int32
 * pairs, map coordinates); pass at most max_candidates contours. Writes up to num_contours
 * boxes (8 int32 each, TL TR BR BL in source-image pixels) and scores; returns how many, or
 * -1 if memory could not be allocated. */
#define HPI_DB_MIN_SIZE 3
typedef struct {
    double box_thresh;
    double unclip_ratio;
    int slow_score; /* 0: mean inside the box, 1: inside the contour */
    int src_h, src_w;
} hpi_db_params;

/* The steps of hpi_db_quads, for drivers that find min-area rectangles themselves:
 * box scores (fast: the ordered mini box; slow: the contour, local needs 2*n ints; mask needs
 * h*w bytes; work hpi_fill_work_size(max(n, 4), h) bytes), the unclip offset (distance =
 * area * ratio / perimeter; out needs hpi_offset_capacity(4, distance) points; returns the
 * point count, 0 when the result is empty), and the final rescale + order + clip + size filter
 * (returns 0 when PaddleX would drop the box). */
double hpi_db_score_fast(const float *prob, int64_t h, int64_t w, const float box[8], uint8_t *mask, void *work);
double hpi_db_score_slow(const float *prob, int64_t h, int64_t w, const int32_t *contour, int64_t n, int32_t *local,
                         uint8_t *mask, void *work);
double hpi_db_unclip_distance(const float box[8], double unclip_ratio);
int64_t hpi_db_unclip(const float box[8], double unclip_ratio, int32_t *out);
int hpi_db_finish_box(const float box[8], int64_t h, int64_t w, int src_h, int src_w, int32_t out[8]);

/* bitmap[i] = prob[i] > thresh ? 255 : 0 (cv::findContours input). Returns 1 if any value is
 * NaN or infinite, else 0. */
int hpi_threshold_map(const float *prob, int64_t count, float thresh, uint8_t *bitmap);

int64_t hpi_db_quads(const float *prob, int64_t h, int64_t w, const int32_t *points, const int64_t *offsets,
                     int64_t num_contours, const hpi_db_params *params, int32_t *boxes, float *scores);

/* ------------------------------------------------------------------ layout detection (PicoDet) */

typedef struct {
    int num_classes;
    int reg_bins;            /* reg_max + 1 bins per box side */
    double scale_x, scale_y; /* original image size / network input size */
    float score_threshold;   /* candidates need score > this */
    float nms_threshold;     /* a box is suppressed when its IoU with a kept box of its class is > this */
    int nms_top_k;           /* candidates per class before NMS (<= 0: all) */
    int keep_top_k;          /* boxes kept over all classes (<= 0: all) */
} hpi_picodet_params;

/* PicoDet head outputs → boxes as PaddleDetection's PicoHeadV2 + Paddle's multiclass_nms give
 * them. Level l has grid_h[l]*grid_w[l] anchors (row-major), scores[l] (anchors×classes, already
 * sigmoided) and regs[l] (anchors×4×reg_bins distribution logits, sides l, t, r, b); anchor
 * centres are ((x + 0.5)·stride, (y + 0.5)·stride). Writes rows (class, score, x1, y1, x2, y2)
 * in original-image pixels to out, class by class (ascending), score descending inside a class;
 * out needs keep_top_k rows (or anchors × classes when keep_top_k <= 0). Returns the row count,
 * or -1 if memory could not be allocated. */
int64_t hpi_picodet_decode(const float *const *scores, const float *const *regs, const int32_t *strides,
                           const int32_t *grid_h, const int32_t *grid_w, int n_levels,
                           const hpi_picodet_params *params, float *out);

/* ------------------------------------------------------------------ table structure (SLANet) */

/* PaddleX TableLabelDecode of one table: per step t < steps the first argmax of probs (steps×classes);
 * stop at end_idx when t > 0; skip beg_idx/end_idx; keep the token in tokens (capacity steps) and, when
 * td_mask[token], the step's cell box from loc (steps×loc_dims, loc_dims 8 = x1,y1..x4,y4 or 4 = x1,y1,x2,y2,
 * written as its 4 corners) times (scale_x, scale_y), truncated to int, in boxes (capacity steps×8).
 * *score: mean max-probability of the kept tokens (0.0 if none). Returns the token count; *has_nan = 1
 * (and 0 returned) when a probability is NaN. */
int64_t hpi_table_decode(const float *probs, const float *loc, int64_t steps, int64_t classes, int64_t loc_dims,
                         const uint8_t *td_mask, int32_t beg_idx, int32_t end_idx, double scale_x, double scale_y,
                         int32_t *tokens, int32_t *boxes, int64_t *n_boxes, double *score, int *has_nan);

/* PaddleX match_table_and_ocr: for each of n_ocr boxes (x1,y1,x2,y2) the index of the cell (n_cells×4)
 * with the highest IoU, ties broken by PaddleX's L1 corner distance, then by the lower index; -1 when
 * n_cells == 0. */
void hpi_match_cells(const double *cells, int64_t n_cells, const double *ocr, int64_t n_ocr, int32_t *out);

/* ------------------------------------------------------------------ curved text (seals) */

/* Points per long side of a rectified band (the reference's SIDE_POINTS). */
#define HPI_CURVED_SIDE_POINTS 32

/* The two long sides of the text band points (n×2, n >= 4): top and bottom, HPI_CURVED_SIDE_POINTS×2
 * each, from the start of the text to its end (hpi/kernels/_reference_curved.py says how). Returns 0,
 * or -1 (n < 4) / -2 (out of memory). */
int hpi_curved_sides(const double *points, int64_t n, double *top, double *bottom);
/* The rectified line's size: mean side length × mean distance between the sides, rounded, >= 1. */
void hpi_curved_size(const double *top, const double *bottom, int64_t *width, int64_t *height);
/* out (out_h×out_w×3): column u at the same fraction of both sides, row v between them, bilinear
 * from image (h×w×3 uint8), borders replicated, rounded half up. */
void hpi_curved_sample(const uint8_t *image, int64_t h, int64_t w, const double *top, const double *bottom,
                       int64_t out_w, int64_t out_h, uint8_t *out);
/* out = image (pixels×3) with dark unsaturated pixels (max < max_value, (max - min)·255 < min_saturation·max)
 * white; counts the saturated pixels with max >= ink_min_value (ink) and the whitened ones (dark). */
void hpi_remove_dark_ink(const uint8_t *image, int64_t pixels, int max_value, int min_saturation, int ink_min_value,
                         uint8_t *out, int64_t *ink_count, int64_t *dark_count);

/* ------------------------------------------------------------------ document unwarping (UVDoc) */

/* Rows [y0, y1) of out (out_h×out_w×channels uint8): grid (2×gh×gw float32, planes x then y, normalised
 * to [-1, 1]) upsampled bilinearly with align_corners=True to out_h×out_w, then image (h×w×channels
 * uint8) sampled there bilinearly, align_corners=True, zeros outside (grid_sample), rounded half up.
 * Returns 0, or -1 if a row buffer could not be allocated. */
int hpi_unwarp_rows(const uint8_t *image, int64_t h, int64_t w, int64_t channels, const float *grid, int64_t gh,
                    int64_t gw, int64_t out_h, int64_t out_w, int64_t y0, int64_t y1, uint8_t *out);

/* ------------------------------------------------------------------ plain CSV (time series) */

/* Fields of a CSV body without quotes whose lines end in '\n' (no final newline): field k of line r is
 * data[starts[r*width + k], ends[r*width + k]). Returns the number of lines, or -1 where a line has another
 * number of fields than width or there are more than capacity fields. */
int64_t hpi_csv_split(const uint8_t *data, int64_t size, int64_t width, int64_t *starts, int64_t *ends,
                      int64_t capacity);

/* How a column reads as pandas.read_csv types it: HPI_CSV_INT when every field is [+-]?[0-9]+ (written to
 * ints), HPI_CSV_FLOAT when every field is a decimal number or empty (written to floats, empty as NaN; strtod,
 * so the C locale's '.'), HPI_CSV_TEXT when any field is neither, HPI_CSV_OUT_OF_RANGE for whole numbers
 * beyond int64. */
enum { HPI_CSV_INT = 0, HPI_CSV_FLOAT = 1, HPI_CSV_TEXT = 2, HPI_CSV_OUT_OF_RANGE = 3 };
int hpi_csv_numbers(const uint8_t *data, const int64_t *starts, const int64_t *ends, int64_t rows, int64_t width,
                    int64_t column, int64_t *ints, double *floats);

/* The longest field of a column, in bytes. */
int64_t hpi_csv_longest(const int64_t *starts, const int64_t *ends, int64_t rows, int64_t width, int64_t column);

/* A column's fields into rows × itemsize bytes, each zero-padded (numpy's fixed-width bytes). */
void hpi_csv_gather(const uint8_t *data, const int64_t *starts, const int64_t *ends, int64_t rows, int64_t width,
                    int64_t column, int64_t itemsize, uint8_t *out);

#ifdef __cplusplus
}
#endif

#endif /* HPI_KERNELS_H */
