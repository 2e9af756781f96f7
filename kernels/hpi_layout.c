/* PicoDet (GFL head) decode for layout detection: distribution boxes, per-class NMS, top-k.
 *
 * The semantics are those of PaddleDetection's PicoHeadV2 followed by Paddle's multiclass_nms
 * (what PaddleX's exported detection models run inside the graph): hpi.kernels._reference_layout
 * is the reference, and the parity tests compare the two on the real model's outputs. */
#include "hpi_kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    float score;
    int32_t anchor;
    int32_t cls;
    int32_t rank; /* position inside its class after NMS */
} candidate;

/* Score descending, then anchor ascending: the reference's stable sort by -score. */
static int by_score_then_anchor(const void *a, const void *b)
{
    const candidate *x = (const candidate *)a, *y = (const candidate *)b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return (x->anchor > y->anchor) - (x->anchor < y->anchor);
}

/* Score descending, then class, then rank (keep_top_k over all classes). */
static int by_score_then_class(const void *a, const void *b)
{
    const candidate *x = (const candidate *)a, *y = (const candidate *)b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    if (x->cls != y->cls)
        return x->cls < y->cls ? -1 : 1;
    return (x->rank > y->rank) - (x->rank < y->rank);
}

/* Class ascending, then rank: multiclass_nms writes its output class by class. */
static int by_class_then_rank(const void *a, const void *b)
{
    const candidate *x = (const candidate *)a, *y = (const candidate *)b;
    if (x->cls != y->cls)
        return x->cls < y->cls ? -1 : 1;
    return (x->rank > y->rank) - (x->rank < y->rank);
}

/* One anchor's box: softmax over each side's bins, expected bin × stride from the cell centre,
 * scaled to the original image and rounded to float32 (IoU is computed on those values). */
static void decode_box(const float *reg, int bins, double cx, double cy, double stride, double scale_x,
                       double scale_y, float box[4])
{
    double dist[4];
    for (int side = 0; side < 4; ++side) {
        const float *d = reg + side * bins;
        double top = d[0];
        for (int k = 1; k < bins; ++k)
            top = d[k] > top ? d[k] : top;
        double sum = 0.0, weighted = 0.0;
        for (int k = 0; k < bins; ++k) {
            double e = exp((double)d[k] - top);
            sum += e;
            weighted += e * (double)k;
        }
        dist[side] = weighted / sum * stride;
    }
    box[0] = (float)((cx - dist[0]) * scale_x);
    box[1] = (float)((cy - dist[1]) * scale_y);
    box[2] = (float)((cx + dist[2]) * scale_x);
    box[3] = (float)((cy + dist[3]) * scale_y);
}

static double box_area(const float *b)
{
    if (b[2] < b[0] || b[3] < b[1])
        return 0.0;
    return ((double)b[2] - b[0]) * ((double)b[3] - b[1]);
}

/* Paddle's JaccardOverlap with normalized boxes (no +1), 0 for disjoint or empty boxes. */
static double iou(const float *a, const float *b)
{
    if (b[0] > a[2] || b[2] < a[0] || b[1] > a[3] || b[3] < a[1])
        return 0.0;
    double w = fmin(a[2], b[2]) - fmax(a[0], b[0]);
    double h = fmin(a[3], b[3]) - fmax(a[1], b[1]);
    double inter = w * h;
    double uni = box_area(a) + box_area(b) - inter;
    return uni > 0.0 ? inter / uni : 0.0;
}

int64_t hpi_picodet_decode(const float *const *scores, const float *const *regs, const int32_t *strides,
                           const int32_t *grid_h, const int32_t *grid_w, int n_levels,
                           const hpi_picodet_params *p, float *out)
{
    const int classes = p->num_classes, bins = p->reg_bins;
    int64_t anchors = 0;
    for (int l = 0; l < n_levels; ++l)
        anchors += (int64_t)grid_h[l] * grid_w[l];
    if (anchors == 0 || classes <= 0 || p->keep_top_k == 0)
        return 0;

    float *boxes = (float *)malloc((size_t)anchors * 4 * sizeof(float));
    uint8_t *decoded = (uint8_t *)calloc((size_t)anchors, 1);
    candidate *pool = (candidate *)malloc((size_t)anchors * sizeof(candidate));
    candidate *kept = (candidate *)malloc((size_t)anchors * classes * sizeof(candidate));
    const float **level_scores = (const float **)malloc((size_t)anchors * sizeof(float *));
    int32_t *level_of = (int32_t *)malloc((size_t)anchors * sizeof(int32_t));
    if (!boxes || !decoded || !pool || !kept || !level_scores || !level_of) {
        free(boxes), free(decoded), free(pool), free(kept), free((void *)level_scores), free(level_of);
        return -1;
    }
    /* anchor → (level, row of its level) without a search per lookup */
    int64_t a = 0;
    for (int l = 0; l < n_levels; ++l)
        for (int64_t i = 0; i < (int64_t)grid_h[l] * grid_w[l]; ++i, ++a) {
            level_of[a] = l;
            level_scores[a] = scores[l] + i * classes;
        }

    int64_t total = 0;
    for (int c = 0; c < classes; ++c) {
        int64_t n = 0;
        for (a = 0; a < anchors; ++a) {
            float s = level_scores[a][c];
            if (s > p->score_threshold) {
                pool[n].score = s;
                pool[n].anchor = (int32_t)a;
                pool[n].cls = c;
                ++n;
            }
        }
        if (n == 0)
            continue;
        qsort(pool, (size_t)n, sizeof(candidate), by_score_then_anchor);
        if (p->nms_top_k > 0 && n > p->nms_top_k)
            n = p->nms_top_k;
        int64_t first = total;
        for (int64_t i = 0; i < n; ++i) {
            int32_t at = pool[i].anchor;
            if (!decoded[at]) {
                int l = level_of[at];
                int64_t row = at;
                for (int k = 0; k < l; ++k)
                    row -= (int64_t)grid_h[k] * grid_w[k];
                double stride = strides[l];
                double cx = ((double)(row % grid_w[l]) + 0.5) * stride;
                double cy = ((double)(row / grid_w[l]) + 0.5) * stride;
                decode_box(regs[l] + row * 4 * bins, bins, cx, cy, stride, p->scale_x, p->scale_y, boxes + 4 * at);
                decoded[at] = 1;
            }
            const float *box = boxes + 4 * at;
            int keep = 1;
            for (int64_t j = first; j < total; ++j)
                if (iou(boxes + 4 * kept[j].anchor, box) > (double)p->nms_threshold) {
                    keep = 0;
                    break;
                }
            if (keep) {
                kept[total] = pool[i];
                kept[total].rank = (int32_t)(total - first);
                ++total;
            }
        }
    }
    if (p->keep_top_k > 0 && total > p->keep_top_k) {
        qsort(kept, (size_t)total, sizeof(candidate), by_score_then_class);
        total = p->keep_top_k;
        qsort(kept, (size_t)total, sizeof(candidate), by_class_then_rank);
    }
    for (int64_t i = 0; i < total; ++i) {
        const float *box = boxes + 4 * kept[i].anchor;
        float *row = out + 6 * i;
        row[0] = (float)kept[i].cls;
        row[1] = kept[i].score;
        memcpy(row + 2, box, 4 * sizeof(float));
    }
    free(boxes), free(decoded), free(pool), free(kept), free((void *)level_scores), free(level_of);
    return total;
}
