"""hpi's CSV reading for time series equals pandas.read_csv (PaddleX's reader) on every file it takes, and
hands every other file to pandas."""

from __future__ import annotations

import io

import numpy as np
import pytest

pd = pytest.importorskip("pandas", reason="time series need pandas (pip install hpi[ts])")

from hpi.timeseries.table import iso_times, read_csv_table, read_plain_csv  # noqa: E402


def same_as_pandas(table, data: bytes) -> None:
    expected = pd.read_csv(io.BytesIO(data))
    assert table.names == tuple(str(c) for c in expected.columns)
    assert len(table) == len(expected)
    for name in expected.columns:
        want = expected[name].to_numpy()
        got = table.column(name)
        if want.dtype.kind == "f":
            assert got.dtype == np.float64, name
            np.testing.assert_array_max_ulp(np.nan_to_num(got, nan=7.0), np.nan_to_num(want, nan=7.0), 1)
            np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        elif want.dtype != object:
            assert got.dtype == want.dtype and (got == want).all(), name
        else:
            assert got.dtype == object, name
            assert [None if isinstance(v, float) and np.isnan(v) else v for v in got] == \
                   [None if isinstance(v, float) and np.isnan(v) else v for v in want], name


def frames():
    """DataFrames of the forms users' series come in, written by pandas as users write them."""
    rng = np.random.default_rng(3)
    n = 50
    hourly = pd.date_range("2024-01-01", periods=n, freq="h")
    yield pd.DataFrame({"date": hourly, "OT": rng.normal(size=n)})
    yield pd.DataFrame({"date": hourly.strftime("%Y-%m-%d"), "a": rng.integers(-5, 5, n), "b": rng.random(n)})
    yield pd.DataFrame({"date": hourly.strftime("%Y-%m-%dT%H:%M"), "v": np.where(rng.random(n) < 0.2, np.nan,
                                                                              rng.normal(size=n) * 1e6)})
    yield pd.DataFrame({"time": np.arange(n), "value": rng.normal(size=n), "label": rng.integers(0, 3, n)})
    yield pd.DataFrame({"date": hourly, "group_id": np.repeat(["shop A", "shop B"], n // 2),
                        "sales": rng.random(n) * 100, "note": ["NA" if i % 7 == 0 else "ok" for i in range(n)]})
    yield pd.DataFrame({"date": pd.date_range("2024-01-01", periods=n, freq="250ms"), "x": rng.random(n)})
    yield pd.DataFrame({"date": hourly, "flag": rng.random(n) < 0.5, "v": rng.random(n)})  # bools: pandas' own
    yield pd.DataFrame({"date": hourly, "v": np.where(np.arange(n) == 3, np.inf, rng.random(n))})
    yield pd.DataFrame({"date": hourly, "city": ["São Paulo", "東京"] * (n // 2), "v": rng.random(n)})


PLAIN = [0, 1, 2, 3, 4, 5, 8]  # the frames above whose files hpi reads without pandas


def test_files_pandas_writes_read_equal_to_pandas():
    for number, frame in enumerate(frames()):
        data = frame.to_csv(index=False).encode("utf-8")
        plain = read_plain_csv(data)
        assert (plain is not None) == (number in PLAIN), number
        same_as_pandas(read_csv_table(data, "x.csv"), data)
        if plain is not None:
            same_as_pandas(plain, data)
            assert plain.frame().equals(pd.read_csv(io.BytesIO(data)))


@pytest.mark.parametrize("data, plain", [
    (b"date,v\r\n2024-01-01,1\r\n2024-01-02,2\r\n", True),  # Windows line ends
    (b"date,v\n2024-01-01,1\n2024-01-02,2", True),  # no final newline
    (b"date,v,w\n2024-01-01,,x\n2024-01-02,2,\n", True),  # empty fields: NaN
    (b"date,v\n2024-01-01,null\n2024-01-02,2\n", False),  # an NA spelling in numbers: pandas' float column
    (b"date,v\n2024-01-01, 1.5\n2024-01-02,2\n", False),  # a space before a number
    (b"date,v\n2024-01-01,inf\n2024-01-02,2\n", False),
    (b"date,v\n2024-01-01,True\n2024-01-02,False\n", False),
    (b"date,v\n2024-01-01,99999999999999999999\n2024-01-02,2\n", False),  # beyond int64
    (b'date,v\n"2024-01-01",1\n2024-01-02,2\n', False),  # quotes
    (b"\xef\xbb\xbfdate,v\n2024-01-01,1\n", False),  # byte-order mark
    (b"date,v\n2024-01-01,1\n\n2024-01-02,2\n", False),  # a blank line
    (b"date,v\n2024-01-01,1,3\n2024-01-02,2\n", False),  # ragged
    (b"date,v\n2024-01-01,1,3\n2024-01-02,2,4\n", False),  # one more field than names: pandas' index
    (b"v,v\n1,2\n", False),  # repeated names
    (b"date,\n2024-01-01,1\n", False),  # an unnamed column
    (b"date, v\n2024-01-01,1\n", False),  # a name with a space
    (b"only\n1\n2\n", False),  # one column
    (b"date,v\n2024-01-01,caf\xc3\xa9\n", True),
    (b"date,g\n2024-01-01,1e\n2024-01-02,abc\n", True),
])
def test_edge_files_are_read_as_pandas_reads_them(data, plain):
    table = read_plain_csv(data)
    assert (table is not None) == plain
    same_as_pandas(read_csv_table(data, "x.csv"), data)
    if table is not None:
        same_as_pandas(table, data)


def test_a_file_that_is_not_utf8_is_refused_by_both_paths():
    from hpi.errors import InputError

    assert read_plain_csv(b"date,v\n2024-01-01,caf\xe9\n") is None
    with pytest.raises(InputError, match="UTF-8"):
        read_csv_table(b"date,v\n2024-01-01,caf\xe9\n", "x.csv")


def test_groups_keep_their_lines_and_their_rows_of_the_frame():
    data = b"date,g,v\n2024-01-01,a,1\n2024-01-01,b,2\n2024-01-02,a,3\n2024-01-02,b,4\n"
    table = read_plain_csv(data)
    group = table.take(table.column("g") == "b")
    assert group.labels.tolist() == [1, 3] and group.column("v").tolist() == [2, 4]
    expected = pd.read_csv(io.BytesIO(data))
    assert group.frame().equals(expected[expected["g"] == "b"])


@pytest.mark.parametrize("layout", ["%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M",
                                    "%Y-%m-%dT%H:%M:%S.%f"])
def test_iso_times_equal_pandas(layout):
    times = pd.date_range("1999-12-31 22:00", periods=40, freq="37min")
    text = np.array(list(times.strftime(layout)), dtype=object)
    expected = pd.to_datetime(pd.Series(text)).to_numpy()
    for values in (text, np.array(text.tolist(), dtype=bytes)):
        got = iso_times(values)
        assert got is not None and got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("values", [
    ["2024-01-01 00:00:00", "2024-01-01T01:00:00"],  # another layout in a later row
    ["2024-01-01", "2024-01-02 00:00"],  # a longer value
    ["2024-01-01 00:00", "2024-01-01 1:00"],  # a shorter value
    ["2024-01-01 00:00:00+08:00", "2024-01-01 01:00:00+08:00"],  # a time zone: pandas keeps it
    ["2024-13-01", "2024-14-01"],  # no such month: pandas says which row
    ["2024/01/01", "2024/01/02"], ["20240101", "20240102"], ["01-02-2024", "01-03-2024"],
    ["2024-01-01 00:00:00.1234567", "2024-01-01 00:00:00.1234568"],  # beyond microseconds
    ["2024-01-01", float("nan")], ["2024-01-01", "2024-01-0\u0661"],
])
def test_other_forms_are_left_to_pandas(values):
    assert iso_times(np.array(values, dtype=object)) is None


def test_na_spellings_are_pandas_own():
    """The reader's NA spellings are pandas' defaults (a pandas that changes them fails here, not silently)."""
    parsers = pytest.importorskip("pandas._libs.parsers", reason="pandas moved its NA list")
    from hpi.timeseries.table import NA_STRINGS

    assert set(parsers.STR_NA_VALUES) == set(NA_STRINGS)


def test_groups_of_a_file_pandas_read_take_its_rows_without_reading_it_again(monkeypatch):
    data = b'date,g,v\n"2024-01-01",a,1\n2024-01-01,b,2\n2024-01-02,a,3\n'  # quoted: pandas reads it
    table = read_csv_table(data, "x.csv")
    monkeypatch.setattr(pd, "read_csv", lambda *a, **k: (_ for _ in ()).throw(AssertionError("read again")))
    group = table.take(table.column("g") == "a")
    assert group.frame()["v"].tolist() == [1, 3] and group.labels.tolist() == [0, 2]
