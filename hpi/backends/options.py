"""Runner options: declared per backend (``BackendInfo.options``), checked before anything is built.

An option is ``name → Option(type, default, help)``; ``None`` as a value
means "not set" (the default applies). An unknown name or a value of the
wrong type is a :class:`~hpi.errors.ConfigError` that lists what is valid,
with a "did you mean" for a near miss.
"""

from __future__ import annotations

import numbers
import os
from typing import Any, Mapping, NamedTuple

from ..errors import ConfigError, did_you_mean

PATH = (str, os.PathLike)
SEQUENCE = (list, tuple)


class Option(NamedTuple):
    """One runner option: the accepted type(s), the default, and a line of help."""

    type: type | tuple[type, ...]
    default: Any
    help: str

    def accepts(self, value: Any) -> bool:
        if value is None:
            return True
        types = self.type if isinstance(self.type, tuple) else (self.type,)
        if bool not in types and isinstance(value, bool):
            return False  # True is an int to Python, never to a user setting a batch size
        if int in types and isinstance(value, numbers.Integral):
            return True
        return isinstance(value, types)

    @property
    def type_name(self) -> str:
        types = self.type if isinstance(self.type, tuple) else (self.type,)
        names = {"PathLike": "path"}
        return " or ".join(names.get(t.__name__, t.__name__) for t in types)

    def describe(self, name: str) -> str:
        return f"{name} ({self.type_name}, default {self.default!r}): {self.help}"


def check_options(backend: str, declared: Mapping[str, Option], options: Mapping | None) -> dict:
    """``options`` as a plain dict, after checking every name and type against ``declared``."""
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise ConfigError(
            f"Options of backend {backend!r} must be a mapping of option names to values; got {options!r}."
        )
    for name, value in options.items():
        if name not in declared:
            valid = "; ".join(option.describe(n) for n, option in declared.items()) or "none"
            raise ConfigError(
                f"Unknown option {name!r} for backend {backend!r}{did_you_mean(name, declared)}. "
                f"Valid options: {valid}."
            )
        if not declared[name].accepts(value):
            raise ConfigError(
                f"Option {name!r} of backend {backend!r} must be {declared[name].type_name}; "
                f"got {value!r} ({type(value).__name__})."
            )
    return dict(options)


__all__ = ["Option", "check_options"]
