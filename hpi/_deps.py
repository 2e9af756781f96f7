"""The one place that imports optional heavy dependencies, on first use.

Each ``import_*`` returns the module or raises :class:`BackendUnavailableError`
naming the pip extra that provides it.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import warnings
from functools import lru_cache
from types import ModuleType

from .errors import BackendUnavailableError


def install_command(extra: str) -> str:
    """The one spelling of hpi's install command for an extra: ``pip install "hpi[cpu]"``."""
    return f'pip install "hpi[{extra}]"'


INSTALL_CPU = install_command("cpu")
INSTALL_GPU = install_command("gpu")
INSTALL_BACKENDS = f"{INSTALL_CPU} (GPU: {INSTALL_GPU})"

# package -> (module name, how to install it)
_PACKAGES: dict[str, tuple[str, str]] = {
    "onnxruntime": ("onnxruntime", f"{INSTALL_CPU} (or onnxruntime-gpu via {INSTALL_GPU})"),
    "openvino": ("openvino", INSTALL_CPU),
    "paddle": ("paddle", f"{INSTALL_CPU} (paddlepaddle==3.2.2)"),
    "paddle2onnx": ("paddle2onnx", f"{INSTALL_CPU} (paddle2onnx==2.0.1)"),
    "onnx": ("onnx", INSTALL_CPU),
    "tensorrt": (
        "tensorrt",
        "install TensorRT from NVIDIA (pip install tensorrt-cu12 with NVIDIA's package index, "
        "or the TensorRT tarball/container); it is not installable from PyPI alone",
    ),
    "cuda": ("cuda.bindings.runtime", f"{INSTALL_GPU} (cuda-python)"),
    "cv2": ("cv2", "pip install opencv-python-headless"),
    "pypdfium2": ("pypdfium2", "pip install pypdfium2"),
    "pandas": ("pandas", f"{install_command('ts')} (the time-series pipelines)"),
    "matplotlib": ("matplotlib", f"{install_command('ts')} (the time-series pictures)"),
}


class _logging_preserved:
    """Undo what importing a backend does to the root logger.

    ``import paddle`` calls its ``get_logger(logging.WARNING)`` with no name
    while importing ``paddle.distributed``, which sets the *root* logger to
    WARNING and so hides every INFO line of the application (hpi's "Exported
    ..." and "Backend for ..." lines vanished after ``logging.basicConfig``).
    """

    def __enter__(self) -> None:
        root = logging.getLogger()
        self._level = root.level
        self._handlers = list(root.handlers)
        self._disable = logging.root.manager.disable

    def __exit__(self, *exc) -> None:
        root = logging.getLogger()
        root.setLevel(self._level)
        root.handlers[:] = self._handlers
        logging.disable(self._disable)


def is_available(name: str) -> bool:
    """True when the optional package ``name`` (a key of the table above) can be imported."""
    module = _PACKAGES[name][0]
    try:
        return importlib.util.find_spec(module.split(".")[0]) is not None
    except (ImportError, ValueError):
        return False


@lru_cache(maxsize=None)
def _import(name: str) -> ModuleType:
    module, how = _PACKAGES[name]
    try:
        if name == "paddle":
            # Paddle warns about ccache on import; that is noise for inference users.
            with warnings.catch_warnings(), _logging_preserved():
                warnings.simplefilter("ignore")
                os.environ.setdefault("GLOG_minloglevel", "2")
                return importlib.import_module(module)
        with _logging_preserved():
            return importlib.import_module(module)
    except ImportError as exc:
        raise BackendUnavailableError(
            f"{name!r} is needed here but cannot be imported ({exc}). Install it: {how}."
        ) from exc


def import_onnxruntime() -> ModuleType:
    return _import("onnxruntime")


def import_openvino() -> ModuleType:
    return _import("openvino")


def import_paddle_inference() -> ModuleType:
    _import("paddle")
    with _logging_preserved():
        return importlib.import_module("paddle.inference")


def import_onnx() -> ModuleType:
    return _import("onnx")


def import_tensorrt() -> ModuleType:
    return _import("tensorrt")


def import_cuda_runtime() -> ModuleType:
    return _import("cuda")


def import_cv2() -> ModuleType:
    return _import("cv2")


def import_pandas() -> ModuleType:
    return _import("pandas")


def import_matplotlib_pyplot() -> ModuleType:
    """matplotlib's pyplot with the file-only Agg backend (no display is opened)."""
    matplotlib = _import("matplotlib")
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    # Its INFO line for every plot of dates given as text ("Using categorical units ...") is noise here.
    logging.getLogger("matplotlib.category").setLevel(logging.WARNING)

    return plt


def import_pypdfium2() -> ModuleType:
    return _import("pypdfium2")


def version_of(name: str) -> str | None:
    """Installed distribution version of an optional package, or None."""
    from importlib import metadata

    dists = {
        "onnxruntime": ("onnxruntime", "onnxruntime-gpu"),
        "openvino": ("openvino",),
        "paddle": ("paddlepaddle", "paddlepaddle-gpu"),
        "paddle2onnx": ("paddle2onnx",),
        "tensorrt": ("tensorrt", "tensorrt-cu12", "tensorrt-cu13"),
        "cuda": ("cuda-bindings", "cuda-python"),
        "onnx": ("onnx",),
    }.get(name, (name,))
    for dist in dists:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return None
