/* CTC greedy decoding: fused argmax + max probability per step, then collapse. */
#include "hpi_kernels.h"

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define HPI_X86 1
#include <immintrin.h>
#endif

/* Scalar row scan: max, then the first index holding it (numpy.argmax takes the first of ties). */
static int row_argmax_scalar(const float *p, int64_t classes, int32_t *index, float *max_prob)
{
    float best = p[0];
    int nan_found = 0;
    for (int64_t j = 0; j < classes; ++j) {
        float v = p[j];
        nan_found |= (v != v);
        best = v > best ? v : best;
    }
    int64_t at = 0;
    while (at < classes && p[at] != best)
        ++at;
    *index = (int32_t)(at == classes ? 0 : at);
    *max_prob = best;
    return nan_found;
}

#ifdef HPI_X86
/* AVX2: 32 floats per iteration into 4 max accumulators plus an unordered (NaN) check, then a
 * compare-and-movemask search for the first lane equal to the maximum; the row (26 KB for
 * PP-OCR's 6625 classes) is still in L1 for that second pass. */
__attribute__((target("avx2"))) static int row_argmax_avx2(const float *p, int64_t classes, int32_t *index,
                                                              float *max_prob)
{
    if (classes < 32)
        return row_argmax_scalar(p, classes, index, max_prob);
    __m256 m0 = _mm256_loadu_ps(p), m1 = m0, m2 = m0, m3 = m0;
    __m256 nan_acc = _mm256_setzero_ps();
    int64_t j = 0;
    for (; j + 32 <= classes; j += 32) {
        __m256 a = _mm256_loadu_ps(p + j), b = _mm256_loadu_ps(p + j + 8);
        __m256 c = _mm256_loadu_ps(p + j + 16), d = _mm256_loadu_ps(p + j + 24);
        nan_acc = _mm256_or_ps(nan_acc, _mm256_cmp_ps(a, b, _CMP_UNORD_Q));
        nan_acc = _mm256_or_ps(nan_acc, _mm256_cmp_ps(c, d, _CMP_UNORD_Q));
        m0 = _mm256_max_ps(m0, a);
        m1 = _mm256_max_ps(m1, b);
        m2 = _mm256_max_ps(m2, c);
        m3 = _mm256_max_ps(m3, d);
    }
    m0 = _mm256_max_ps(_mm256_max_ps(m0, m1), _mm256_max_ps(m2, m3));
    float lanes[8];
    _mm256_storeu_ps(lanes, m0);
    float best = lanes[0];
    for (int k = 1; k < 8; ++k)
        best = lanes[k] > best ? lanes[k] : best;
    int nan_found = _mm256_movemask_ps(nan_acc) != 0;
    for (; j < classes; ++j) {
        float v = p[j];
        nan_found |= (v != v);
        best = v > best ? v : best;
    }
    __m256 target = _mm256_set1_ps(best);
    int64_t at = 0;
    for (; at + 8 <= classes; at += 8) {
        int mask = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(p + at), target, _CMP_EQ_OQ));
        if (mask) {
            *index = (int32_t)(at + __builtin_ctz((unsigned)mask));
            *max_prob = best;
            return nan_found;
        }
    }
    while (at < classes && p[at] != best)
        ++at;
    *index = (int32_t)(at == classes ? 0 : at);
    *max_prob = best;
    return nan_found;
}

static int have_avx2(void)
{
    static int cached = -1;
    if (cached < 0)
        cached = __builtin_cpu_supports("avx2") ? 1 : 0;
    return cached;
}
#endif

int hpi_ctc_argmax_rows(const float *probs, int64_t rows, int64_t classes, int32_t *indices, float *max_probs)
{
    int nan_found = 0;
#ifdef HPI_X86
    int avx2 = have_avx2();
#endif
    for (int64_t r = 0; r < rows; ++r) {
        const float *p = probs + r * classes;
        if (classes <= 0) {
            indices[r] = 0;
            max_probs[r] = 0.0f;
            continue;
        }
#ifdef HPI_X86
        if (avx2) {
            nan_found |= row_argmax_avx2(p, classes, &indices[r], &max_probs[r]);
            continue;
        }
#endif
        nan_found |= row_argmax_scalar(p, classes, &indices[r], &max_probs[r]);
    }
    return nan_found;
}

int64_t hpi_ctc_collapse(const int32_t *indices, const float *max_probs, int64_t steps, int32_t *out, double *score)
{
    int64_t kept = 0;
    double total = 0.0;
    int32_t previous = -1;
    for (int64_t t = 0; t < steps; ++t) {
        int32_t idx = indices[t];
        if (idx != 0 && idx != previous) {
            out[kept++] = idx;
            total += (double)max_probs[t];
        }
        previous = idx;
    }
    *score = kept ? total / (double)kept : 0.0;
    return kept;
}
