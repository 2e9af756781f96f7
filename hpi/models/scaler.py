"""A time-series model's ``scaler.pkl``, read without running any code it holds.

PaddleX loads a time-series model's scaler with ``joblib.load``, which runs whatever the file asks for: a model
directory from elsewhere could run any command. hpi reads the file with a restricted unpickler that admits only
what a fitted scikit-learn ``StandardScaler`` or ``MinMaxScaler`` holds, as joblib writes it:

- the scaler's class (``sklearn.preprocessing._data.StandardScaler`` / ``MinMaxScaler``), made here as a plain
  record of its fitted attributes, so scikit-learn is not imported;
- numpy arrays and scalars of plain (non-object) dtypes: joblib's ``NumpyArrayWrapper`` (the array's bytes
  follow the pickle stream), numpy's own pickle form (``_reconstruct`` + ``ndarray`` + state) and
  ``numpy.dtype``; and object arrays holding text only (``feature_names_in_``, the column names of a scaler
  fitted on a DataFrame, as PaddleX's training fits it), whose nested pickle joblib writes is read by the same
  rules;
- plain containers, numbers, strings and booleans.

Any other global (``os.system``, ``builtins.eval``, a class of another library) is refused before anything runs,
with a :class:`~hpi.errors.ModelError` naming the file and what it asked for. The scalers then apply
scikit-learn's arithmetic in numpy (``transform``: ``(x - mean_) / scale_``, or ``x * scale_ + min_`` then the
optional clip; ``inverse_transform`` the reverse), in place on float64 arrays as scikit-learn does.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError

# What a fitted scaler may hold, by (module, name) as pickle names them.
_SCALER_MODULES = {"sklearn.preprocessing._data", "sklearn.preprocessing.data"}
_NUMPY_MODULES = {"numpy", "numpy.core.multiarray", "numpy._core.multiarray", "numpy.core.numeric",
                  "numpy._core.numeric"}
_NUMPY_NAMES = {"dtype", "ndarray", "scalar", "_reconstruct"}
_JOBLIB_WRAPPER = ("joblib.numpy_pickle", "NumpyArrayWrapper")
_MAX_FILE_BYTES = 64 * 1024 * 1024  # a scaler of a few thousand columns is kilobytes


class FittedScaler:
    """A fitted scikit-learn scaler's attributes (``kind``: ``StandardScaler`` or ``MinMaxScaler``).

    Pickle makes it as scikit-learn's class would be made (``cls.__new__`` with no arguments, then its
    ``__dict__``), so each kind is a subclass with nothing but its name."""

    kind = ""

    def __init__(self, state: dict | None = None) -> None:
        self.state = dict(state or {})

    def __setstate__(self, state: Any) -> None:  # pickle's BUILD with the estimator's __dict__
        if not isinstance(state, dict):
            raise ModelError(f"a {self.kind} in a scaler file has a state of type {type(state).__name__}, not its "
                             "attributes.")
        self.state = dict(state)

    def _array(self, name: str, columns: int) -> np.ndarray | None:
        value = self.state.get(name)
        if value is None:
            return None
        array = np.asarray(value, dtype=np.float64)
        if array.shape not in ((columns,), ()):
            raise ModelError(f"The {self.kind} was fitted on {array.size} columns ({name} has shape {array.shape}); "
                             f"it is given {columns}. The scaler belongs to another model or other target_cols.")
        return array

    def transform(self, values: Any) -> np.ndarray:
        """scikit-learn's ``transform`` (float64, the same operations in the same order)."""
        x = np.array(values, dtype=np.float64)
        columns = x.shape[-1]
        if self.kind == "StandardScaler":
            mean, scale = self._array("mean_", columns), self._array("scale_", columns)
            if self.state.get("with_mean", True) and mean is not None:
                x -= mean
            if self.state.get("with_std", True) and scale is not None:
                x /= scale
            return x
        scale, minimum = self._array("scale_", columns), self._array("min_", columns)
        if scale is None or minimum is None:
            raise ModelError("The MinMaxScaler in the scaler file is not fitted (no scale_ / min_).")
        x *= scale
        x += minimum
        if self.state.get("clip", False):
            low, high = self.state.get("feature_range", (0, 1))
            np.clip(x, low, high, out=x)
        return x

    def inverse_transform(self, values: Any) -> np.ndarray:
        """scikit-learn's ``inverse_transform``."""
        x = np.array(values, dtype=np.float64)
        columns = x.shape[-1]
        if self.kind == "StandardScaler":
            mean, scale = self._array("mean_", columns), self._array("scale_", columns)
            if self.state.get("with_std", True) and scale is not None:
                x *= scale
            if self.state.get("with_mean", True) and mean is not None:
                x += mean
            return x
        scale, minimum = self._array("scale_", columns), self._array("min_", columns)
        if scale is None or minimum is None:
            raise ModelError("The MinMaxScaler in the scaler file is not fitted (no scale_ / min_).")
        x -= minimum
        x /= scale
        return x


class StandardScalerState(FittedScaler):
    kind = "StandardScaler"


class MinMaxScalerState(FittedScaler):
    kind = "MinMaxScaler"


_SCALER_CLASSES = {"StandardScaler": StandardScalerState, "MinMaxScaler": MinMaxScalerState}


class _ArrayWrapper:
    """joblib's NumpyArrayWrapper: a placeholder whose array's bytes follow the pickle stream."""

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, dict):
            raise ModelError("a NumpyArrayWrapper in the scaler file has no attributes.")
        self.state = state


def _checked_dtype(value: Any, where: str, names: bool = False) -> np.dtype:
    """A dtype of numbers; with ``names`` also the object dtype, whose array is then checked to hold text only
    (``feature_names_in_``: a scaler fitted on a DataFrame keeps its column names that way)."""
    dtype = np.dtype(value)
    if dtype.hasobject and not (names and dtype == np.dtype(object)):
        raise ModelError(f"{where}: an array of Python objects; a fitted scaler holds numbers (and column names) "
                         "only.")
    return dtype


def _names_array(items: Any, shape: Any, where: str) -> np.ndarray:
    """An object array's items (already read by the restricted unpickler), accepted when they are all text."""
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise ModelError(f"{where}: an array of Python objects other than column names; a fitted scaler holds "
                         "numbers and column names only.")
    array = np.empty(len(items), dtype=object)
    array[:] = items
    return array.reshape(shape)


def _safe_dtype(*args: Any) -> np.dtype:
    # numpy.dtype as pickle calls it: dtype(str, align, copy); then BUILD sets its byte order.
    if not args or not isinstance(args[0], str):
        raise ModelError("a numpy dtype in the scaler file is not given by name.")
    return _checked_dtype(args[0], "scaler file", names=True)


def _safe_scalar(dtype: Any, data: Any = None) -> Any:
    dtype = _checked_dtype(dtype, "scaler file")
    if not isinstance(data, bytes):
        raise ModelError("a numpy scalar in the scaler file has no bytes.")
    return np.frombuffer(data, dtype=dtype, count=1)[0]


def _safe_reconstruct(cls: Any, shape: Any, typecode: Any) -> np.ndarray:
    if cls is not np.ndarray:
        raise ModelError("the scaler file rebuilds something other than a numpy array.")
    return np.ndarray.__new__(np.ndarray, shape, typecode)


class _ScalerUnpickler(pickle._Unpickler):  # the pure-Python unpickler: its BUILD can be followed (as joblib does)
    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, file: io.BufferedIOBase, where: str) -> None:
        super().__init__(file)
        self.file_handle = file
        self.where = where

    def find_class(self, module: str, name: str) -> Any:
        if module in _SCALER_MODULES and name in _SCALER_CLASSES:
            return _SCALER_CLASSES[name]
        if (module, name) == _JOBLIB_WRAPPER:
            return _ArrayWrapper
        if module in _NUMPY_MODULES and name in _NUMPY_NAMES:
            return {"dtype": _safe_dtype, "ndarray": np.ndarray, "scalar": _safe_scalar,
                    "_reconstruct": _safe_reconstruct}[name]
        raise ModelError(
            f"{self.where} asks for {module}.{name}, which a fitted StandardScaler or MinMaxScaler never holds; "
            "hpi does not run code from model files (PaddleX's joblib.load would). Refit the scaler and save it "
            "with joblib.dump, or remove scale: from inference.yml if the model takes raw values."
        )

    def load_build(self) -> None:
        stack = self.stack
        state = stack.pop()
        target = stack[-1]
        if isinstance(target, np.ndarray):  # numpy's own array pickle: (version, shape, dtype, fortran, bytes)
            if not isinstance(state, tuple) or len(state) != 5:
                raise ModelError(f"{self.where}: a numpy array with a state hpi does not read.")
            _, shape, dtype, fortran, data = state
            dtype = _checked_dtype(dtype, self.where, names=True)
            if dtype.hasobject:  # column names: their items are in the (restricted) stream itself
                stack[-1] = _names_array(data, shape, self.where)
                return
            if not isinstance(data, (bytes, bytearray)):
                raise ModelError(f"{self.where}: a numpy array with a state hpi does not read.")
            array = np.frombuffer(bytes(data), dtype=dtype).reshape(shape, order="F" if fortran else "C").copy()
            stack[-1] = array
            return
        if isinstance(target, np.dtype):  # a dtype's state: its byte order first ('<', '>', '|', '=')
            if isinstance(state, tuple) and len(state) > 1 and state[1] in ("<", ">"):
                stack[-1] = target.newbyteorder(state[1])
            return
        if isinstance(target, (FittedScaler, _ArrayWrapper)):
            target.__setstate__(state)
            if isinstance(target, _ArrayWrapper):
                stack[-1] = self._read_array(target.state)
            return
        raise ModelError(f"{self.where}: sets the state of a {type(target).__name__}, which a scaler does not hold.")

    dispatch[pickle.BUILD[0]] = load_build

    def _read_array(self, state: dict) -> np.ndarray:
        """joblib's NumpyArrayWrapper.read_array: alignment padding, then the raw bytes."""
        dtype = _checked_dtype(state.get("dtype"), self.where, names=True)
        shape = tuple(int(v) for v in state.get("shape", ()))
        if dtype.hasobject:  # joblib pickles an object array as a pickle of its own: read by these rules too
            array = _ScalerUnpickler(self.file_handle, self.where).load()
            if not isinstance(array, np.ndarray) or not array.dtype.hasobject or array.shape != shape:
                raise ModelError(f"{self.where}: an array of Python objects hpi does not read.")
            return array
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if state.get("numpy_array_alignment_bytes") is not None:
            padding = self.file_handle.read(1)
            if padding:
                self.file_handle.read(int.from_bytes(padding, "little"))
        data = self.file_handle.read(count * dtype.itemsize)
        if len(data) != count * dtype.itemsize:
            raise ModelError(f"{self.where} is cut short (an array's bytes are missing).")
        array = np.frombuffer(data, dtype=dtype, count=count).copy()
        if state.get("order") == "F":
            return array.reshape(shape[::-1]).transpose()
        return array.reshape(shape)


def load_scaler(path: str | Path) -> FittedScaler:
    """The fitted scaler in ``path`` (joblib's or pickle's form), read without running code from it."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"The model's inference.yml says scale: true, but {path} is missing; PaddleX's time-series "
                         "model directories carry the scaler fitted in training there.")
    data = path.read_bytes()
    if len(data) > _MAX_FILE_BYTES:
        raise ModelError(f"{path} is {len(data):,} bytes; a fitted scaler is a few kilobytes. Refusing to read it.")
    if data[:2] in (b"\x1f\x8b", b"ZF") or data[:1] == b"\x78":
        raise ModelError(f"{path} is compressed (joblib.dump(..., compress=...)); hpi reads uncompressed scaler "
                         "files, as PaddleX writes them: save it again without compress.")
    try:
        result = _ScalerUnpickler(io.BytesIO(data), str(path)).load()
    except ModelError:
        raise
    except Exception as exc:  # a truncated or malformed stream
        raise ModelError(f"{path} is not a readable scaler file ({type(exc).__name__}: {exc}).") from None
    if not isinstance(result, FittedScaler):
        raise ModelError(f"{path} holds a {type(result).__name__}, not a fitted StandardScaler or MinMaxScaler.")
    return result


__all__ = ["FittedScaler", "MinMaxScalerState", "StandardScalerState", "load_scaler"]
