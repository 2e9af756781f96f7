"""Record PaddleX 3.7.2's own time-series results (forecasting, anomaly detection, classification) as test fixtures.

Run with the PaddleX venv (not the hpi environment), from the repository root:

    /tmp/pdx/bin/python benchmarks/record_paddlex_timeseries.py [--pandas2 DIR]

PaddleX's time-series *pipelines* refuse to start without ``paddlex[ts]``'s ``chinese-calendar`` (the modules run
without it); where the venv lacks it, put it on the path, ``pip install --no-deps --target EXTRA
chinese-calendar`` and ``PYTHONPATH=EXTRA``, or the pipeline sections record PaddleX's DependencyError
(``ts_extra_available`` says which).

Output: ``tests/data/paddlex_time_series.json``. The models and CSVs are those ``tests/ts_models.py`` writes
(``tests/data/models/{DLinear,TiDE,DLinear_ad,TimesNet_cls}``, ``tests/data/ts/``); paths are recorded relative
to ``tests/data``. What it runs, for each model (``models.<name>``):

* ``module``: ``paddlex.create_model(model_name, model_dir)``, ``predict(csv)`` on each CSV of the model's task,
  one by one; ``directory``: ``predict(<the task's folder>)``; ``batch_size=2``: the folder with
  ``predict(folder, batch_size=2)``.
* ``dataframe``: ``predict(pd.read_csv(first CSV))``.
* ``pipeline``: ``create_pipeline(config=...)`` with PaddleX's own ``ts_forecast`` / ``ts_anomaly_detection`` /
  ``ts_classification`` YAML where only ``model_name`` and ``model_dir`` are set, on the first CSV.
* ``json`` / ``csv``: for the first CSV, the result's ``json`` property and the text ``save_to_csv`` writes.
* ``edge``: the model's edge cases on ``tests/data/ts/edge/*.csv`` (see ``ts_models.edge_frames``).

Each run is a list of results (``keys``, ``input_path`` and the result's frame: for forecasting ``forecast``
with the index as strings, its name, columns, dtypes and values as full-precision floats (NaN as JSON's NaN); for
anomaly detection ``anomaly`` with the index values, its name and ``label``; for classification
``classification`` with its columns, index, ``classid`` and ``score``; where PaddleX hands a list instead of a
frame, as with ``batch_size=2``, ``{"python_type": "list", "items": [...]}``), or
``{"error": {"type", "message"}}`` when PaddleX raised (the traceback is in ``errors``).

``--pandas2 DIR``: PaddleX's time features index a Series by position (``tf_kcov[time_col][-1]``), which pandas 3
refuses (KeyError -1), so TiDE fails throughout under the venv's pandas 3.1.1. With a pandas 2 importable from
``DIR`` (``pip install --no-deps --target DIR pandas==2.2.3 pytz``) the TiDE runs are recorded again in a
subprocess with ``PYTHONPATH=DIR``, under ``pandas2``.

Nothing is downloaded.
"""

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from paddlex_recording import ERRORS, guarded  # noqa: E402  (sets PaddleX up first)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import yaml  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"

# model name -> (task key in the result, CSV folder, PaddleX pipeline, its sub-module key, edge cases)
MODELS = {
    "DLinear": ("forecast", "forecast", "ts_forecast", "TSForecast",
                ["forecast_base", "forecast_short", "forecast_missing_target", "forecast_nan", "forecast_irregular",
                 "forecast_extra_column", "forecast_unsorted"]),
    "TiDE": ("forecast", "forecast", "ts_forecast", "TSForecast",
             ["forecast_base", "forecast_irregular", "forecast_extra_column"]),
    "DLinear_ad": ("anomaly", "anomaly", "ts_anomaly_detection", "TSAnomalyDetection",
                   ["anomaly_base", "anomaly_short", "anomaly_unsorted"]),
    "TimesNet_cls": ("classification", "classification", "ts_classification", "TSClassification",
                     ["classification_short", "classification_long", "classification_two_groups"]),
}


def frame_record(kind, frame):
    """The recorded form of a result's DataFrame (with batch_size > 1 PaddleX may hand a list of them)."""
    if isinstance(frame, list):
        return {"python_type": "list", "items": [frame_record(kind, item) for item in frame]}
    if not isinstance(frame, pd.DataFrame):
        return {"python_type": type(frame).__name__, "repr": repr(frame)[:2000]}
    record = {"index_name": frame.index.name, "index_dtype": str(frame.index.dtype), "columns": list(frame.columns),
              "dtypes": {str(c): str(t) for c, t in frame.dtypes.items()}}
    if kind == "forecast":
        record["index"] = [str(i) for i in frame.index]
        record["values"] = [[float(v) for v in row] for row in frame.to_numpy()]
    elif kind == "anomaly":
        record["index"] = [i if isinstance(i, (str, int)) else (int(i) if np.issubdtype(type(i), np.integer)
                                                                 else str(i)) for i in frame.index]
        record["label"] = [int(v) for v in frame["label"]]
    else:
        record["index"] = [int(i) for i in frame.index]
        record["classid"] = [int(v) for v in frame["classid"]]
        record["score"] = [float(v) for v in frame["score"]]
    return record


def result_record(kind, result):
    record = {"keys": list(result.keys()), "input_path": result["input_path"], kind: frame_record(kind, result[kind])}
    if "cutoff_ts" in result:  # despite the name, the whole input as read
        record["cutoff_ts_shape"] = list(result["cutoff_ts"].shape)
    if "input_ts_data" in result:
        record["input_ts_data_shape"] = list(result["input_ts_data"].shape)
    if "target_cols" in result:
        record["target_cols"] = result["target_cols"]
    return record


def attempt(section, kind, fn):
    """The records of ``fn()``'s results, or ``{"error": ...}`` (traceback kept in ERRORS)."""
    before = len(ERRORS)
    results = guarded(section, lambda: list(fn()))
    if results is None and len(ERRORS) > before:
        return {"error": {k: ERRORS[-1][k] for k in ("type", "message")}}
    return [result_record(kind, r) for r in results]


def record_model(paddlex, name):
    kind, folder, pipeline_name, submodule, edge_cases = MODELS[name]
    model_dir = f"models/{name}"
    csvs = [p.as_posix() for p in sorted(Path("ts", folder).glob("*.csv"))]
    out = {"model_dir": model_dir, "inputs": csvs}
    model = guarded(f"{name}:create_model", paddlex.create_model, model_name=name, model_dir=model_dir)
    if model is None:
        out["create_model"] = {"error": {k: ERRORS[-1][k] for k in ("type", "message")}}
        return out
    out["module"] = {csv: attempt(f"{name}:module:{csv}", kind, lambda csv=csv: model.predict(csv)) for csv in csvs}
    out["directory"] = attempt(f"{name}:directory", kind, lambda: model.predict(f"ts/{folder}"))
    out["batch_size=2"] = attempt(f"{name}:batch_size=2", kind, lambda: model.predict(f"ts/{folder}", batch_size=2))
    out["dataframe"] = attempt(f"{name}:dataframe", kind, lambda: model.predict(pd.read_csv(csvs[0])))

    first = guarded(f"{name}:json", lambda: list(model.predict(csvs[0]))[0])
    if first is not None:
        out["json"] = {"input": csvs[0], "value": json.loads(json.dumps(first.json))}

        def csv_text():
            with tempfile.TemporaryDirectory() as tmp:
                first.save_to_csv(tmp)
                files = sorted(Path(tmp).rglob("*.csv"))
                return {"input": csvs[0], "files": [f.name for f in files],
                        "text": files[0].read_text(encoding="utf-8")}

        out["csv"] = guarded(f"{name}:csv", csv_text)

    yaml_path = Path(paddlex.__file__).parent / "configs" / "pipelines" / f"{pipeline_name}.yaml"
    config = copy.deepcopy(yaml.safe_load(yaml_path.read_text(encoding="utf-8")))
    config["SubModules"][submodule]["model_name"] = name
    config["SubModules"][submodule]["model_dir"] = model_dir
    pipeline = guarded(f"{name}:create_pipeline", paddlex.create_pipeline, config=config)
    out["pipeline"] = {"config": config}
    if pipeline is not None:
        out["pipeline"]["input"] = csvs[0]
        out["pipeline"]["results"] = attempt(f"{name}:pipeline", kind, lambda: pipeline.predict(csvs[0]))
        out["pipeline"]["same_as_module"] = out["pipeline"]["results"] == out["module"][csvs[0]]

    out["edge"] = {case: attempt(f"{name}:edge:{case}", kind, lambda case=case: model.predict(f"ts/edge/{case}.csv"))
                   for case in edge_cases}
    return out


def versions(paddlex):
    import paddle
    import sklearn

    from paddlex.utils.deps import is_extra_available

    return {"paddlex_version": paddlex.__version__, "paddle_version": paddle.__version__,
            "pandas_version": pd.__version__, "numpy_version": np.__version__, "sklearn_version": sklearn.__version__,
            "ts_extra_available": is_extra_available("ts")}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=DATA / "paddlex_time_series.json")
    ap.add_argument("--pandas2", type=Path, help="a folder a pandas 2 imports from (records TiDE again with it)")
    ap.add_argument("--only", nargs="*", help=argparse.SUPPRESS)  # the --pandas2 subprocess: these models, to stdout
    args = ap.parse_args()
    out_path = args.out.resolve()

    import paddlex

    os.chdir(DATA)
    began = time.perf_counter()
    names = args.only if args.only is not None else list(MODELS)
    meta = {**versions(paddlex), "models": {name: record_model(paddlex, name) for name in names}}
    if args.only is not None:
        meta["errors"] = ERRORS
        print("\n@@RECORD@@" + json.dumps(meta))
        return
    if args.pandas2 is not None:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(args.pandas2.resolve())]
                                                          + os.environ.get("PYTHONPATH", "").split(os.pathsep)))
        run = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--only", "TiDE"], env=env,
                             capture_output=True, text=True, check=False)
        if "@@RECORD@@" in run.stdout:
            part = json.loads(run.stdout.rsplit("@@RECORD@@", 1)[1])
            ERRORS.extend(dict(e, section="pandas2:" + e["section"]) for e in part.pop("errors"))
            meta["pandas2"] = part
        else:
            meta["pandas2"] = {"error": {"returncode": run.returncode, "stderr": run.stderr[-3000:]}}
    meta["seconds"] = round(time.perf_counter() - began, 1)
    meta["errors"] = ERRORS
    out_path.write_text(json.dumps(meta, separators=(",", ":"), ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out_path} ({out_path.stat().st_size} bytes, {len(ERRORS)} errors, {meta['seconds']} s)")


if __name__ == "__main__":
    main()
