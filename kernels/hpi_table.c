/* Table structure decode (SLANet / SLANet_plus) and OCR-box-to-cell matching; see hpi_kernels.h. */
#include <math.h>

#include "hpi_kernels.h"

int64_t hpi_table_decode(const float *probs, const float *loc, int64_t steps, int64_t classes, int64_t loc_dims,
                         const uint8_t *td_mask, int32_t beg_idx, int32_t end_idx, double scale_x, double scale_y,
                         int32_t *tokens, int32_t *boxes, int64_t *n_boxes, double *score, int *has_nan) {
    int64_t n_tokens = 0, kept_boxes = 0;
    double sum = 0.0;
    *has_nan = 0;
    for (int64_t t = 0; t < steps; t++) {
        const float *row = probs + t * classes;
        int32_t best = 0;
        float best_value = row[0];
        if (isnan(best_value)) { *has_nan = 1; return 0; }
        for (int64_t c = 1; c < classes; c++) {
            float v = row[c];
            if (isnan(v)) { *has_nan = 1; return 0; }
            if (v > best_value) { best_value = v; best = (int32_t)c; }  /* first maximum, as numpy.argmax */
        }
        if (t > 0 && best == end_idx) break;
        if (best == beg_idx || best == end_idx) continue;
        if (td_mask[best]) {
            const float *b = loc + t * loc_dims;
            double poly[8];
            if (loc_dims == 4) {  /* x1, y1, x2, y2 → the rectangle's 4 corners, clockwise from top-left */
                poly[0] = b[0]; poly[1] = b[1]; poly[2] = b[2]; poly[3] = b[1];
                poly[4] = b[2]; poly[5] = b[3]; poly[6] = b[0]; poly[7] = b[3];
            } else {
                for (int k = 0; k < 8; k++) poly[k] = b[k];
            }
            int32_t *out = boxes + kept_boxes * 8;
            for (int k = 0; k < 8; k++) out[k] = (int32_t)trunc(poly[k] * ((k & 1) ? scale_y : scale_x));
            kept_boxes++;
        }
        tokens[n_tokens++] = best;
        sum += (double)best_value;
    }
    *n_boxes = kept_boxes;
    *score = n_tokens ? sum / (double)n_tokens : 0.0;
    return n_tokens;
}

void hpi_match_cells(const double *cells, int64_t n_cells, const double *ocr, int64_t n_ocr, int32_t *out) {
    for (int64_t i = 0; i < n_ocr; i++) {
        const double *o = ocr + i * 4;
        int32_t best = -1;
        double best_iou_term = 0.0, best_dist = 0.0;
        for (int64_t j = 0; j < n_cells; j++) {
            const double *c = cells + j * 4;
            /* PaddleX's sums in its order: float rounding decides exact ties. */
            double first = fabs(o[0] - c[0]) + fabs(o[1] - c[1]);
            double second = fabs(o[2] - c[2]) + fabs(o[3] - c[3]);
            double dist = (first + fabs(o[2] - c[2]) + fabs(o[3] - c[3])) + (first < second ? first : second);
            double left = c[0] > o[0] ? c[0] : o[0], right = c[2] < o[2] ? c[2] : o[2];
            double top = c[1] > o[1] ? c[1] : o[1], bottom = c[3] < o[3] ? c[3] : o[3];
            double iou = 0.0;
            if (!(left >= right || top >= bottom)) {
                double inter = (right - left) * (bottom - top);
                iou = inter / ((c[2] - c[0]) * (c[3] - c[1]) + (o[2] - o[0]) * (o[3] - o[1]) - inter);
            }
            double iou_term = 1.0 - iou;
            if (best < 0 || iou_term < best_iou_term || (iou_term == best_iou_term && dist < best_dist)) {
                best = (int32_t)j;
                best_iou_term = iou_term;
                best_dist = dist;
            }
        }
        out[i] = best;
    }
}
