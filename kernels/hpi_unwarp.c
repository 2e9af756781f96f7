/* Document unwarping (UVDoc): a coarse sampling grid upsampled to the page and the page resampled.
 *
 * The model predicts, for a gh×gw grid over the flat page, where each point lies in the photographed
 * page, as normalised coordinates in [-1, 1] (x, y planes). PaddleX's UVDoc (and the UVDoc authors'
 * bilinear_unwarping) upsamples that grid to the output size with bilinear interpolation,
 * align_corners=True, and samples the page with grid_sample (bilinear, align_corners=True, zeros
 * outside). This file does both in one pass per output row, in double precision, with the same order
 * of operations as hpi/kernels/_reference_unwarp.py so the two agree to a grey level.
 */
#include <math.h>
#include <stdlib.h>

#include "hpi_kernels.h"

/* Source index and weight of output position i of n when n_src points are stretched over n with
 * align_corners=True: src = i·(n_src−1)/(n−1), index clamped so index+1 stays inside. */
static void corner_aligned(int64_t i, int64_t n, int64_t n_src, int64_t *index, double *weight)
{
    double pos = n > 1 ? (double)i * ((double)(n_src - 1) / (double)(n - 1)) : 0.0;
    int64_t i0 = (int64_t)floor(pos);
    if (i0 > n_src - 2)
        i0 = n_src - 2;
    if (i0 < 0)
        i0 = 0;
    *index = i0;
    *weight = n_src > 1 ? pos - (double)i0 : 0.0;
}

int hpi_unwarp_rows(const uint8_t *image, int64_t h, int64_t w, int64_t channels, const float *grid, int64_t gh,
                    int64_t gw, int64_t out_h, int64_t out_w, int64_t y0, int64_t y1, uint8_t *out)
{
    const float *grid_x = grid, *grid_y = grid + gh * gw;
    double *row_x = malloc(sizeof(double) * (size_t)gw * 2);
    int64_t *col_index = malloc(sizeof(int64_t) * (size_t)out_w);
    double *col_weight = malloc(sizeof(double) * (size_t)out_w);
    if (!row_x || !col_index || !col_weight) {
        free(row_x);
        free(col_index);
        free(col_weight);
        return -1;
    }
    double *row_y = row_x + gw;
    const int64_t g1 = gw > 1 ? 1 : 0, r1 = gh > 1 ? 1 : 0;
    for (int64_t x = 0; x < out_w; x++)
        corner_aligned(x, out_w, gw, &col_index[x], &col_weight[x]);
    const double half_w = 0.5 * (double)(w - 1), half_h = 0.5 * (double)(h - 1);
    for (int64_t y = y0; y < y1; y++) {
        int64_t gy;
        double wy;
        corner_aligned(y, out_h, gh, &gy, &wy);
        const float *ax = grid_x + gy * gw, *bx = grid_x + (gy + r1) * gw;
        const float *ay = grid_y + gy * gw, *by = grid_y + (gy + r1) * gw;
        for (int64_t j = 0; j < gw; j++) {
            row_x[j] = (double)ax[j] * (1.0 - wy) + (double)bx[j] * wy;
            row_y[j] = (double)ay[j] * (1.0 - wy) + (double)by[j] * wy;
        }
        uint8_t *dst = out + y * out_w * channels;
        for (int64_t x = 0; x < out_w; x++, dst += channels) {
            const int64_t j = col_index[x];
            const double wx = col_weight[x];
            const double gxv = row_x[j] * (1.0 - wx) + row_x[j + g1] * wx;
            const double gyv = row_y[j] * (1.0 - wx) + row_y[j + g1] * wx;
            const double px = (gxv + 1.0) * half_w, py = (gyv + 1.0) * half_h;
            if (px >= 0.0 && py >= 0.0 && px < (double)(w - 1) && py < (double)(h - 1)) {
                /* the common case: all four neighbours inside the page (no padding, no floor()) */
                const int64_t ix = (int64_t)px, iy = (int64_t)py;
                const double dx = px - (double)ix, dy = py - (double)iy;
                const uint8_t *p00 = image + (iy * w + ix) * channels, *p10 = p00 + w * channels;
                for (int64_t c = 0; c < channels; c++) {
                    const double top = (double)p00[c] * (1.0 - dx) + (double)p00[c + channels] * dx;
                    const double bottom = (double)p10[c] * (1.0 - dx) + (double)p10[c + channels] * dx;
                    const double v = top * (1.0 - dy) + bottom * dy + 0.5;
                    dst[c] = v >= 255.0 ? 255 : (uint8_t)v;
                }
                continue;
            }
            const double fx = floor(px), fy = floor(py);
            const double dx = px - fx, dy = py - fy;
            const int64_t x0 = (int64_t)fx, yy0 = (int64_t)fy;
            /* zeros padding: a corner outside the page contributes nothing (grid_sample) */
            const int vx0 = x0 >= 0 && x0 < w, vx1 = x0 + 1 >= 0 && x0 + 1 < w;
            const int vy0 = yy0 >= 0 && yy0 < h, vy1 = yy0 + 1 >= 0 && yy0 + 1 < h;
            if (!isfinite(px) || !isfinite(py) || !((vx0 || vx1) && (vy0 || vy1))) {
                for (int64_t c = 0; c < channels; c++)
                    dst[c] = 0;
                continue;
            }
            const uint8_t *p00 = vy0 && vx0 ? image + (yy0 * w + x0) * channels : NULL;
            const uint8_t *p01 = vy0 && vx1 ? image + (yy0 * w + x0 + 1) * channels : NULL;
            const uint8_t *p10 = vy1 && vx0 ? image + ((yy0 + 1) * w + x0) * channels : NULL;
            const uint8_t *p11 = vy1 && vx1 ? image + ((yy0 + 1) * w + x0 + 1) * channels : NULL;
            for (int64_t c = 0; c < channels; c++) {
                const double v00 = p00 ? (double)p00[c] : 0.0, v01 = p01 ? (double)p01[c] : 0.0;
                const double v10 = p10 ? (double)p10[c] : 0.0, v11 = p11 ? (double)p11[c] : 0.0;
                const double top = v00 * (1.0 - dx) + v01 * dx, bottom = v10 * (1.0 - dx) + v11 * dx;
                double v = top * (1.0 - dy) + bottom * dy + 0.5;
                dst[c] = v >= 255.0 ? 255 : (v <= 0.0 ? 0 : (uint8_t)v);
            }
        }
    }
    free(row_x);
    free(col_index);
    free(col_weight);
    return 0;
}
