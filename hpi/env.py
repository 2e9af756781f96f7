"""Environment variables read as numbers and booleans: one rule each, and an error that names the variable.

``BOOL_WORDS`` is also the rule for yes/no text on the command line and in serving settings."""

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


BOOL_WORDS = {"true": True, "1": True, "yes": True, "on": True, "false": False, "0": False, "no": False,
              "off": False}


def bool_word(text: str) -> bool | None:
    """``text`` as a boolean (true/false, 1/0, yes/no, on/off, any case), or None when it is none of those."""
    return BOOL_WORDS.get(str(text).strip().lower())


def env_flag(name: str, default: bool) -> bool:
    """The boolean in environment variable ``name``; ``default`` when unset or empty; a :class:`ConfigError`
    for anything else (a typo never silently means one or the other)."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    flag = bool_word(value)
    if flag is None:
        raise ConfigError(f"Environment variable {name} must be 1 or 0 (or true/false, yes/no, on/off), got "
                          f"{value!r}.")
    return flag


__all__ = ["BOOL_WORDS", "bool_word", "env_flag", "env_number"]
