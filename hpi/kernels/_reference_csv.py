"""Plain CSV columns, the pure-Python reference of ``kernels/hpi_csv.c``.

``csv_columns(body, width, lines)``: ``body`` is a CSV's data lines without quotes, joined by ``\\n`` (no final
newline), ``lines`` of them. None when a line has another number of fields than ``width`` or a column holds
whole numbers beyond int64 (pandas reads those otherwise); else one array per column, typed as
``pandas.read_csv`` types a column whose fields are all of one grammar:

- int64 when every field is ``[+-]?[0-9]+``;
- float64 when every field is a decimal number (``[+-]?([0-9]+(.[0-9]*)?|.[0-9]+)([eE][+-]?[0-9]+)?``, the
  nearest double) or empty (NaN);
- otherwise the fields as fixed-width bytes (numpy ``S``), for the caller to judge (text, or pandas' to read).
"""

from __future__ import annotations

import re

import numpy as np

from ..errors import InputError

_INT = re.compile(rb"[+-]?[0-9]+")
_FLOAT = re.compile(rb"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INT64 = (-(2 ** 63), 2 ** 63 - 1)


def check_csv_args(body: bytes, width: int, lines: int) -> None:
    """The arguments both backends accept."""
    if not isinstance(body, bytes):
        raise InputError(f"csv_columns takes the CSV body as bytes, got {type(body).__name__}.")
    if not isinstance(width, int) or not isinstance(lines, int) or width < 1 or lines < 1:
        raise InputError(f"csv_columns takes a width and line count ≥ 1, got {width!r} and {lines!r}.")


def csv_columns(body: bytes, width: int, lines: int) -> list[np.ndarray] | None:
    """The columns of a quote-free CSV body (module docstring)."""
    check_csv_args(body, width, lines)
    rows = body.split(b"\n")
    if len(rows) != lines:
        return None
    fields = [row.split(b",") for row in rows]
    if any(len(row) != width for row in fields):
        return None
    columns = []
    for index in range(width):
        values = [row[index] for row in fields]
        if all(_INT.fullmatch(value) for value in values):
            numbers = [int(value) for value in values]
            if not all(_INT64[0] <= number <= _INT64[1] for number in numbers):
                return None
            columns.append(np.array(numbers, np.int64))
        elif all(not value or _FLOAT.fullmatch(value) for value in values):
            columns.append(np.array([float(value) if value else np.nan for value in values], np.float64))
        else:
            columns.append(np.array(values, dtype=f"S{max(len(value) for value in values)}"))
    return columns


__all__ = ["check_csv_args", "csv_columns"]
