/* DB text-detection post-processing, per-box work (PaddleOCR DBPostProcess semantics).
 *
 * The reference (hpi/kernels/_reference.py) runs cv2.minAreaRect, cv2.boxPoints, cv2.fillPoly +
 * cv2.mean and pyclipper's round-join offset per contour. Boxes are truncated to integers in
 * between (the fill mask, the clipper input), so a 1-ulp difference can move a whole pixel row:
 * the helpers below therefore follow those libraries' arithmetic step by step (float32 where
 * OpenCV uses float32, fixed-point edges as cv::fillPoly, Clipper's rounding), and the tests
 * compare them bit for bit with OpenCV / pyclipper on random inputs.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "hpi_kernels.h"

#define SIGN(a) (((a) > 0) - ((a) < 0))

/* ------------------------------------------------------------------ convex hull (Sklansky) */

typedef struct {
    int32_t x, y;
} ipoint;

static int cmp_point_index(const void *pa, const void *pb, void *base_ptr)
{
    const ipoint *base = (const ipoint *)base_ptr;
    int a = *(const int *)pa, b = *(const int *)pb;
    if (base[a].x != base[b].x)
        return base[a].x < base[b].x ? -1 : 1;
    if (base[a].y != base[b].y)
        return base[a].y < base[b].y ? -1 : 1;
    return (a > b) - (a < b);
}

/* Thread-safe sort of point indices by (x, y, index): a small merge sort (qsort_r is not
 * portable and the comparator needs the base). */
static void sort_points(const ipoint *base, int *idx, int *tmp, int n)
{
    if (n < 2)
        return;
    if (n <= 16) {
        for (int i = 1; i < n; ++i) {
            int v = idx[i], j = i - 1;
            while (j >= 0 && cmp_point_index(&idx[j], &v, (void *)base) > 0) {
                idx[j + 1] = idx[j];
                --j;
            }
            idx[j + 1] = v;
        }
        return;
    }
    int half = n / 2;
    sort_points(base, idx, tmp, half);
    sort_points(base, idx + half, tmp, n - half);
    int i = 0, j = half, k = 0;
    while (i < half && j < n)
        tmp[k++] = cmp_point_index(&idx[j], &idx[i], (void *)base) < 0 ? idx[j++] : idx[i++];
    while (i < half)
        tmp[k++] = idx[i++];
    while (j < n)
        tmp[k++] = idx[j++];
    memcpy(idx, tmp, (size_t)n * sizeof(int));
}

/* One monotone chain of Sklansky's scan over sorted[start..end]; returns the stack size. */
static int sklansky(const ipoint *pts, const int *sorted, int start, int end, int *stack, int nsign, int sign2)
{
    int incr = end > start ? 1 : -1;
    int pprev = start, pcur = pprev + incr, pnext = pcur + incr;
    int stacksize = 3;
#define P(i) (pts[sorted[(i)]])
    if (start == end || (P(start).x == P(end).x && P(start).y == P(end).y)) {
        stack[0] = start;
        return 1;
    }
    stack[0] = pprev;
    stack[1] = pcur;
    stack[2] = pnext;
    end += incr;
    while (pnext != end) {
        if (P(pcur).x == P(pnext).x && P(pcur).y == P(pnext).y) {
            pnext += incr;
            stack[stacksize - 1] = pnext;
            continue;
        }
        int32_t cury = P(pcur).y, nexty = P(pnext).y;
        int32_t by = nexty - cury;
        if (SIGN(by) != nsign) {
            int32_t ax = P(pcur).x - P(pprev).x, ay = cury - P(pprev).y;
            int32_t bx = P(pnext).x - P(pcur).x;
            int64_t convexity = (int64_t)ay * bx - (int64_t)ax * by;
            if (SIGN(convexity) == sign2 && (ax != 0 || ay != 0)) {
                pprev = pcur;
                pcur = pnext;
                pnext += incr;
                stack[stacksize] = pnext;
                stacksize++;
            } else if (pprev == start) {
                pcur = pnext;
                stack[1] = pcur;
                pnext += incr;
                stack[2] = pnext;
            } else {
                stack[stacksize - 2] = pnext;
                pcur = pprev;
                pprev = stack[stacksize - 4];
                stacksize--;
            }
        } else {
            pnext += incr;
            stack[stacksize - 1] = pnext;
        }
    }
#undef P
    return --stacksize;
}

/* Clockwise convex hull as cv::convexHull(points, hull, true, true) orders it: hull[i] are
 * indices into pts. work: 3*n+2 ints. Returns the hull size. */
static int convex_hull(const ipoint *pts, int n, int *hull, int *work)
{
    int *sorted = work, *stack = work + n, *tmp = work + 2 * n + 2;
    int nout = 0, miny = 0, maxy = 0;
    if (n == 0)
        return 0;
    for (int i = 0; i < n; ++i)
        sorted[i] = i;
    sort_points(pts, sorted, tmp, n);
    for (int i = 1; i < n; ++i) {
        int32_t y = pts[sorted[i]].y;
        if (pts[sorted[miny]].y > y)
            miny = i;
        if (pts[sorted[maxy]].y < y)
            maxy = i;
    }
    if (pts[sorted[0]].x == pts[sorted[n - 1]].x && pts[sorted[0]].y == pts[sorted[n - 1]].y) {
        hull[nout++] = sorted[0];
        return nout;
    }
    int *tl = stack;
    int tl_count = sklansky(pts, sorted, 0, maxy, tl, -1, 1);
    int *tr = stack + tl_count;
    int tr_count = sklansky(pts, sorted, n - 1, maxy, tr, -1, -1);
    for (int i = 0; i < tl_count - 1; ++i)
        hull[nout++] = sorted[tl[i]];
    for (int i = tr_count - 1; i > 0; --i)
        hull[nout++] = sorted[tr[i]];
    int stop = tr_count > 2 ? tr[1] : tl_count > 2 ? tl[tl_count - 2] : -1;

    int *bl = stack;
    int bl_count = sklansky(pts, sorted, 0, miny, bl, 1, -1);
    int *br = stack + bl_count;
    int br_count = sklansky(pts, sorted, n - 1, miny, br, 1, 1);
    /* clockwise: the lower chains swap roles */
    int *swap_stack = bl;
    bl = br;
    br = swap_stack;
    int swap_count = bl_count;
    bl_count = br_count;
    br_count = swap_count;
    if (stop >= 0) {
        int check = bl_count > 2 ? bl[1] : bl_count + br_count > 2 ? br[2 - bl_count] : -1;
        if (check == stop ||
            (check >= 0 && pts[sorted[check]].x == pts[sorted[stop]].x && pts[sorted[check]].y == pts[sorted[stop]].y)) {
            bl_count = bl_count < 2 ? bl_count : 2;
            br_count = br_count < 2 ? br_count : 2;
        }
    }
    for (int i = 0; i < bl_count - 1; ++i)
        hull[nout++] = sorted[bl[i]];
    for (int i = br_count - 1; i > 0; --i)
        hull[nout++] = sorted[br[i]];

    /* Cyclic shift so the indices ascend or descend when they can (as OpenCV does). */
    if (nout >= 3) {
        int min_idx = 0, max_idx = 0, lt = 0, i;
        for (i = 1; i < nout; ++i) {
            int idx = hull[i];
            lt += hull[i - 1] < idx;
            if (lt > 1 && lt <= i - 2)
                break;
            if (idx < hull[min_idx])
                min_idx = i;
            if (idx > hull[max_idx])
                max_idx = i;
        }
        int mmdist = abs(max_idx - min_idx);
        if ((mmdist == 1 || mmdist == nout - 1) && (lt <= 1 || lt >= nout - 2)) {
            int ascending = (max_idx + 1) % nout == min_idx;
            int i0 = ascending ? min_idx : max_idx, j = i0;
            if (i0 > 0) {
                for (i = 0; i < nout; ++i) {
                    int curr = stack[i] = hull[j];
                    int next_j = j + 1 < nout ? j + 1 : 0;
                    int next_idx = hull[next_j];
                    if (i < nout - 1 && (ascending != (curr < next_idx)))
                        break;
                    j = next_j;
                }
                if (i == nout)
                    memcpy(hull, stack, (size_t)nout * sizeof(int));
            }
        }
    }
    return nout;
}

int hpi_convex_hull(const int32_t *xy, int64_t n, int *hull, int *work)
{
    return convex_hull((const ipoint *)xy, (int)n, hull, work);
}

/* ------------------------------------------------------------------ minimum-area rectangle */

typedef struct {
    float x, y;
} fpoint;

/* Minimum-area rectangle of a convex polygon (n > 2): one side of the optimum lies on a hull
 * edge (Freeman & Shapira), so try every edge, in double precision. O(n^2) over the hull, which
 * has a few dozen vertices for text contours. */
static void min_area_over_edges(const fpoint *hull, int n, hpi_rotated_rect *rect)
{
    double best_area = -1, best[6] = {0};
    const double ox = hull[0].x, oy = hull[0].y;
    for (int i = 0; i < n; ++i) {
        const fpoint *p = &hull[i], *q = &hull[i + 1 < n ? i + 1 : 0];
        double ux = (double)q->x - p->x, uy = (double)q->y - p->y;
        double len = sqrt(ux * ux + uy * uy);
        if (len == 0)
            continue;
        ux /= len;
        uy /= len;
        double umin = 1e300, umax = -1e300, vmin = 1e300, vmax = -1e300;
        for (int j = 0; j < n; ++j) {
            double dx = (double)hull[j].x - ox, dy = (double)hull[j].y - oy;
            double u = dx * ux + dy * uy, v = -dx * uy + dy * ux;
            umin = u < umin ? u : umin;
            umax = u > umax ? u : umax;
            vmin = v < vmin ? v : vmin;
            vmax = v > vmax ? v : vmax;
        }
        double area = (umax - umin) * (vmax - vmin);
        if (best_area < 0 || area < best_area * (1 - 1e-12)) {
            best_area = area;
            best[0] = ux, best[1] = uy, best[2] = umin, best[3] = umax, best[4] = vmin, best[5] = vmax;
        }
    }
    double ux = best[0], uy = best[1], uc = (best[2] + best[3]) / 2, vc = (best[4] + best[5]) / 2;
    rect->cx = (float)(ox + uc * ux - vc * uy);
    rect->cy = (float)(oy + uc * uy + vc * ux);
    rect->width = (float)(best[3] - best[2]);
    rect->height = (float)(best[5] - best[4]);
    rect->angle = (float)(atan2(uy, ux) * 180.0 / 3.14159265358979323846);
}

size_t hpi_min_area_rect_work_size(int64_t n)
{
    return (size_t)(4 * n + 2) * sizeof(int) + (size_t)(n + 1) * sizeof(fpoint);
}

int hpi_min_area_rect(const int32_t *xy, int64_t n64, void *work, hpi_rotated_rect *rect)
{
    int n = (int)n64;
    const ipoint *pts = (const ipoint *)xy;
    int *hull_idx = (int *)work;
    int *hull_work = hull_idx + n;
    fpoint *hull = (fpoint *)(hull_work + 3 * n + 2);
    float angle = 0;
    memset(rect, 0, sizeof(*rect));
    if (n <= 0)
        return -1;
    int h = convex_hull(pts, n, hull_idx, hull_work);
    for (int i = 0; i < h; ++i) {
        hull[i].x = (float)pts[hull_idx[i]].x;
        hull[i].y = (float)pts[hull_idx[i]].y;
    }
    if (h > 2) {
        min_area_over_edges(hull, h, rect);
        return 0;
    } else if (h == 2) {
        rect->cx = (hull[0].x + hull[1].x) * 0.5f;
        rect->cy = (hull[0].y + hull[1].y) * 0.5f;
        double dx = (float)(hull[1].x - hull[0].x), dy = (float)(hull[1].y - hull[0].y);
        rect->width = (float)sqrt(dx * dx + dy * dy);
        rect->height = 0;
        angle = (float)atan2(dy, dx);
    } else {
        rect->cx = hull[0].x;
        rect->cy = hull[0].y;
    }
    {
        volatile float scaled = angle * 180.0f;
        rect->angle = (float)((double)scaled / 3.14159265358979323846);
    }
    return 0;
}

void hpi_box_points(const hpi_rotated_rect *r, float c[8])
{
    double rad = (double)r->angle * 3.14159265358979323846 / 180.;
    float b = (float)cos(rad) * 0.5f;
    float a = (float)sin(rad) * 0.5f;
    volatile float t;
    t = r->cx - a * r->height;
    c[0] = t - b * r->width;
    t = r->cy + b * r->height;
    c[1] = t - a * r->width;
    t = r->cx + a * r->height;
    c[2] = t - b * r->width;
    t = r->cy - b * r->height;
    c[3] = t - a * r->width;
    c[4] = 2 * r->cx - c[0];
    c[5] = 2 * r->cy - c[1];
    c[6] = 2 * r->cx - c[2];
    c[7] = 2 * r->cy - c[3];
}

void hpi_order_mini_box(const float corners[8], float ordered[8])
{
    int order[4] = {0, 1, 2, 3};
    /* stable sort by x (Python's sorted) */
    for (int i = 1; i < 4; ++i) {
        int v = order[i], j = i - 1;
        while (j >= 0 && corners[2 * order[j]] > corners[2 * v]) {
            order[j + 1] = order[j];
            --j;
        }
        order[j + 1] = v;
    }
    int first, second, third, fourth;
    if (corners[2 * order[1] + 1] > corners[2 * order[0] + 1])
        first = 0, fourth = 1;
    else
        first = 1, fourth = 0;
    if (corners[2 * order[3] + 1] > corners[2 * order[2] + 1])
        second = 2, third = 3;
    else
        second = 3, third = 2;
    int pick[4] = {order[first], order[second], order[third], order[fourth]};
    for (int i = 0; i < 4; ++i) {
        ordered[2 * i] = corners[2 * pick[i]];
        ordered[2 * i + 1] = corners[2 * pick[i] + 1];
    }
}

/* ------------------------------------------------------------------ polygon fill (cv::fillPoly) */

#define XY_SHIFT 16
#define XY_ONE (1 << XY_SHIFT)

typedef struct {
    int64_t w, h;
    uint8_t *data;
    int32_t *lo, *hi; /* per row: the touched column range, so clearing and summing skip the rest */
} mask_t;

static inline void mark_span(mask_t *m, int64_t y, int64_t x1, int64_t x2)
{
    memset(m->data + y * m->w + x1, 1, (size_t)(x2 - x1 + 1));
    if (x1 < m->lo[y])
        m->lo[y] = (int32_t)x1;
    if (x2 > m->hi[y])
        m->hi[y] = (int32_t)x2;
}

/* cv::clipLine on a w×h image, 64-bit. Returns 1 if (part of) the segment is inside. */
static int clip_line(int64_t w, int64_t h, int64_t *x1, int64_t *y1, int64_t *x2, int64_t *y2)
{
    int c1, c2;
    int64_t right = w - 1, bottom = h - 1;
    if (w <= 0 || h <= 0)
        return 0;
    c1 = (*x1 < 0) + (*x1 > right) * 2 + (*y1 < 0) * 4 + (*y1 > bottom) * 8;
    c2 = (*x2 < 0) + (*x2 > right) * 2 + (*y2 < 0) * 4 + (*y2 > bottom) * 8;
    if ((c1 & c2) == 0 && (c1 | c2) != 0) {
        int64_t a;
        if (c1 & 12) {
            a = c1 < 8 ? 0 : bottom;
            *x1 += (int64_t)((double)(a - *y1) * (*x2 - *x1) / (*y2 - *y1));
            *y1 = a;
            c1 = (*x1 < 0) + (*x1 > right) * 2;
        }
        if (c2 & 12) {
            a = c2 < 8 ? 0 : bottom;
            *x2 += (int64_t)((double)(a - *y2) * (*x2 - *x1) / (*y2 - *y1));
            *y2 = a;
            c2 = (*x2 < 0) + (*x2 > right) * 2;
        }
        if ((c1 & c2) == 0 && (c1 | c2) != 0) {
            if (c1) {
                a = c1 == 1 ? 0 : right;
                *y1 += (int64_t)((double)(a - *x1) * (*y2 - *y1) / (*x2 - *x1));
                *x1 = a;
                c1 = 0;
            }
            if (c2) {
                a = c2 == 1 ? 0 : right;
                *y2 += (int64_t)((double)(a - *x2) * (*y2 - *y1) / (*x2 - *x1));
                *x2 = a;
                c2 = 0;
            }
        }
    }
    return (c1 | c2) == 0;
}

/* 8-connected Bresenham line as cv::LineIterator(left_to_right) draws it. */
static void draw_line(mask_t *m, int64_t x1, int64_t y1, int64_t x2, int64_t y2)
{
    if ((uint64_t)x1 >= (uint64_t)m->w || (uint64_t)x2 >= (uint64_t)m->w || (uint64_t)y1 >= (uint64_t)m->h ||
        (uint64_t)y2 >= (uint64_t)m->h) {
        if (!clip_line(m->w, m->h, &x1, &y1, &x2, &y2))
            return;
    }
    int64_t dx = x2 - x1, dy = y2 - y1;
    if (dx < 0) {
        dx = -dx;
        dy = -dy;
        x1 = x2;
        y1 = y2;
    }
    int64_t sy = dy < 0 ? -1 : 1;
    if (dy < 0)
        dy = -dy;
    int steep = dy > dx;
    int64_t major = steep ? dy : dx, minor = steep ? dx : dy;
    int64_t err = major - (minor + minor), plus = major + major, minus = -(minor + minor);
    int64_t x = x1, y = y1;
    for (int64_t i = 0; i <= major; ++i) {
        mark_span(m, y, x, x);
        int step_minor = err < 0;
        err += minus + (step_minor ? plus : 0);
        if (steep) {
            y += sy;
            if (step_minor)
                x += 1;
        } else {
            x += 1;
            if (step_minor)
                y += sy;
        }
    }
}

typedef struct poly_edge {
    int y0, y1;
    int64_t x, dx;
    struct poly_edge *next;
} poly_edge;

static int cmp_edges(const void *pa, const void *pb)
{
    const poly_edge *a = (const poly_edge *)pa, *b = (const poly_edge *)pb;
    if (a->y0 != b->y0)
        return a->y0 < b->y0 ? -1 : 1;
    if (a->x != b->x)
        return a->x < b->x ? -1 : 1;
    return (a->dx > b->dx) - (a->dx < b->dx);
}

/* cv::fillPoly(mask, [xy], 1) with line type 8, shift 0: edges drawn, then scanline fill. */
static void fill_poly(mask_t *m, const int32_t *xy, int64_t n, poly_edge *edges)
{
    int64_t total = 0;
    int64_t px0 = (int64_t)xy[2 * (n - 1)] << XY_SHIFT, py0 = xy[2 * (n - 1) + 1];
    for (int64_t i = 0; i < n; ++i) {
        int64_t px1 = (int64_t)xy[2 * i] << XY_SHIFT, py1 = xy[2 * i + 1];
        int64_t t0x = (px0 + (XY_ONE >> 1)) >> XY_SHIFT, t0y = py0;
        int64_t t1x = (px1 + (XY_ONE >> 1)) >> XY_SHIFT, t1y = py1;
        int64_t c0x = px0, c0y = py0, c1x = px1, c1y = py1;
        draw_line(m, t0x, t0y, t1x, t1y);
        if ((uint64_t)t0x >= (uint64_t)m->w || (uint64_t)t1x >= (uint64_t)m->w || (uint64_t)t0y >= (uint64_t)m->h ||
            (uint64_t)t1y >= (uint64_t)m->h) {
            clip_line(m->w, m->h, &t0x, &t0y, &t1x, &t1y);
            if (t0y != t1y) {
                c0y = t0y;
                c1y = t1y;
            }
        }
        c0x = t0x << XY_SHIFT;
        c1x = t1x << XY_SHIFT;
        if (py0 != py1) {
            poly_edge *e = &edges[total++];
            e->dx = (c1x - c0x) / (c1y - c0y);
            if (py0 < py1) {
                e->y0 = (int)py0;
                e->y1 = (int)py1;
                e->x = c0x + (py0 - c0y) * e->dx;
            } else {
                e->y0 = (int)py1;
                e->y1 = (int)py0;
                e->x = c1x + (py1 - c1y) * e->dx;
            }
            e->next = NULL;
        }
        px0 = px1;
        py0 = py1;
    }
    if (total < 2)
        return;
    /* FillEdgeCollection */
    int y_max = -2147483647 - 1, y_min = 2147483647;
    int64_t x_max = -1, x_min = INT64_MAX;
    x_max = (int64_t)0xFFFFFFFFFFFFFFFFULL;
    for (int64_t i = 0; i < total; ++i) {
        poly_edge *e1 = &edges[i];
        int64_t x1 = e1->x + (e1->y1 - e1->y0) * e1->dx;
        y_min = e1->y0 < y_min ? e1->y0 : y_min;
        y_max = e1->y1 > y_max ? e1->y1 : y_max;
        x_min = e1->x < x_min ? e1->x : x_min;
        x_max = e1->x > x_max ? e1->x : x_max;
        x_min = x1 < x_min ? x1 : x_min;
        x_max = x1 > x_max ? x1 : x_max;
    }
    if (y_max < 0 || y_min >= m->h || x_max < 0 || x_min >= (m->w << XY_SHIFT))
        return;
    qsort(edges, (size_t)total, sizeof(poly_edge), cmp_edges);
    poly_edge tmp;
    memset(&tmp, 0, sizeof(tmp));
    tmp.y0 = 2147483647;
    edges[total] = tmp;
    int64_t i = 0;
    tmp.next = NULL;
    poly_edge *e = &edges[i];
    if (y_max > m->h)
        y_max = (int)m->h;
    const int64_t delta = XY_ONE - 1;
    for (int y = e->y0; y < y_max; ++y) {
        poly_edge *last, *prelast, *keep_prelast;
        int draw = 0;
        int clipline = y < 0;
        prelast = &tmp;
        last = tmp.next;
        while (last || e->y0 == y) {
            if (last && last->y1 == y) {
                prelast->next = last->next;
                last = last->next;
                continue;
            }
            keep_prelast = prelast;
            if (last && (e->y0 > y || last->x < e->x)) {
                prelast = last;
                last = last->next;
            } else if (i < total) {
                prelast->next = e;
                e->next = last;
                prelast = e;
                e = &edges[++i];
            } else
                break;
            if (draw) {
                if (!clipline) {
                    int64_t x1, x2;
                    if (keep_prelast->x > prelast->x) {
                        x1 = (prelast->x + delta) >> XY_SHIFT;
                        x2 = keep_prelast->x >> XY_SHIFT;
                    } else {
                        x1 = (keep_prelast->x + delta) >> XY_SHIFT;
                        x2 = prelast->x >> XY_SHIFT;
                    }
                    if (x1 < m->w && x2 >= 0) {
                        if (x1 < 0)
                            x1 = 0;
                        if (x2 >= m->w)
                            x2 = m->w - 1;
                        if (x2 >= x1)
                            mark_span(m, y, x1, x2);
                    }
                }
                keep_prelast->x += keep_prelast->dx;
                prelast->x += prelast->dx;
            }
            draw ^= 1;
        }
        keep_prelast = NULL;
        do {
            prelast = &tmp;
            last = tmp.next;
            poly_edge *last_exchange = NULL;
            while (last != keep_prelast && last->next != NULL) {
                poly_edge *te = last->next;
                if (last->x > te->x) {
                    prelast->next = te;
                    last->next = te->next;
                    te->next = last;
                    prelast = te;
                    last_exchange = prelast;
                } else {
                    prelast = last;
                    last = te;
                }
            }
            if (last_exchange == NULL)
                break;
            keep_prelast = last_exchange;
        } while (keep_prelast != tmp.next && keep_prelast != &tmp);
    }
}

size_t hpi_fill_work_size(int64_t n, int64_t rows)
{
    return (size_t)(n + 1) * sizeof(poly_edge) + (size_t)(2 * rows + 2) * sizeof(int32_t);
}

double hpi_polygon_mean(const float *prob, int64_t stride, const int32_t *xy, int64_t n, int64_t x0, int64_t y0,
                        int64_t x1, int64_t y1, uint8_t *mask_buf, void *work)
{
    mask_t m;
    m.w = x1 - x0 + 1;
    m.h = y1 - y0 + 1;
    m.data = mask_buf;
    if (m.w <= 0 || m.h <= 0 || n <= 0)
        return 0.0;
    poly_edge *edges = (poly_edge *)work;
    m.lo = (int32_t *)(edges + n + 1);
    m.hi = m.lo + m.h;
    for (int64_t y = 0; y < m.h; ++y) {
        m.lo[y] = (int32_t)m.w;
        m.hi[y] = -1;
    }
    /* The mask starts zeroed (callers pass a zeroed buffer) and is cleared again below, only
     * where it was written: cost follows the polygon, not its bounding box. */
    fill_poly(&m, xy, n, edges);
    double total = 0.0;
    int64_t count = 0;
    for (int64_t y = 0; y < m.h; ++y) {
        if (m.hi[y] < m.lo[y])
            continue;
        const float *row = prob + (y0 + y) * stride + x0;
        uint8_t *mrow = m.data + y * m.w;
        for (int64_t x = m.lo[y]; x <= m.hi[y]; ++x) {
            if (mrow[x]) {
                total += row[x];
                ++count;
            }
        }
        memset(mrow + m.lo[y], 0, (size_t)(m.hi[y] - m.lo[y] + 1));
    }
    return count ? total / (double)count : 0.0;
}

/* ------------------------------------------------------------------ round-join offset (Clipper) */

static int64_t clipper_round(double v)
{
    return v < 0 ? (int64_t)(v - 0.5) : (int64_t)(v + 0.5);
}

int64_t hpi_offset_capacity(int64_t n, double delta)
{
    /* round joins add at most steps-per-turn points in total, plus up to 3 per vertex */
    double ad = fabs(delta);
    double steps = ad > 0 ? 3.14159265358979323846 * ad + 8 : 8;
    if (steps > 1e6)
        steps = 1e6;
    return (int64_t)steps * 2 + 4 * n + 16;
}

int64_t hpi_offset_polygon(const float *xy, int64_t n, double delta, int32_t *out)
{
    /* Input as Clipper receives it from pyclipper: coordinates truncated to integers, repeated
     * points dropped, the closing duplicate removed. */
    int64_t px[64], py[64];
    int64_t len = 0;
    if (n > 64 || n <= 0)
        return -1;
    int64_t high = n - 1;
    int64_t fx = (int64_t)xy[0], fy = (int64_t)xy[1];
    while (high > 0 && (int64_t)xy[2 * high] == fx && (int64_t)xy[2 * high + 1] == fy)
        high--;
    px[0] = fx;
    py[0] = fy;
    len = 1;
    for (int64_t i = 1; i <= high; ++i) {
        int64_t x = (int64_t)xy[2 * i], y = (int64_t)xy[2 * i + 1];
        if (px[len - 1] != x || py[len - 1] != y) {
            px[len] = x;
            py[len] = y;
            len++;
        }
    }
    if (len < 3)
        return 0;
    /* FixOrientations: Clipper wants a positive area (its Orientation()). */
    {
        double a = 0;
        for (int64_t i = 0, j = len - 1; i < len; j = i++)
            a += ((double)px[j] + px[i]) * ((double)py[j] - py[i]);
        if (-a * 0.5 < 0) {
            for (int64_t i = 0, j = len - 1; i < j; ++i, --j) {
                int64_t t = px[i];
                px[i] = px[j];
                px[j] = t;
                t = py[i];
                py[i] = py[j];
                py[j] = t;
            }
        }
    }
    int64_t count = 0;
    if (fabs(delta) < 1e-20) {
        for (int64_t i = 0; i < len; ++i) {
            out[2 * count] = (int32_t)px[i];
            out[2 * count + 1] = (int32_t)py[i];
            count++;
        }
        return count;
    }
    const double pi = 3.14159265358979323846, two_pi = 2 * pi;
    double y_tol = 0.25;
    if (y_tol > fabs(delta) * 0.25)
        y_tol = fabs(delta) * 0.25;
    double steps = pi / acos(1 - y_tol / fabs(delta));
    if (steps > fabs(delta) * pi)
        steps = fabs(delta) * pi;
    double sin_step = sin(two_pi / steps), cos_step = cos(two_pi / steps);
    double steps_per_rad = steps / two_pi;
    if (delta < 0.0)
        sin_step = -sin_step;
    double nx[64], ny[64];
    for (int64_t j = 0; j < len; ++j) {
        int64_t k = j + 1 < len ? j + 1 : 0;
        if (px[k] == px[j] && py[k] == py[j]) {
            nx[j] = ny[j] = 0;
            continue;
        }
        double dx = (double)(px[k] - px[j]), dy = (double)(py[k] - py[j]);
        double f = 1 * 1.0 / sqrt(dx * dx + dy * dy);
        dx *= f;
        dy *= f;
        nx[j] = dy;
        ny[j] = -dx;
    }
    int64_t k = len - 1;
    for (int64_t j = 0; j < len; ++j) {
        double sin_a = nx[k] * ny[j] - nx[j] * ny[k];
        if (fabs(sin_a * delta) < 1.0) {
            double cos_a = nx[k] * nx[j] + ny[j] * ny[k];
            if (cos_a > 0) {
                out[2 * count] = (int32_t)clipper_round(px[j] + nx[k] * delta);
                out[2 * count + 1] = (int32_t)clipper_round(py[j] + ny[k] * delta);
                count++;
                continue; /* Clipper returns here without advancing k */
            }
        } else if (sin_a > 1.0)
            sin_a = 1.0;
        else if (sin_a < -1.0)
            sin_a = -1.0;
        if (sin_a * delta < 0) {
            out[2 * count] = (int32_t)clipper_round(px[j] + nx[k] * delta);
            out[2 * count + 1] = (int32_t)clipper_round(py[j] + ny[k] * delta);
            count++;
            out[2 * count] = (int32_t)px[j];
            out[2 * count + 1] = (int32_t)py[j];
            count++;
            out[2 * count] = (int32_t)clipper_round(px[j] + nx[j] * delta);
            out[2 * count + 1] = (int32_t)clipper_round(py[j] + ny[j] * delta);
            count++;
        } else {
            double a = atan2(sin_a, nx[k] * nx[j] + ny[k] * ny[j]);
            int steps_here = (int)clipper_round(steps_per_rad * fabs(a));
            if (steps_here < 1)
                steps_here = 1;
            double X = nx[k], Y = ny[k], X2;
            for (int s = 0; s < steps_here; ++s) {
                out[2 * count] = (int32_t)clipper_round(px[j] + X * delta);
                out[2 * count + 1] = (int32_t)clipper_round(py[j] + Y * delta);
                count++;
                X2 = X;
                X = X * cos_step - sin_step * Y;
                Y = X2 * sin_step + Y * cos_step;
            }
            out[2 * count] = (int32_t)clipper_round(px[j] + nx[j] * delta);
            out[2 * count + 1] = (int32_t)clipper_round(py[j] + ny[j] * delta);
            count++;
        }
        k = j;
    }
    return count;
}

/* ------------------------------------------------------------------ ordering and the driver */

void hpi_order_points_clockwise(const float pts[8], float out[8])
{
    float sums[4], diffs[3];
    int imin = 0, imax = 0;
    for (int i = 0; i < 4; ++i)
        sums[i] = pts[2 * i] + pts[2 * i + 1];
    for (int i = 1; i < 4; ++i) {
        if (sums[i] < sums[imin])
            imin = i;
        if (sums[i] > sums[imax])
            imax = i;
    }
    int rest[4], nrest = 0;
    for (int i = 0; i < 4; ++i)
        if (i != imin && i != imax)
            rest[nrest++] = i;
    for (int i = 0; i < nrest; ++i)
        diffs[i] = pts[2 * rest[i] + 1] - pts[2 * rest[i]];
    int dmin = 0, dmax = 0;
    for (int i = 1; i < nrest; ++i) {
        if (diffs[i] < diffs[dmin])
            dmin = i;
        if (diffs[i] > diffs[dmax])
            dmax = i;
    }
    out[0] = pts[2 * imin];
    out[1] = pts[2 * imin + 1];
    out[4] = pts[2 * imax];
    out[5] = pts[2 * imax + 1];
    out[2] = pts[2 * rest[dmin]];
    out[3] = pts[2 * rest[dmin] + 1];
    out[6] = pts[2 * rest[dmax]];
    out[7] = pts[2 * rest[dmax] + 1];
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* box_score_fast: bounds floored/ceiled and clipped, vertices shifted and truncated. */
static double score_fast(const float *prob, int64_t h, int64_t w, const float box[8], uint8_t *mask, void *work)
{
    float fxmin = box[0], fxmax = box[0], fymin = box[1], fymax = box[1];
    for (int i = 1; i < 4; ++i) {
        fxmin = box[2 * i] < fxmin ? box[2 * i] : fxmin;
        fxmax = box[2 * i] > fxmax ? box[2 * i] : fxmax;
        fymin = box[2 * i + 1] < fymin ? box[2 * i + 1] : fymin;
        fymax = box[2 * i + 1] > fymax ? box[2 * i + 1] : fymax;
    }
    int64_t xmin = clamp64((int64_t)floorf(fxmin), 0, w - 1), xmax = clamp64((int64_t)ceilf(fxmax), 0, w - 1);
    int64_t ymin = clamp64((int64_t)floorf(fymin), 0, h - 1), ymax = clamp64((int64_t)ceilf(fymax), 0, h - 1);
    int32_t local[8];
    for (int i = 0; i < 4; ++i) {
        local[2 * i] = (int32_t)(box[2 * i] - (float)xmin);
        local[2 * i + 1] = (int32_t)(box[2 * i + 1] - (float)ymin);
    }
    return hpi_polygon_mean(prob, w, local, 4, xmin, ymin, xmax, ymax, mask, work);
}

/* box_score_slow: the contour polygon itself. */
static double score_slow(const float *prob, int64_t h, int64_t w, const int32_t *contour, int64_t n, int32_t *local,
                         uint8_t *mask, void *work)
{
    int64_t xmin = contour[0], xmax = contour[0], ymin = contour[1], ymax = contour[1];
    for (int64_t i = 1; i < n; ++i) {
        xmin = contour[2 * i] < xmin ? contour[2 * i] : xmin;
        xmax = contour[2 * i] > xmax ? contour[2 * i] : xmax;
        ymin = contour[2 * i + 1] < ymin ? contour[2 * i + 1] : ymin;
        ymax = contour[2 * i + 1] > ymax ? contour[2 * i + 1] : ymax;
    }
    xmin = clamp64(xmin, 0, w - 1);
    xmax = clamp64(xmax, 0, w - 1);
    ymin = clamp64(ymin, 0, h - 1);
    ymax = clamp64(ymax, 0, h - 1);
    for (int64_t i = 0; i < n; ++i) {
        local[2 * i] = (int32_t)(contour[2 * i] - xmin);
        local[2 * i + 1] = (int32_t)(contour[2 * i + 1] - ymin);
    }
    return hpi_polygon_mean(prob, w, local, n, xmin, ymin, xmax, ymax, mask, work);
}

double hpi_db_score_fast(const float *prob, int64_t h, int64_t w, const float box[8], uint8_t *mask, void *work)
{
    return score_fast(prob, h, w, box, mask, work);
}

double hpi_db_score_slow(const float *prob, int64_t h, int64_t w, const int32_t *contour, int64_t n, int32_t *local,
                         uint8_t *mask, void *work)
{
    return score_slow(prob, h, w, contour, n, local, mask, work);
}

int64_t hpi_db_unclip(const float box[8], double unclip_ratio, int32_t *out)
{
    double area = 0, length = 0;
    for (int i = 0, j = 3; i < 4; j = i++) {
        area += (double)box[2 * j] * box[2 * i + 1] - (double)box[2 * i] * box[2 * j + 1];
        length += hypot((double)box[2 * i] - box[2 * j], (double)box[2 * i + 1] - box[2 * j + 1]);
    }
    area = fabs(area) * 0.5;
    if (length == 0)
        return 0;
    int64_t count = hpi_offset_polygon(box, 4, area * unclip_ratio / length, out);
    if (count < 3)
        return 0;
    double a = 0;
    for (int64_t i = 0, j = count - 1; i < count; j = i++)
        a += (double)out[2 * j] * out[2 * i + 1] - (double)out[2 * i] * out[2 * j + 1];
    return a == 0 ? 0 : count; /* Clipper's union of a zero-area path is empty */
}

double hpi_db_unclip_distance(const float box[8], double unclip_ratio)
{
    double area = 0, length = 0;
    for (int i = 0, j = 3; i < 4; j = i++) {
        area += (double)box[2 * j] * box[2 * i + 1] - (double)box[2 * i] * box[2 * j + 1];
        length += hypot((double)box[2 * i] - box[2 * j], (double)box[2 * i + 1] - box[2 * j + 1]);
    }
    return length == 0 ? 0 : fabs(area) * 0.5 * unclip_ratio / length;
}

int hpi_db_finish_box(const float box[8], int64_t h, int64_t w, int src_h, int src_w, int32_t out[8])
{
    float rescaled[8], ordered[8];
    for (int i = 0; i < 4; ++i) {
        volatile float qx = box[2 * i] / (float)w;
        volatile float qy = box[2 * i + 1] / (float)h;
        float sx = nearbyintf(qx * (float)src_w);
        float sy = nearbyintf(qy * (float)src_h);
        sx = sx < 0 ? 0 : sx > (float)src_w ? (float)src_w : sx;
        sy = sy < 0 ? 0 : sy > (float)src_h ? (float)src_h : sy;
        rescaled[2 * i] = (float)(int32_t)sx;
        rescaled[2 * i + 1] = (float)(int32_t)sy;
    }
    hpi_order_points_clockwise(rescaled, ordered);
    for (int i = 0; i < 4; ++i) {
        float x = ordered[2 * i], y = ordered[2 * i + 1];
        x = x < 0 ? 0 : x > (float)(src_w - 1) ? (float)(src_w - 1) : x;
        y = y < 0 ? 0 : y > (float)(src_h - 1) ? (float)(src_h - 1) : y;
        out[2 * i] = (int32_t)x;
        out[2 * i + 1] = (int32_t)y;
    }
    int64_t wx = out[0] - out[2], wy = out[1] - out[3], hx = out[0] - out[6], hy = out[1] - out[7];
    return !(wx * wx + wy * wy < 16 || hx * hx + hy * hy < 16);
}

int64_t hpi_db_quads(const float *prob, int64_t h, int64_t w, const int32_t *points, const int64_t *offsets,
                     int64_t num_contours, const hpi_db_params *params, int32_t *boxes, float *scores)
{
    int64_t max_len = 4;
    for (int64_t c = 0; c < num_contours; ++c) {
        int64_t len = offsets[c + 1] - offsets[c];
        max_len = len > max_len ? len : max_len;
    }
    double max_delta = (double)(h > w ? h : w) * (params->unclip_ratio > 0 ? params->unclip_ratio : 0) + 4;
    int64_t offset_cap = hpi_offset_capacity(4, max_delta);
    int64_t work_points = max_len > offset_cap ? max_len : offset_cap;
    size_t rect_bytes = hpi_min_area_rect_work_size(work_points);
    size_t fill_bytes = hpi_fill_work_size(max_len + 4, h + 1);
    void *rect_work = malloc(rect_bytes);
    void *fill_work = malloc(fill_bytes);
    uint8_t *mask = (uint8_t *)calloc((size_t)(h * w) + 1, 1);
    int32_t *scratch = (int32_t *)malloc((size_t)(2 * work_points + 8) * sizeof(int32_t));
    int64_t kept = 0;
    if (!rect_work || !fill_work || !mask || !scratch) {
        kept = -1;
        goto done;
    }
    for (int64_t c = 0; c < num_contours; ++c) {
        const int32_t *contour = points + 2 * offsets[c];
        int64_t len = offsets[c + 1] - offsets[c];
        hpi_rotated_rect rect;
        float corners[8], box[8];
        if (len <= 0 || hpi_min_area_rect(contour, len, rect_work, &rect) != 0)
            continue;
        if ((rect.width < rect.height ? rect.width : rect.height) < HPI_DB_MIN_SIZE)
            continue;
        hpi_box_points(&rect, corners);
        hpi_order_mini_box(corners, box);
        double score = params->slow_score ? score_slow(prob, h, w, contour, len, scratch, mask, fill_work)
                                          : score_fast(prob, h, w, box, mask, fill_work);
        if (params->box_thresh > score)
            continue;
        if (hpi_offset_capacity(4, hpi_db_unclip_distance(box, params->unclip_ratio)) > offset_cap)
            continue; /* cannot happen for a box inside the map */
        int64_t count = hpi_db_unclip(box, params->unclip_ratio, scratch);
        if (count < 3)
            continue;
        if (hpi_min_area_rect(scratch, count, rect_work, &rect) != 0)
            continue;
        if ((rect.width < rect.height ? rect.width : rect.height) < HPI_DB_MIN_SIZE + 2)
            continue;
        hpi_box_points(&rect, corners);
        hpi_order_mini_box(corners, box);
        int32_t out[8];
        if (!hpi_db_finish_box(box, h, w, params->src_h, params->src_w, out))
            continue;
        memcpy(boxes + 8 * kept, out, sizeof(out));
        scores[kept] = (float)score;
        kept++;
    }
done:
    free(rect_work);
    free(fill_work);
    free(mask);
    free(scratch);
    return kept;
}

int hpi_threshold_map(const float *prob, int64_t count, float thresh, uint8_t *bitmap)
{
    int bad = 0;
    int64_t i = 0;
#if defined(__SSE2__)
    /* 16 floats → 16 mask bytes per step (compare, then saturating packs: -1 → 0xFF); v - v is
     * NaN exactly when v is NaN or ±Inf. */
    const __m128 t = _mm_set1_ps(thresh);
    __m128 nonfinite = _mm_setzero_ps();
    for (; i + 16 <= count; i += 16) {
        __m128 a = _mm_loadu_ps(prob + i), b = _mm_loadu_ps(prob + i + 4);
        __m128 c = _mm_loadu_ps(prob + i + 8), d = _mm_loadu_ps(prob + i + 12);
        __m128 da = _mm_sub_ps(a, a), db = _mm_sub_ps(b, b), dc = _mm_sub_ps(c, c), dd = _mm_sub_ps(d, d);
        nonfinite = _mm_or_ps(nonfinite, _mm_or_ps(_mm_cmpunord_ps(da, db), _mm_cmpunord_ps(dc, dd)));
        __m128i ab = _mm_packs_epi32(_mm_castps_si128(_mm_cmpgt_ps(a, t)), _mm_castps_si128(_mm_cmpgt_ps(b, t)));
        __m128i cd = _mm_packs_epi32(_mm_castps_si128(_mm_cmpgt_ps(c, t)), _mm_castps_si128(_mm_cmpgt_ps(d, t)));
        _mm_storeu_si128((__m128i *)(bitmap + i), _mm_packs_epi16(ab, cd));
    }
    bad = _mm_movemask_ps(nonfinite) != 0;
#endif
    for (; i < count; ++i) {
        float v = prob[i];
        bad |= !(v - v == 0.0f); /* NaN or ±Inf */
        bitmap[i] = v > thresh ? 255 : 0;
    }
    return bad;
}
