/* Plain CSV bodies (no quotes, '\n' line ends): split into fields, type and parse the numeric columns. */
#include "hpi_kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int64_t hpi_csv_split(const uint8_t *data, int64_t size, int64_t width, int64_t *starts, int64_t *ends,
                      int64_t capacity)
{
    int64_t field = 0, column = 0, start = 0, lines = 0;
    for (int64_t i = 0; i <= size; ++i) {
        uint8_t c = i < size ? data[i] : '\n';
        if (c != ',' && c != '\n')
            continue;
        if (field >= capacity)
            return -1;
        starts[field] = start;
        ends[field] = i;
        ++field;
        start = i + 1;
        if (c == ',') {
            if (++column >= width)
                return -1;
        } else {
            if (column != width - 1)
                return -1;
            column = 0;
            ++lines;
        }
    }
    return lines;
}

enum { FIELD_EMPTY, FIELD_INT, FIELD_FLOAT, FIELD_OTHER };

static int is_digit(uint8_t c) { return c >= '0' && c <= '9'; }

/* [+-]?[0-9]+ is INT; [+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)? is FLOAT (Python's float() grammar
 * without spaces, underscores, inf and nan). */
static int field_kind(const uint8_t *p, int64_t n)
{
    if (n == 0)
        return FIELD_EMPTY;
    int64_t i = 0, mantissa = 0;
    if (p[i] == '+' || p[i] == '-')
        ++i;
    while (i < n && is_digit(p[i]))
        ++i, ++mantissa;
    if (i == n)
        return mantissa ? FIELD_INT : FIELD_OTHER;
    if (p[i] == '.') {
        ++i;
        while (i < n && is_digit(p[i]))
            ++i, ++mantissa;
    }
    if (!mantissa)
        return FIELD_OTHER;
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        ++i;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            ++i;
        int64_t exponent = 0;
        while (i < n && is_digit(p[i]))
            ++i, ++exponent;
        if (!exponent)
            return FIELD_OTHER;
    }
    return i == n ? FIELD_FLOAT : FIELD_OTHER;
}

/* A validated INT field as int64; 0 when it does not fit. */
static int parse_int(const uint8_t *p, int64_t n, int64_t *out)
{
    int64_t i = 0;
    int negative = 0;
    if (p[i] == '+' || p[i] == '-')
        negative = p[i++] == '-';
    uint64_t limit = negative ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX, value = 0;
    for (; i < n; ++i) {
        uint64_t digit = (uint64_t)(p[i] - '0');
        if (value > (limit - digit) / 10u)
            return 0;
        value = value * 10u + digit;
    }
    *out = negative ? (int64_t)(0u - value) : (int64_t)value;
    return 1;
}

/* A validated FLOAT (or INT) field as the nearest double (strtod on a NUL-terminated copy). */
static double parse_float(const uint8_t *p, int64_t n)
{
    char small[128];
    char *text = n < (int64_t)sizeof small ? small : (char *)malloc((size_t)n + 1);
    if (!text)
        return NAN;
    memcpy(text, p, (size_t)n);
    text[n] = '\0';
    double value = strtod(text, NULL);
    if (text != small)
        free(text);
    return value;
}

int hpi_csv_numbers(const uint8_t *data, const int64_t *starts, const int64_t *ends, int64_t rows, int64_t width,
                    int64_t column, int64_t *ints, double *floats)
{
    int all_int = 1;
    for (int64_t r = 0; r < rows; ++r) {
        int64_t f = r * width + column;
        int kind = field_kind(data + starts[f], ends[f] - starts[f]);
        if (kind == FIELD_OTHER)
            return HPI_CSV_TEXT;
        all_int &= kind == FIELD_INT;
    }
    for (int64_t r = 0; r < rows; ++r) {
        int64_t f = r * width + column;
        const uint8_t *p = data + starts[f];
        int64_t n = ends[f] - starts[f];
        if (all_int) {
            if (!parse_int(p, n, &ints[r]))
                return HPI_CSV_OUT_OF_RANGE;
        } else {
            floats[r] = n ? parse_float(p, n) : NAN;
        }
    }
    return all_int ? HPI_CSV_INT : HPI_CSV_FLOAT;
}

int64_t hpi_csv_longest(const int64_t *starts, const int64_t *ends, int64_t rows, int64_t width, int64_t column)
{
    int64_t longest = 0;
    for (int64_t r = 0; r < rows; ++r) {
        int64_t n = ends[r * width + column] - starts[r * width + column];
        longest = n > longest ? n : longest;
    }
    return longest;
}

void hpi_csv_gather(const uint8_t *data, const int64_t *starts, const int64_t *ends, int64_t rows, int64_t width,
                    int64_t column, int64_t itemsize, uint8_t *out)
{
    memset(out, 0, (size_t)(rows * itemsize));
    for (int64_t r = 0; r < rows; ++r) {
        int64_t f = r * width + column;
        memcpy(out + r * itemsize, data + starts[f], (size_t)(ends[f] - starts[f]));
    }
}
