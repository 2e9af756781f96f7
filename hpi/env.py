"""Environment variables read as numbers: one rule, and an error that names the variable."""

from __future__ import annotations

import math
import os

from .errors import ConfigError


def env_number(name: str, default, kind: type = float, what: str = "a positive number", minimum: float = 0.0,
               allow_equal: bool = False):
    """The finite ``kind`` (int or float) in environment variable ``name`` above ``minimum`` (or equal to it
    with ``allow_equal``); ``default`` when unset or empty. Anything else is a :class:`ConfigError`."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = kind(value)
    except ValueError:
        number = None
    if number is None or not math.isfinite(number) or number < minimum or (number == minimum and not allow_equal):
        raise ConfigError(f"Environment variable {name} must be {what}, got {value!r}.")
    return number


__all__ = ["env_number"]
