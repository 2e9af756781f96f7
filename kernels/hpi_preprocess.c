/* Pre-processing: uint8 HWC → normalised float32 CHW in one pass, through a 3×256 lookup table. */
#include <string.h>

#include "hpi_kernels.h"

void hpi_build_norm_lut(float scale, const float mean[3], const float std[3], float lut[3 * 256])
{
    /* Same float32 operation order as numpy's (x.astype(float32) * scale - mean) / std, so the
     * table reproduces the reference bit for bit (built with -ffp-contract=off: no FMA). */
    for (int c = 0; c < 3; ++c) {
        for (int v = 0; v < 256; ++v) {
            volatile float scaled = (float)v * scale;
            volatile float centred = scaled - mean[c];
            lut[c * 256 + v] = centred / std[c];
        }
    }
}

void hpi_normalize_hwc_to_chw(const uint8_t *src, int64_t w, int64_t src_stride, int64_t y0, int64_t y1,
                              const float *lut, float *dst, int64_t plane, int64_t row)
{
    const float *lut0 = lut, *lut1 = lut + 256, *lut2 = lut + 512;
    for (int64_t y = y0; y < y1; ++y) {
        const uint8_t *s = src + y * src_stride;
        float *d0 = dst + y * row;
        float *d1 = d0 + plane;
        float *d2 = d1 + plane;
        for (int64_t x = 0; x < w; ++x) {
            d0[x] = lut0[s[3 * x]];
            d1[x] = lut1[s[3 * x + 1]];
            d2[x] = lut2[s[3 * x + 2]];
        }
        if (row > w) {
            size_t pad = (size_t)(row - w) * sizeof(float);
            memset(d0 + w, 0, pad);
            memset(d1 + w, 0, pad);
            memset(d2 + w, 0, pad);
        }
    }
}
