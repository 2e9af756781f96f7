/* Curved text rectification: a bent text band (a seal's arc) straightened into an upright line.
 *
 * The reference is hpi/kernels/_reference_curved.py; every step here is the same float64
 * arithmetic in the same order (sqrt for distances, the C library's atan2), so both give the
 * same pixels up to the final rounding. */
#include <math.h>
#include <stdlib.h>

#include "hpi_kernels.h"

#define STEPS_PER_HEIGHT 8
#define MIN_OUTLINE_POINTS 32
#define MAX_OUTLINE_POINTS 1024
#define TURN_SPAN 2
#define CORNER_SUPPRESS 3

static double dist(double dx, double dy) { return sqrt(dx * dx + dy * dy); }

static int64_t pmod(int64_t a, int64_t m) { return ((a % m) + m) % m; }

static double clamp01(double f) { return f < 0.0 ? 0.0 : (f > 1.0 ? 1.0 : f); }

/* Points evenly spaced along the closed outline (STEPS_PER_HEIGHT per band height), from point 0. */
static int64_t resample_closed(const double *points, int64_t n, double *out)
{
    double lengths_stack[256];
    double *lengths = n <= 256 ? lengths_stack : (double *)malloc((size_t)n * sizeof(double));
    if (!lengths)
        return -1;
    double total = 0.0, area = 0.0;
    for (int64_t i = 0; i < n; ++i) {
        int64_t j = (i + 1) % n;
        double d = dist(points[2 * j] - points[2 * i], points[2 * j + 1] - points[2 * i + 1]);
        lengths[i] = d;
        total += d;
    }
    for (int64_t i = 0; i < n; ++i) {
        int64_t j = (i + 1) % n;
        area += points[2 * i] * points[2 * j + 1] - points[2 * j] * points[2 * i + 1];
    }
    area = fabs(area) * 0.5;
    double height = total > 0 ? 2.0 * area / total : 0.0;
    int64_t count = MIN_OUTLINE_POINTS;
    if (height > 0) {
        count = (int64_t)floor(STEPS_PER_HEIGHT * total / height + 0.5);
        count = count < MIN_OUTLINE_POINTS ? MIN_OUTLINE_POINTS : (count > MAX_OUTLINE_POINTS ? MAX_OUTLINE_POINTS : count);
    }
    int64_t edge = 0;
    double walked = 0.0;
    for (int64_t k = 0; k < count; ++k) {
        double target = total * (double)k / (double)count;
        while (edge < n - 1 && walked + lengths[edge] < target) {
            walked += lengths[edge];
            ++edge;
        }
        int64_t j = (edge + 1) % n;
        double f = lengths[edge] > 0 ? (target - walked) / lengths[edge] : 0.0;
        f = clamp01(f);
        out[2 * k] = points[2 * edge] + f * (points[2 * j] - points[2 * edge]);
        out[2 * k + 1] = points[2 * edge + 1] + f * (points[2 * j + 1] - points[2 * edge + 1]);
    }
    if (lengths != lengths_stack)
        free(lengths);
    return count;
}

/* The four sharpest turns of the outline, ascending. */
static void find_corners(const double *outline, int64_t m, int64_t corners[4])
{
    double turns[MAX_OUTLINE_POINTS];
    for (int64_t i = 0; i < m; ++i) {
        const double *p = outline + 2 * pmod(i - TURN_SPAN, m);
        const double *c = outline + 2 * i;
        const double *q = outline + 2 * pmod(i + TURN_SPAN, m);
        double ax = c[0] - p[0], ay = c[1] - p[1], bx = q[0] - c[0], by = q[1] - c[1];
        turns[i] = fabs(atan2(ax * by - ay * bx, ax * bx + ay * by));
    }
    for (int taken = 0; taken < 4; ++taken) {
        int64_t best = -1;
        double best_turn = -1.0;
        for (int64_t i = 0; i < m; ++i) {
            int suppressed = 0;
            for (int t = 0; t < taken; ++t) {
                int64_t a = pmod(i - corners[t], m), b = pmod(corners[t] - i, m);
                if ((a < b ? a : b) <= CORNER_SUPPRESS)
                    suppressed = 1;
            }
            if (!suppressed && turns[i] > best_turn) {
                best = i;
                best_turn = turns[i];
            }
        }
        corners[taken] = best;
    }
    for (int i = 1; i < 4; ++i) /* insertion sort of four */
        for (int j = i; j > 0 && corners[j - 1] > corners[j]; --j) {
            int64_t t = corners[j];
            corners[j] = corners[j - 1];
            corners[j - 1] = t;
        }
}

static double line_length(const double *line, int64_t count)
{
    double total = 0.0;
    for (int64_t i = 0; i + 1 < count; ++i)
        total += dist(line[2 * i + 2] - line[2 * i], line[2 * i + 3] - line[2 * i + 1]);
    return total;
}

/* HPI_CURVED_SIDE_POINTS points evenly spaced along an open line, first and last included. */
static void resample_open(const double *line, int64_t count, double *out)
{
    double total = line_length(line, count);
    int64_t edge = 0;
    double walked = 0.0;
    for (int64_t k = 0; k < HPI_CURVED_SIDE_POINTS; ++k) {
        double target = total * (double)k / (double)(HPI_CURVED_SIDE_POINTS - 1);
        while (edge < count - 2) {
            double step = dist(line[2 * edge + 2] - line[2 * edge], line[2 * edge + 3] - line[2 * edge + 1]);
            if (walked + step >= target)
                break;
            walked += step;
            ++edge;
        }
        double step = dist(line[2 * edge + 2] - line[2 * edge], line[2 * edge + 3] - line[2 * edge + 1]);
        double f = step > 0 ? (target - walked) / step : 0.0;
        f = clamp01(f);
        out[2 * k] = line[2 * edge] + f * (line[2 * edge + 2] - line[2 * edge]);
        out[2 * k + 1] = line[2 * edge + 1] + f * (line[2 * edge + 3] - line[2 * edge + 1]);
    }
}

/* Outline points start..stop (inclusive, forward around the outline) into chain; reversed if asked. */
static int64_t copy_chain(const double *outline, int64_t m, int64_t start, int64_t stop, int reverse, double *chain)
{
    int64_t count = pmod(stop - start, m) + 1;
    for (int64_t k = 0; k < count; ++k) {
        int64_t src = (start + k) % m, dst = reverse ? count - 1 - k : k;
        chain[2 * dst] = outline[2 * src];
        chain[2 * dst + 1] = outline[2 * src + 1];
    }
    return count;
}

/* How far the end cap (end, count points) reaches beyond the line between the sides' end points, along the
 * sides' outward direction at that end (0 if it does not). */
static double end_depth(const double *end, int64_t count, const double *top, const double *bottom, int at_start)
{
    int i = at_start ? 0 : HPI_CURVED_SIDE_POINTS - 1, j = at_start ? 1 : HPI_CURVED_SIDE_POINTS - 2;
    double ax = top[2 * i], ay = top[2 * i + 1], bx = top[2 * j], by = top[2 * j + 1];
    double cx = bottom[2 * i], cy = bottom[2 * i + 1], dx = bottom[2 * j], dy = bottom[2 * j + 1];
    double ux = (ax - bx) + (cx - dx), uy = (ay - by) + (cy - dy);
    double norm = dist(ux, uy);
    if (norm <= 0)
        return 0.0;
    ux = ux / norm;
    uy = uy / norm;
    double mx = 0.5 * (ax + cx), my = 0.5 * (ay + cy), depth = 0.0;
    for (int64_t k = 0; k < count; ++k) {
        double reach = (end[2 * k] - mx) * ux + (end[2 * k + 1] - my) * uy;
        if (reach > depth)
            depth = reach;
    }
    return depth;
}

/* line (HPI_CURVED_SIDE_POINTS points) lengthened by start before its first point and stop after its last,
 * along its end segments, resampled in place. */
static void extend_line(double *line, double start, double stop)
{
    double work[2 * (HPI_CURVED_SIDE_POINTS + 2)];
    const int n = HPI_CURVED_SIDE_POINTS;
    double x0 = line[0], y0 = line[1], x1 = line[2], y1 = line[3];
    double xa = line[2 * n - 2], ya = line[2 * n - 1], xb = line[2 * n - 4], yb = line[2 * n - 3];
    double first = dist(x0 - x1, y0 - y1), last = dist(xa - xb, ya - yb);
    int64_t count = 0;
    if (first > 0 && start > 0) {
        work[0] = x0 + (x0 - x1) / first * start;
        work[1] = y0 + (y0 - y1) / first * start;
        count = 1;
    }
    for (int k = 0; k < n; ++k) {
        work[2 * count] = line[2 * k];
        work[2 * count + 1] = line[2 * k + 1];
        ++count;
    }
    if (last > 0 && stop > 0) {
        work[2 * count] = xa + (xa - xb) / last * stop;
        work[2 * count + 1] = ya + (ya - yb) / last * stop;
        ++count;
    }
    resample_open(work, count, line);
}

int hpi_curved_sides(const double *points, int64_t n, double *top, double *bottom)
{
    double outline[2 * MAX_OUTLINE_POINTS];
    double chain[2 * (MAX_OUTLINE_POINTS + 1)];
    if (n < 4)
        return -1;
    int64_t m = resample_closed(points, n, outline);
    if (m < 0)
        return -2;
    int64_t c[4];
    find_corners(outline, m, c);
    int64_t span[4];
    for (int j = 0; j < 4; ++j)
        span[j] = pmod(c[(j + 1) % 4] - c[j], m);
    int first = span[0] + span[2] >= span[1] + span[3] ? 0 : 1;
    int64_t count = copy_chain(outline, m, c[first], c[first + 1], 0, chain);
    resample_open(chain, count, top);
    count = copy_chain(outline, m, c[first + 2], c[(first + 3) % 4], 1, chain);
    resample_open(chain, count, bottom);
    /* The end caps: the one joining the sides' first points, and the one joining their last points. */
    int64_t start_from = c[(first + 3) % 4], start_to = c[first];
    int64_t stop_from = c[first + 1], stop_to = c[first + 2];
    double mean_top = 0.0, mean_bottom = 0.0;
    for (int k = 0; k < HPI_CURVED_SIDE_POINTS; ++k) {
        mean_top += top[2 * k + 1];
        mean_bottom += bottom[2 * k + 1];
    }
    if (mean_top > mean_bottom)
        for (int k = 0; k < 2 * HPI_CURVED_SIDE_POINTS; ++k) {
            double t = top[k];
            top[k] = bottom[k];
            bottom[k] = t;
        }
    double cross = 0.0;
    for (int k = 0; k + 1 < HPI_CURVED_SIDE_POINTS; ++k) {
        double dx = top[2 * k + 2] - top[2 * k], dy = top[2 * k + 3] - top[2 * k + 1];
        double vx = bottom[2 * k] - top[2 * k], vy = bottom[2 * k + 1] - top[2 * k + 1];
        cross += dx * vy - dy * vx;
    }
    if (cross < 0) {
        int64_t t0 = start_from, t1 = start_to;
        start_from = stop_from;
        start_to = stop_to;
        stop_from = t0;
        stop_to = t1;
        for (int k = 0; k < HPI_CURVED_SIDE_POINTS / 2; ++k) {
            int r = HPI_CURVED_SIDE_POINTS - 1 - k;
            for (int d = 0; d < 2; ++d) {
                double t = top[2 * k + d];
                top[2 * k + d] = top[2 * r + d];
                top[2 * r + d] = t;
                t = bottom[2 * k + d];
                bottom[2 * k + d] = bottom[2 * r + d];
                bottom[2 * r + d] = t;
            }
        }
    }
    count = copy_chain(outline, m, start_from, start_to, 0, chain);
    double start = end_depth(chain, count, top, bottom, 1);
    count = copy_chain(outline, m, stop_from, stop_to, 0, chain);
    double stop = end_depth(chain, count, top, bottom, 0);
    extend_line(top, start, stop);
    extend_line(bottom, start, stop);
    return 0;
}

void hpi_curved_size(const double *top, const double *bottom, int64_t *width, int64_t *height)
{
    double w = 0.5 * (line_length(top, HPI_CURVED_SIDE_POINTS) + line_length(bottom, HPI_CURVED_SIDE_POINTS));
    double h = 0.0;
    for (int k = 0; k < HPI_CURVED_SIDE_POINTS; ++k)
        h += dist(bottom[2 * k] - top[2 * k], bottom[2 * k + 1] - top[2 * k + 1]);
    h /= HPI_CURVED_SIDE_POINTS;
    int64_t wi = (int64_t)floor(w + 0.5), hi = (int64_t)floor(h + 0.5);
    *width = wi < 1 ? 1 : wi;
    *height = hi < 1 ? 1 : hi;
}

void hpi_curved_sample(const uint8_t *image, int64_t h, int64_t w, const double *top, const double *bottom,
                       int64_t out_w, int64_t out_h, uint8_t *out)
{
    for (int64_t u = 0; u < out_w; ++u) {
        double t = ((double)u + 0.5) * ((double)(HPI_CURVED_SIDE_POINTS - 1) / (double)out_w);
        int64_t i = (int64_t)t;
        if (i > HPI_CURVED_SIDE_POINTS - 2)
            i = HPI_CURVED_SIDE_POINTS - 2;
        double f = t - (double)i;
        double tx = top[2 * i] + f * (top[2 * i + 2] - top[2 * i]);
        double ty = top[2 * i + 1] + f * (top[2 * i + 3] - top[2 * i + 1]);
        double bx = bottom[2 * i] + f * (bottom[2 * i + 2] - bottom[2 * i]);
        double by = bottom[2 * i + 1] + f * (bottom[2 * i + 3] - bottom[2 * i + 1]);
        for (int64_t v = 0; v < out_h; ++v) {
            double s = ((double)v + 0.5) / (double)out_h;
            double x = tx + s * (bx - tx), y = ty + s * (by - ty);
            x = x < 0.0 ? 0.0 : (x > (double)(w - 1) ? (double)(w - 1) : x);
            y = y < 0.0 ? 0.0 : (y > (double)(h - 1) ? (double)(h - 1) : y);
            int64_t x0 = (int64_t)floor(x), y0 = (int64_t)floor(y);
            x0 = x0 > w - 1 ? w - 1 : x0;
            y0 = y0 > h - 1 ? h - 1 : y0;
            int64_t x1 = x0 + 1 > w - 1 ? w - 1 : x0 + 1, y1 = y0 + 1 > h - 1 ? h - 1 : y0 + 1;
            double fx = x - (double)x0, fy = y - (double)y0;
            const uint8_t *p00 = image + (y0 * w + x0) * 3, *p01 = image + (y0 * w + x1) * 3;
            const uint8_t *p10 = image + (y1 * w + x0) * 3, *p11 = image + (y1 * w + x1) * 3;
            uint8_t *dst = out + (v * out_w + u) * 3;
            for (int ch = 0; ch < 3; ++ch) {
                double a = (double)p00[ch], b = (double)p01[ch], c = (double)p10[ch], d = (double)p11[ch];
                double upper = a + fx * (b - a), lower = c + fx * (d - c);
                double value = floor(upper + fy * (lower - upper) + 0.5);
                dst[ch] = (uint8_t)(value < 0.0 ? 0.0 : (value > 255.0 ? 255.0 : value));
            }
        }
    }
}

void hpi_remove_dark_ink(const uint8_t *image, int64_t pixels, int max_value, int min_saturation, int ink_min_value,
                         uint8_t *out, int64_t *ink_count, int64_t *dark_count)
{
    int64_t ink = 0, dark = 0;
    for (int64_t i = 0; i < pixels; ++i) {
        const uint8_t *p = image + 3 * i;
        uint8_t *q = out + 3 * i;
        int v = p[0], mn = p[0];
        for (int c = 1; c < 3; ++c) {
            v = p[c] > v ? p[c] : v;
            mn = p[c] < mn ? p[c] : mn;
        }
        int saturated = (int64_t)(v - mn) * 255 >= (int64_t)min_saturation * v;
        if (v < max_value && !saturated) {
            q[0] = q[1] = q[2] = 255;
            ++dark;
        } else {
            q[0] = p[0];
            q[1] = p[1];
            q[2] = p[2];
            ink += saturated && v >= ink_min_value;
        }
    }
    *ink_count = ink;
    *dark_count = dark;
}
