"""Time-series scaler files (``scaler.pkl``) read without running code: real scikit-learn scalers written by
joblib (as PaddleX's training writes them) give scikit-learn's own numbers; anything else a pickle can ask for
is refused before it runs."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

from hpi.errors import ModelError
from hpi.models.scaler import load_scaler

sklearn_preprocessing = pytest.importorskip("sklearn.preprocessing")
joblib = pytest.importorskip("joblib")

DATA = np.random.default_rng(3).normal(10, 4, (200, 3))
PROBE = np.random.default_rng(4).normal(10, 6, (17, 3))


@pytest.mark.parametrize("make", [
    lambda: sklearn_preprocessing.StandardScaler(),
    lambda: sklearn_preprocessing.StandardScaler(with_mean=False),
    lambda: sklearn_preprocessing.MinMaxScaler(),
    lambda: sklearn_preprocessing.MinMaxScaler(feature_range=(-1, 1), clip=True),
], ids=["standard", "standard_no_mean", "minmax", "minmax_clip"])
@pytest.mark.parametrize("writer", ["joblib", "pickle"])
def test_real_scalers_give_sklearn_numbers_exactly(tmp_path, make, writer):
    fitted = make().fit(DATA)
    path = tmp_path / "scaler.pkl"
    if writer == "joblib":
        joblib.dump(fitted, path)
    else:
        path.write_bytes(pickle.dumps(fitted, protocol=4))
    scaler = load_scaler(path)
    assert scaler.kind == type(fitted).__name__
    np.testing.assert_array_equal(scaler.transform(PROBE), fitted.transform(PROBE))
    np.testing.assert_array_equal(scaler.inverse_transform(PROBE), fitted.inverse_transform(PROBE))
    one_column = make().fit(DATA[:, :1])  # PaddleX's usual case: one target column
    joblib.dump(one_column, path)
    np.testing.assert_array_equal(load_scaler(path).transform(PROBE[:, :1]), one_column.transform(PROBE[:, :1]))


class _RunsACommand:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


class _Evals:
    def __reduce__(self):
        import builtins

        return builtins.eval, ("1 + 1",)


def test_a_malicious_pickle_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "it_ran"
    path = tmp_path / "scaler.pkl"
    fitted = sklearn_preprocessing.StandardScaler().fit(DATA)
    fitted.extra = _RunsACommand(marker)  # hidden inside a real scaler's attributes
    joblib.dump(fitted, path)
    with pytest.raises(ModelError, match=r"asks for (posix|os|nt)\.system.*does not run code"):
        load_scaler(path)
    assert not marker.exists()
    path.write_bytes(pickle.dumps(_Evals()))
    with pytest.raises(ModelError, match="builtins.eval"):
        load_scaler(path)
    path.write_bytes(pickle.dumps({"mean_": np.array([object()], dtype=object)}))
    with pytest.raises(ModelError, match="(Python objects|asks for)"):
        load_scaler(path)


def test_other_bad_files_are_clear_errors(tmp_path):
    path = tmp_path / "scaler.pkl"
    with pytest.raises(ModelError, match="missing"):
        load_scaler(path)
    fitted = sklearn_preprocessing.StandardScaler().fit(DATA)
    joblib.dump(fitted, path, compress=3)
    with pytest.raises(ModelError, match="compressed"):
        load_scaler(path)
    joblib.dump(fitted, path)
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(ModelError, match="(cut short|not a readable scaler)"):
        load_scaler(path)
    path.write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(ModelError, match="holds a list"):
        load_scaler(path)
    joblib.dump(fitted, path)
    with pytest.raises(ModelError, match="fitted on 3 columns"):
        load_scaler(path).transform(PROBE[:, :2])
