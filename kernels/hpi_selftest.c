/* Self-test of the C kernels (run by ctest). Checks results against values worked out by hand
 * from the PaddleOCR semantics; exits non-zero on the first failure. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hpi_kernels.h"

static int failures = 0;

#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                                   \
            failures++;                                                                                                \
        }                                                                                                              \
    } while (0)

static void test_ctc(void)
{
    /* 1 sequence, 6 steps, 4 classes; argmax per step: 1 1 0 1 2 3 */
    const int steps = 6, classes = 4;
    const int argmax[6] = {1, 1, 0, 1, 2, 3};
    const float peak[6] = {0.5f, 0.7f, 0.9f, 0.6f, 0.8f, 0.4f};
    float probs[24];
    for (int t = 0; t < steps; ++t)
        for (int c = 0; c < classes; ++c)
            probs[t * classes + c] = c == argmax[t] ? peak[t] : 0.01f;
    int32_t idx[6], kept[6];
    float maxp[6];
    CHECK(hpi_ctc_argmax_rows(probs, steps, classes, idx, maxp) == 0);
    for (int t = 0; t < steps; ++t) {
        CHECK(idx[t] == argmax[t]);
        CHECK(maxp[t] == peak[t]);
    }
    double score = -1;
    int64_t n = hpi_ctc_collapse(idx, maxp, steps, kept, &score);
    CHECK(n == 4); /* a (step 0), a (step 3), b, c */
    CHECK(kept[0] == 1 && kept[1] == 1 && kept[2] == 2 && kept[3] == 3);
    CHECK(fabs(score - (0.5 + 0.6 + 0.8 + 0.4) / 4) < 1e-7);

    /* ties: first index; a long row exercises the SIMD path */
    float row[100];
    for (int c = 0; c < 100; ++c)
        row[c] = 0.25f;
    row[40] = row[70] = 0.75f;
    CHECK(hpi_ctc_argmax_rows(row, 1, 100, idx, maxp) == 0 && idx[0] == 40 && maxp[0] == 0.75f);
    row[99] = NAN;
    CHECK(hpi_ctc_argmax_rows(row, 1, 100, idx, maxp) == 1);

    /* nothing kept: score 0 */
    int32_t blanks[3] = {0, 0, 0};
    CHECK(hpi_ctc_collapse(blanks, maxp, 3, kept, &score) == 0 && score == 0.0);
}

static void test_preprocess(void)
{
    const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    float lut[768];
    hpi_build_norm_lut(1.0f / 255.0f, mean, std, lut);
    CHECK(fabsf(lut[0] - (-0.485f / 0.229f)) < 1e-6f);
    CHECK(fabsf(lut[256 + 255] - ((1.0f - 0.456f) / 0.224f)) < 1e-5f);

    /* 2×2 BGR image into a 3×2×3 CHW buffer (one column of padding) */
    const uint8_t img[12] = {0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110};
    float out[18];
    for (int i = 0; i < 18; ++i)
        out[i] = -99;
    hpi_normalize_hwc_to_chw(img, 2, 6, 0, 2, lut, out, 6, 3);
    CHECK(out[0] == lut[0] && out[1] == lut[30] && out[2] == 0.0f);
    CHECK(out[3] == lut[60] && out[4] == lut[90] && out[5] == 0.0f);
    CHECK(out[6] == lut[256 + 10] && out[12 + 4] == lut[512 + 110] && out[17] == 0.0f);
}

static void test_db(void)
{
    /* a 100×20 blob of 0.9 at x 40..139, y 30..49 in a 100×200 map; its contour as
     * cv::findContours(CHAIN_APPROX_SIMPLE) returns it */
    const int64_t h = 100, w = 200;
    float *prob = calloc((size_t)(h * w), sizeof(float));
    uint8_t *bitmap = malloc((size_t)(h * w));
    for (int y = 30; y < 50; ++y)
        for (int x = 40; x < 140; ++x)
            prob[y * w + x] = 0.9f;
    CHECK(hpi_threshold_map(prob, h * w, 0.3f, bitmap) == 0);
    CHECK(bitmap[35 * w + 50] == 255 && bitmap[0] == 0);
    const int32_t contour[8] = {40, 30, 40, 49, 139, 49, 139, 30};
    const int64_t offsets[2] = {0, 4};

    hpi_rotated_rect rect;
    void *work = malloc(hpi_min_area_rect_work_size(4));
    CHECK(hpi_min_area_rect(contour, 4, work, &rect) == 0);
    CHECK(fabsf(rect.cx - 89.5f) < 1e-4f && fabsf(rect.cy - 39.5f) < 1e-4f);
    CHECK(fabsf(fminf(rect.width, rect.height) - 19.0f) < 1e-4f && fabsf(fmaxf(rect.width, rect.height) - 99.0f) < 1e-4f);
    free(work);

    /* offset of a 10×10 square by 2 with round joins: extends 2 px on every side */
    const float square[8] = {0, 0, 10, 0, 10, 10, 0, 10};
    int32_t grown[256];
    int64_t count = hpi_offset_polygon(square, 4, 2.0, grown);
    CHECK(count > 8 && count < 256);
    int32_t xmin = 100, xmax = -100, ymin = 100, ymax = -100;
    for (int64_t i = 0; i < count; ++i) {
        xmin = grown[2 * i] < xmin ? grown[2 * i] : xmin;
        xmax = grown[2 * i] > xmax ? grown[2 * i] : xmax;
        ymin = grown[2 * i + 1] < ymin ? grown[2 * i + 1] : ymin;
        ymax = grown[2 * i + 1] > ymax ? grown[2 * i + 1] : ymax;
    }
    CHECK(xmin == -2 && xmax == 12 && ymin == -2 && ymax == 12);

    hpi_db_params params = {0.6, 1.5, 0, 200, 400};
    int32_t boxes[8];
    float scores[1];
    int64_t kept = hpi_db_quads(prob, h, w, contour, offsets, 1, &params, boxes, scores);
    CHECK(kept == 1);
    if (kept == 1) {
        CHECK(fabsf(scores[0] - 0.9f) < 1e-6f);
        /* clockwise from top-left, rescaled ×2, grown by area*1.5/perimeter ≈ 11.9 px per side */
        CHECK(boxes[0] < boxes[2] && boxes[1] < boxes[7] && boxes[4] > boxes[6] && boxes[5] > boxes[3]);
        CHECK(boxes[0] >= 50 && boxes[0] <= 60 && boxes[4] >= 300 && boxes[4] <= 310);
        CHECK(boxes[1] >= 30 && boxes[1] <= 40 && boxes[5] >= 118 && boxes[5] <= 126);
    }
    params.box_thresh = 0.95; /* the score 0.9 is under it */
    CHECK(hpi_db_quads(prob, h, w, contour, offsets, 1, &params, boxes, scores) == 0);
    prob[0] = NAN;
    CHECK(hpi_threshold_map(prob, h * w, 0.3f, bitmap) == 1);
    free(prob);
    free(bitmap);
}

static void test_csv(void)
{
    const char *body = "2024-01-01,1.5,3\n2024-01-02,,-4";
    int64_t starts[6], ends[6], ints[2];
    double floats[2];
    uint8_t text[20];
    CHECK(hpi_csv_split((const uint8_t *)body, (int64_t)strlen(body), 3, starts, ends, 6) == 2);
    CHECK(hpi_csv_numbers((const uint8_t *)body, starts, ends, 2, 3, 0, ints, floats) == HPI_CSV_TEXT);
    CHECK(hpi_csv_numbers((const uint8_t *)body, starts, ends, 2, 3, 1, ints, floats) == HPI_CSV_FLOAT);
    CHECK(floats[0] == 1.5 && isnan(floats[1]));
    CHECK(hpi_csv_numbers((const uint8_t *)body, starts, ends, 2, 3, 2, ints, floats) == HPI_CSV_INT);
    CHECK(ints[0] == 3 && ints[1] == -4);
    CHECK(hpi_csv_longest(starts, ends, 2, 3, 0) == 10);
    hpi_csv_gather((const uint8_t *)body, starts, ends, 2, 3, 0, 10, text);
    CHECK(memcmp(text, "2024-01-012024-01-02", 20) == 0);
    CHECK(hpi_csv_split((const uint8_t *)body, (int64_t)strlen(body), 2, starts, ends, 6) == -1);
}

int main(void)
{
    test_ctc();
    test_preprocess();
    test_db();
    test_csv();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("hpi kernels self-test: all checks passed\n");
    return 0;
}
