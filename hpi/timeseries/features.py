"""PaddleX's time features (``TimeFeature``, ``models/common/ts/funcs.py``), computed on a whole index at once.

A model whose inference.yml says ``time_feat: true`` and that takes ``known_cov_numeric`` gets, for each of
its ``in_chunk_len`` past steps and ``out_chunk_len`` future steps, the calendar of that step scaled to about
[-0.5, 0.5]: hour of day / 23, day of month / 30, day of week / 6, day of year / 364 (each minus 0.5); with
``holiday: true`` also minute of hour / 59, month of year / 11, ISO week of year / 51, and for each of 18
holidays the days since its first date within 200 days before the step, standardised over the steps.
PaddleX computes each value with a Python call per row (``Series.apply``); here each is one numpy expression
on the index, with the same float64 arithmetic.
"""

from __future__ import annotations

import functools

import numpy as np

from .._deps import import_pandas
from ..errors import InputError

BASIC = ("hourofday", "dayofmonth", "dayofweek", "dayofyear")
WITH_HOLIDAYS = ("minuteofhour", "hourofday", "dayofmonth", "dayofweek", "dayofyear", "monthofyear", "weekofyear",
                 "holidays")
HOLIDAY_WINDOW_DAYS = 183 + 17  # PaddleX's MAX_WINDOW


# PaddleX's calendar features: (the index's field, the divisor); each feature is field / divisor - 0.5.
_CALENDAR = {
    "hourofday": (lambda index: index.hour, 23.0),
    "dayofmonth": (lambda index: index.day, 30.0),
    "dayofweek": (lambda index: index.day_of_week, 6.0),
    "dayofyear": (lambda index: index.day_of_year, 364.0),
    "minuteofhour": (lambda index: index.minute, 59.0),
    "monthofyear": (lambda index: index.month, 11.0),
    "weekofyear": (lambda index: index.isocalendar().week, 51.0),  # pandas' old Timestamp.weekofyear: ISO week
}


def _calendar(index, name: str) -> np.ndarray:
    field, divisor = _CALENDAR[name]
    return field(index).to_numpy(np.float64) / divisor - 0.5


@functools.lru_cache(maxsize=1)
def holidays() -> tuple:
    """The 18 holidays of PaddleX's holiday features, in its order (pandas' holiday rules)."""
    pd = import_pandas()
    from pandas.tseries import holiday as hd
    from pandas.tseries.offsets import DateOffset, Day, Easter

    return (
        hd.EasterMonday, hd.GoodFriday, hd.USColumbusDay, hd.USLaborDay, hd.USMartinLutherKingJr,
        hd.USMemorialDay, hd.USPresidentsDay, hd.USThanksgivingDay,
        hd.Holiday("Easter Sunday", month=1, day=1, offset=[Easter(), Day(0)]),
        hd.Holiday("New Years Day", month=1, day=1),
        hd.Holiday("Superbowl", month=2, day=1, offset=DateOffset(weekday=hd.SU(1))),
        hd.Holiday("Mothers Day", month=5, day=1, offset=DateOffset(weekday=hd.SU(2))),
        hd.Holiday("Independence Day", month=7, day=4),
        hd.Holiday("Christmas", month=12, day=24),
        hd.Holiday("Christmas", month=12, day=25),
        hd.Holiday("New Years Eve", month=12, day=31),
        hd.Holiday("Black Friday", month=11, day=1, offset=[pd.DateOffset(weekday=hd.TH(4)), Day(1)]),
        hd.Holiday("Cyber Monday", month=11, day=1, offset=[pd.DateOffset(weekday=hd.TH(4)), Day(4)]),
    )


def holiday_distances(index, holiday) -> np.ndarray:
    """PaddleX's ``_distance_to_holiday``: per step, whole days (floored) since the holiday's first date in the
    window of 200 days either side of the step."""
    pd = import_pandas()
    window = pd.Timedelta(days=HOLIDAY_WINDOW_DAYS)
    dates = holiday.dates(index.min() - window, index.max() + window)
    dates = np.sort(np.asarray(pd.DatetimeIndex(dates).tz_localize(None) if getattr(dates, "tz", None) else dates,
                               dtype="datetime64[ns]"))
    steps = np.asarray(index.tz_localize(None) if index.tz is not None else index, dtype="datetime64[ns]")
    first = np.searchsorted(dates, steps - np.timedelta64(HOLIDAY_WINDOW_DAYS, "D"), side="left")
    found = first < len(dates)
    chosen = dates[np.minimum(first, max(len(dates) - 1, 0))] if len(dates) else steps
    inside = found & (chosen <= steps + np.timedelta64(HOLIDAY_WINDOW_DAYS, "D"))
    if not inside.all():
        i = int(np.flatnonzero(~inside)[0])
        raise InputError(f"No {holiday.name} date within {HOLIDAY_WINDOW_DAYS} days of {index[i]}: the model's "
                         "holiday features cannot be computed for it.")
    return np.floor((steps - chosen) / np.timedelta64(1, "D")).astype(np.float64)


def future_index(index, freq, periods: int, name: str | None):
    """The ``periods`` steps after the last of ``index``: dates ``freq`` apart, or whole numbers ``freq`` apart."""
    pd = import_pandas()
    if isinstance(index, pd.DatetimeIndex):
        offset = pd.tseries.frequencies.to_offset(freq)
        return pd.date_range(index[-1] + offset, periods=periods, freq=offset, name=name)
    step = freq if isinstance(freq, int) else 1
    last = int(index[-1])
    return pd.Index(last + step * np.arange(1, periods + 1), name=name)


def time_features(index, freq, out_chunk_len: int, holiday: bool) -> np.ndarray:
    """``[len(index) + out_chunk_len, k]`` float64: PaddleX's known covariates for ``index`` and the
    ``out_chunk_len`` steps after it (columns in PaddleX's order)."""
    pd = import_pandas()
    if not isinstance(index, pd.DatetimeIndex):
        raise InputError("The model takes time features (time_feat: true), which need dates in the time column; "
                         "this series has whole numbers.")
    full = index.append(future_index(index, freq, out_chunk_len, index.name))
    columns = []
    for name in (WITH_HOLIDAYS if holiday else BASIC):
        if name != "holidays":
            columns.append(_calendar(full, name))
            continue
        block = np.stack([holiday_distances(full, h) for h in holidays()], axis=1)
        mean = block.mean(axis=0)
        std = block.std(axis=0)  # scikit-learn's StandardScaler: population std, 0 → 1
        std[std == 0] = 1.0
        columns.extend(((block - mean) / std).T)
    return np.stack(columns, axis=1)


__all__ = ["BASIC", "WITH_HOLIDAYS", "future_index", "holiday_distances", "holidays", "time_features"]
