"""Time-series results with PaddleX's keys: ``forecast``, ``anomaly``, ``classification`` as DataFrames.

PaddleX 3.7.2's ``TSFcResult`` / ``TSAdResult`` / ``TSClsResult`` (``paddlex/inference/models/ts_*/result.py``):
``res[key]`` is the DataFrame; ``.json`` has each DataFrame as a list of row records (pandas'
``to_json(orient="records")``, the index left out); ``save_to_csv`` writes the DataFrame with its index as
``<stem>_res.csv``; ``save_to_img`` a matplotlib plot as ``<stem>_res.png`` (forecast: the input's last steps
dashed and the forecast; anomaly: the labels as steps; classification: the first value column with the class
in the legend).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, ClassVar

from .._deps import import_matplotlib_pyplot
from .base import ResultBase, output_file, write_atomically


def frame_records(frame: Any) -> list[dict]:
    """A DataFrame as PaddleX's JSON has it: row records, the index left out, dates (a DataFrame input's parsed
    time column) as pandas' epoch milliseconds."""
    import pandas as pd

    data = frame.reset_index(drop=True)
    dates = [c for c in data.columns if pd.api.types.is_datetime64_any_dtype(data[c])]
    if dates:
        data = data.assign(**{str(c): data[c].map(lambda t: None if pd.isna(t) else int(t.timestamp() * 1000))
                              for c in dates})
    return json.loads(data.to_json(orient="records", force_ascii=False))


class TSResult(ResultBase):
    """One series' result. ``frame``: the task's DataFrame; ``input_frame``: the series as given (``input``: a
    DataFrame, or an object whose ``frame()`` makes it when first asked for: a CSV is read as a DataFrame only
    for what shows it)."""

    key: ClassVar[str] = ""

    def __init__(self, frame: Any, input: Any, input_path: str | None, stem: str,
                 page_index: int | None = None, columns: tuple[str, ...] = (),
                 timings_ms: dict | None = None) -> None:
        self.frame = frame
        self._input = input
        self.input_path = input_path
        self.page_index = page_index
        self.stem = stem
        self.columns = tuple(columns)
        self.timings_ms = dict(timings_ms or {})

    @property
    def input_frame(self):
        """The input series as a DataFrame."""
        if hasattr(self._input, "frame"):
            self._input = self._input.frame()
        return self._input

    def frames(self) -> dict[str, Any]:
        """PaddleX's result keys → their values (DataFrames as DataFrames)."""
        return {"input_path": self.input_path, self.key: self.frame}

    def __getitem__(self, key: str):
        """``res["forecast"]`` is the DataFrame, as in PaddleX."""
        return self.frames()[key]

    def keys(self):
        return self.frames().keys()

    @property
    def json(self) -> dict:
        out = {}
        for key, value in self.frames().items():
            out[key] = frame_records(value) if hasattr(value, "to_json") else value
        return {"res": out}

    @property
    def csv(self) -> dict:
        return {"res": self.frame}

    def texts(self) -> list[str]:
        return [self.frame.to_string()]

    def save_to_csv(self, save_path: str | Path) -> Path:
        """Write ``<stem>_res.csv`` (the DataFrame with its index, as PaddleX writes it) and return its path."""
        target = output_file(save_path, self.stem, "_res", ".csv")
        return write_atomically(target, self.frame.to_csv().encode("utf-8"))

    @property
    def img(self) -> dict:
        return {"res": self.plot()}

    def plot(self):
        raise NotImplementedError

    def _finish(self, plt, figure, title: str, ylabel: str, ticks: int):
        plt.title(title)
        plt.xlabel("Time")
        plt.ylabel(ylabel)
        plt.legend()
        plt.grid(True)
        plt.xticks(ticks=range(0, ticks, 10), rotation=45)
        buffer = io.BytesIO()
        figure.savefig(buffer, bbox_inches="tight")
        plt.close(figure)
        buffer.seek(0)
        from PIL import Image

        image = Image.open(buffer)
        image.load()
        return image


class TSForecastResult(TSResult):
    """``forecast``: the ``out_chunk_len`` steps after the series, one column per target; ``cutoff_ts``: the
    series as given (PaddleX's name)."""

    key = "forecast"

    def frames(self) -> dict[str, Any]:
        return {"input_path": self.input_path, "cutoff_ts": self.input_frame, "forecast": self.frame}

    def plot(self):
        plt = import_matplotlib_pyplot()
        forecast = self.frame
        column = forecast.columns[0]
        actual = self.input_frame
        if forecast.index.name in actual.columns:
            actual = actual.set_index(forecast.index.name)
        length = min(len(forecast), len(actual))
        actual = actual.tail(length)
        figure = plt.figure(figsize=(12, 6))
        plt.plot(actual.index.astype(str), actual[column], label="Actual Data", color="blue", linestyle="--")
        plt.plot(forecast.index.astype(str), forecast[column], label="Forecast", color="red")
        return self._finish(plt, figure, "Time Series Forecast", str(column), 2 * length)


class TSAnomalyResult(TSResult):
    """``anomaly``: ``label`` 1 (anomaly) or 0 per step the model saw, indexed by time."""

    key = "anomaly"

    def plot(self):
        plt = import_matplotlib_pyplot()
        anomaly = self.frame
        figure = plt.figure(figsize=(12, 6))
        plt.step(anomaly.index.astype(str), anomaly["label"], where="post", label="Anomaly", color="red")
        return self._finish(plt, figure, "Time Series Anomaly Detection", "label", len(anomaly))


class TSClassificationResult(TSResult):
    """``classification``: one row, ``classid`` and ``score``; ``input_ts_data``: the series as given;
    ``target_cols``: the model's value columns."""

    key = "classification"

    def frames(self) -> dict[str, Any]:
        return {"input_path": self.input_path, "input_ts_data": self.input_frame,
                "classification": self.frame, "target_cols": list(self.columns)}

    @property
    def class_id(self) -> int:
        return int(self.frame["classid"].iloc[0])

    @property
    def score(self) -> float:
        return float(self.frame["score"].iloc[0])

    def plot(self):
        plt = import_matplotlib_pyplot()
        series = self.input_frame
        figure = plt.figure(figsize=(12, 6))
        plt.plot(series.index.astype(str), series[self.columns[0]], label=f"Predicted classid: {self.class_id}",
                 color="blue")
        return self._finish(plt, figure, "Time Series input_ts with Predicted Labels", "Value", len(series))


__all__ = ["TSAnomalyResult", "TSClassificationResult", "TSForecastResult", "TSResult", "frame_records"]
