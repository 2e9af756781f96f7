"""Plain CSV columns (the time-series reader's kernel): typing and values, compiled against the reference."""

from __future__ import annotations

import numpy as np
import pytest

from hpi.errors import InputError

# Fields of every grammar the kernel tells apart, with the edges of each.
INTS = [b"0", b"7", b"-3", b"+5", b"007", b"9223372036854775807", b"-9223372036854775808"]
FLOATS = [b"1.5", b"-0.25", b"+.5e-3", b"1.", b".5", b"1e5", b"2E-3", b"1.e5", b"1e400", b"4.9e-324",
          b"0.1000000000000000055511151231257827", b"123456789012345678901234567890"]
TEXT = [b"-", b".", b"1e", b"e5", b"1.2.3", b"1-2", b"abc", b"2024-01-01 00:00:00", b"inf", b"nan", b" 1",
        b"1_000", b"NA", "\u00e9t\u00e9".encode(), b"+", b"1e+"]


def same_columns(left, right):
    assert (left is None) == (right is None)
    if left is None:
        return
    assert len(left) == len(right)
    for a, b in zip(left, right):
        assert a.dtype == b.dtype
        if a.dtype.kind == "f":
            np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
            np.testing.assert_array_equal(a[~np.isnan(a)], b[~np.isnan(b)])
        else:
            np.testing.assert_array_equal(a, b)


def body(rows):
    return b"\n".join(b",".join(row) for row in rows)


def test_each_column_is_typed_as_pandas_types_it(kernels):
    rows = [[b"2024-01-01 00:00:00", b"1.5", b"3", b""], [b"2024-01-01 01:00:00", b"", b"-4", b""],
            [b"2024-01-01 02:00:00", b"1e3", b"+7", b""]]
    dates, values, ints, empty = kernels.csv_columns(body(rows), 4, 3)
    assert dates.dtype == np.dtype("S19") and dates[1] == b"2024-01-01 01:00:00"
    np.testing.assert_array_equal(values, [1.5, np.nan, 1000.0])
    assert ints.dtype == np.int64 and ints.tolist() == [3, -4, 7]
    assert empty.dtype == np.float64 and np.isnan(empty).all()


def test_ragged_lines_and_int64_overflow_are_left_to_pandas(kernels):
    assert kernels.csv_columns(b"1,2\n3", 2, 2) is None
    assert kernels.csv_columns(b"1,2\n3,4,5", 2, 2) is None
    assert kernels.csv_columns(b"1,2\n3,4", 2, 3) is None
    assert kernels.csv_columns(b"9223372036854775808,1", 2, 1) is None
    assert kernels.csv_columns(b"-9223372036854775809,1", 2, 1) is None
    assert kernels.csv_columns(b"9223372036854775808.0,1", 2, 1)[0][0] == 9223372036854775808.0


def test_bad_arguments_are_input_errors(kernels):
    with pytest.raises(InputError, match="bytes"):
        kernels.csv_columns("1,2", 2, 1)
    with pytest.raises(InputError, match="≥ 1"):
        kernels.csv_columns(b"1,2", 0, 1)


def test_compiled_equals_reference_on_generated_files(compiled, reference):
    rng = np.random.default_rng(7)
    pools = [INTS, INTS + FLOATS, FLOATS + [b""], INTS + [b""], TEXT + INTS, TEXT, FLOATS + TEXT[:3]]
    for case in range(300):
        width = int(rng.integers(1, 5))
        lines = int(rng.integers(1, 12))
        pool_of = [pools[int(rng.integers(len(pools)))] for _ in range(width)]
        rows = [[pool_of[c][int(rng.integers(len(pool_of[c])))] for c in range(width)] for _ in range(lines)]
        if case % 25 == 0:  # a ragged line now and then
            rows[int(rng.integers(lines))].append(b"9")
        data = body(rows)
        same_columns(compiled.csv_columns(data, width, lines), reference.csv_columns(data, width, lines))


def test_long_fields_parse_as_short_ones(compiled, reference):
    long_number = b"0." + b"0" * 300 + b"15"
    data = body([[long_number, b"x" * 1000]])
    same_columns(compiled.csv_columns(data, 2, 1), reference.csv_columns(data, 2, 1))
    assert compiled.csv_columns(data, 2, 1)[0][0] == float(long_number)
