"""Exceptions raised by hpi.

Every message says what went wrong, what was found, and how to fix it.
"""

from __future__ import annotations

import difflib


class HPIError(Exception):
    """Base class of every error hpi raises on purpose."""


class ConfigError(HPIError, ValueError):
    """A pipeline/model config is invalid (unknown key, bad value, unknown pipeline)."""


class DeviceError(HPIError, ValueError):
    """A device string is malformed or names a device this machine does not have."""


class BackendError(HPIError):
    """A backend failed to load or run a model."""


class BackendUnavailableError(BackendError):
    """A backend's package is not installed, or the backend name is unknown."""


class ModelError(HPIError):
    """A model is unknown, cannot be fetched, or fails verification."""


class ChecksumError(ModelError):
    """A downloaded file does not have the expected sha256."""


class ModelUnavailableError(ModelError, ConfigError):
    """A model a config or call names is in no place hpi looked (a ConfigError too: the name is the fix)."""


class ExportError(ModelError):
    """Paddle → ONNX export failed or produced a model that disagrees with Paddle."""


class CacheError(HPIError):
    """The cache directory ($HPI_HOME) cannot be used."""


class InputError(HPIError, ValueError):
    """An input (image, PDF, array) cannot be read or is not usable."""


def did_you_mean(name: str, choices, cutoff: float = 0.6) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices`` to a mistyped ``name``; "" when none is close."""
    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1, cutoff=cutoff)
    return f" (did you mean {close[0]!r}?)" if close else ""


class OutputError(HPIError):
    """A result could not be written (save_path is a file, not writable, ...)."""


class DiskFullError(OutputError):
    """A result could not be written because the disk is full: later results would fail the same way."""
