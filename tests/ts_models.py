"""PaddleX time-series model directories for the time-series tests, and the CSVs they run on.

No PaddleX time-series weights are reachable here, so four small models are trained on synthetic series whose
truth is known, and exported in the exact form PaddleTS's exporter writes for PaddleX 3.x
(``paddle.jit.save`` of the network with a one-dict ``input_spec``: ``inference.json`` + ``inference.pdiparams``;
``inference.yml`` as ``yaml.dump`` of the model meta + ``data_info`` + ``Global.model_name``; ``scaler.pkl`` as
``joblib.dump`` of the sklearn ``StandardScaler`` fitted on the training columns):

- ``DLinear`` (ts_forecast): the real DLinear network (moving-average decomposition, kernel 25, edge-padded; one
  linear layer on the seasonal part and one on the trend, shared across channels), input ``past_target``
  ``[None, 96, 1]``, output ``[B, 24, 1]``. Its two layers are fitted in closed form (least squares: the minimum
  of the MSE loss PaddleTS trains DLinear with) on synthetic hourly series.
- ``TiDE`` (ts_forecast): a stand-in of TiDE's shape (a per-step covariate projection, a dense encoder over the
  window and all projected covariates, a dense decoder, a per-step temporal decoder, a linear lookback skip,
  instance normalisation as TiDE's RevIN; small MLPs), inputs ``known_cov_numeric`` ``[None, 120, 4]`` (PaddleX's
  four time features over the 96 past steps and the 24 to forecast) and ``past_target`` ``[None, 96, 1]``,
  trained with Adam on the same series, its covariates computed with PaddleX's formulas (the series' weekend dip is
  tied to the calendar, so the covariates matter).
- ``DLinear_ad`` (ts_anomaly_detection): DLinear_AD's network (a DLinear reconstruction ``[None, 96, 2]`` →
  ``[B, 96, 2]``, returning the input as a second output as DLinear_AD does), fitted in closed form as a denoiser
  (windows with noise, spikes and level shifts in, the clean windows out: reconstructing the input itself would
  fit the identity, which flags nothing); ``model_threshold`` 1.5 times the 99.9th percentile of the per-step score
  (mean over the features of the squared reconstruction error, in scaled units, as PaddleX scores) on
  anomaly-free training series.
- ``TimesNet_cls`` (ts_classification): a stand-in of TimesNet_cls's interface (inputs ``features``
  ``[None, 64, 2]`` and ``pad_mask`` ``[None, 64]``, output the ``[B, 3]`` logits; two 1-D convolutions, the
  activations multiplied by the pad mask as TimesNet does, flattened, one linear layer), trained with Adam on
  three classes of two-channel series (a slow wave, a fast wave, a ramp).

The ``inference.yml`` is what PaddleTS writes (``model_type``, the real classes' ``ancestor_classname_set`` and
``modulename``, ``size``, ``input_data`` lists, ``model_threshold`` for anomaly, ``time_feat``, ``holiday``,
``info_params``, ``scale``, ``Global.model_name``). As PaddleTS's ``tools/export.py`` does, the classification
``info_params`` drop ``static_cov_cols`` and the anomaly ones ``label_col``.

``python tests/ts_models.py`` writes the four directories under ``tests/data/models/`` and the test CSVs under
``tests/data/ts/`` (``forecast/``, ``anomaly/``, ``classification/``, ``edge/`` for the recorder's edge cases,
``truth.json``), then runs the exported programs on the CSVs (preprocessed as PaddleX does) and checks them against
the truth. Everything is committed: ``benchmarks/record_paddlex_timeseries.py`` records PaddleX's outputs on
exactly these files. Deterministic for the fixed seeds (CPU).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parent / "data"
DLINEAR = DATA / "models" / "DLinear"
TIDE = DATA / "models" / "TiDE"
DLINEAR_AD = DATA / "models" / "DLinear_ad"
TIMESNET_CLS = DATA / "models" / "TimesNet_cls"
TS_DATA = DATA / "ts"
FORECAST_CSVS = TS_DATA / "forecast"
ANOMALY_CSVS = TS_DATA / "anomaly"
CLASSIFICATION_CSVS = TS_DATA / "classification"
EDGE_CSVS = TS_DATA / "edge"
TRUTH = TS_DATA / "truth.json"

IN_CHUNK, OUT_CHUNK = 96, 24  # forecasting window and horizon
AD_CHUNK = 96  # anomaly window: PaddleX labels only the last 96 rows of a CSV
CLS_LENGTH, CLASSES = 64, 3

# (seed, start, rows) of the committed forecasting CSVs; the last one runs over a new year (day of year wraps).
FORECAST_SERIES = [(11, "2024-01-01 00:00:00", 200), (12, "2024-03-15 05:00:00", 240),
                   (13, "2023-11-20 13:00:00", 300), (14, "2024-06-03 00:00:00", 216),
                   (15, "2024-02-27 20:00:00", 264), (16, "2024-12-29 08:00:00", 288)]
ANOMALY_SERIES = [(21, 96), (22, 120), (23, 150), (24, 128)]  # (seed, rows)
CLASSIFICATION_SERIES = [(0, 31), (1, 32), (2, 33), (0, 34), (1, 35), (2, 36)]  # (class, seed)

_FORECAST_META = {"model_type": "forecasting", "size": {"in_chunk_len": IN_CHUNK, "out_chunk_len": OUT_CHUNK,
                                                        "skip_chunk_len": 0}}
_FORECAST_INFO = {"time_col": "date", "target_cols": ["OT"], "freq": "1h"}
_FORECAST_ANCESTORS = ["PaddleBaseModelImpl", "PaddleBaseModel", "BaseModel", "Trainable", "ABC", "object"]


# ---------------------------------------------------------------------------------------------- synthetic data

def _forecast_parameters(rng: np.random.Generator) -> dict:
    return {"level": rng.uniform(10, 40), "daily": rng.uniform(3, 8), "peak": rng.uniform(13, 16),
            "weekly": rng.uniform(1, 3), "weekend": rng.uniform(2.5, 5), "slope": rng.uniform(-0.01, 0.01),
            "noise": rng.uniform(0.4, 0.9)}


def _forecast_clean(index: pd.DatetimeIndex, origin: pd.Timestamp, p: dict) -> np.ndarray:
    """The noise-free hourly value: level + slow trend + daily wave (peak near ``p["peak"]`` o'clock) + weekly
    wave + a dip centred on Sunday 00:00 (both tied to the calendar)."""
    hours = (index - origin) / pd.Timedelta(hours=1)
    hour = index.hour + index.minute / 60
    week_hour = index.day_of_week * 24 + hour  # Monday 00:00 = 0
    from_sunday = (week_hour - 144 + 84) % 168 - 84
    return np.asarray(p["level"] + p["slope"] * hours + p["daily"] * np.cos(2 * np.pi * (hour - p["peak"]) / 24)
                      + p["weekly"] * np.sin(2 * np.pi * week_hour / 168)
                      - p["weekend"] * np.exp(-(from_sunday / 20.0) ** 2), dtype=np.float64)


def forecast_frame(rows: int, seed: int, start: str = "2024-01-01") -> pd.DataFrame:
    """An hourly series (columns ``date``, ``OT``) of ``rows`` rows from ``start``: the noise-free value of
    :func:`forecast_truth` plus gaussian noise, rounded to 4 decimals (as written to CSV)."""
    rng = np.random.default_rng(seed)
    p = _forecast_parameters(rng)
    index = pd.date_range(start, periods=rows, freq="h")
    values = _forecast_clean(index, index[0], p) + rng.normal(0, p["noise"], rows)
    return pd.DataFrame({"date": index.strftime("%Y-%m-%d %H:%M:%S"), "OT": np.round(values, 4)})


def forecast_truth(rows: int, seed: int, start: str = "2024-01-01", steps: int = OUT_CHUNK) -> dict:
    """What :func:`forecast_frame` hides: the noise-free continuation for ``steps`` hours after its last row,
    their timestamps, and the noise's standard deviation."""
    p = _forecast_parameters(np.random.default_rng(seed))
    index = pd.date_range(start, periods=rows + steps, freq="h")
    clean = _forecast_clean(index, index[0], p)
    return {"dates": list(index[rows:].strftime("%Y-%m-%d %H:%M:%S")), "values": [float(v) for v in clean[rows:]],
            "noise_std": float(p["noise"])}


def _anomaly_clean(t: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    period_0, period_1 = 24, rng.choice([12, 24])
    a0, a1 = rng.uniform(1, 3), rng.uniform(0.5, 2)
    f0 = (rng.uniform(-2, 2) + a0 * np.sin(2 * np.pi * t / period_0 + rng.uniform(0, 2 * np.pi))
          + 0.3 * a0 * np.sin(4 * np.pi * t / period_0 + rng.uniform(0, 2 * np.pi)))
    f1 = rng.uniform(-2, 2) + a1 * np.cos(2 * np.pi * t / period_1 + rng.uniform(0, 2 * np.pi))
    return np.stack([f0, f1], 1), float(rng.uniform(0.06, 0.09))


def anomaly_frame(rows: int, seed: int) -> tuple[pd.DataFrame, list[int]]:
    """A two-channel series (columns ``timestamp`` = 0, 1, …, ``feature_0``, ``feature_1``) with anomalies
    injected in its last 96 rows (the window PaddleX labels), 8 steps or more from its edges: two or three
    spikes of 0.8–1.5 amplitudes, and for even seeds a level shift of 0.6–0.9 amplitudes over 6–8 steps; returns
    the frame and the sorted anomalous timestamps."""
    rng = np.random.default_rng(seed)
    t = np.arange(rows)
    clean, noise = _anomaly_clean(t.astype(np.float64), rng)
    values = clean + rng.normal(0, noise, clean.shape)
    amplitude = np.ptp(clean, axis=0) / 2
    first = rows - AD_CHUNK
    free = np.ones(rows, bool)
    free[:first + 8] = False  # not at the window's edges (DLinear pads its moving average there)
    free[rows - 8:] = False
    positions = []
    if seed % 2 == 0:  # a level shift
        length = int(rng.integers(6, 9))
        begin = int(rng.choice(np.flatnonzero(free[:rows - length])))
        channel = int(rng.integers(0, 2))
        values[begin:begin + length, channel] += rng.choice([-1, 1]) * rng.uniform(0.6, 0.9) * amplitude[channel]
        positions += range(begin, begin + length)
        free[max(begin - 6, 0):begin + length + 6] = False
    for _ in range(int(rng.integers(2, 4))):  # spikes, apart from each other
        at = int(rng.choice(np.flatnonzero(free)))
        channel = int(rng.integers(0, 2))
        values[at, channel] += rng.choice([-1, 1]) * rng.uniform(0.8, 1.5) * amplitude[channel]
        positions.append(at)
        free[max(at - 6, 0):at + 7] = False
    frame = pd.DataFrame({"timestamp": t, "feature_0": np.round(values[:, 0], 4),
                          "feature_1": np.round(values[:, 1], 4)})
    return frame, sorted(positions)


def _classification_values(cls: int, length: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(length) / length
    amplitude, offset = rng.uniform(0.5, 2.0), rng.uniform(-1, 1)
    if cls == 0:  # a slow wave: 1–2 cycles
        phase = 2 * np.pi * rng.uniform(1, 2) * t + rng.uniform(0, 2 * np.pi)
        dims = [np.sin(phase), np.cos(phase)]
    elif cls == 1:  # a fast wave: 6–9 cycles
        phase = 2 * np.pi * rng.uniform(6, 9) * t + rng.uniform(0, 2 * np.pi)
        dims = [np.sin(phase), 0.5 * np.sin(2 * phase)]
    else:  # a ramp up or down, the second channel a step
        direction = rng.choice([-1, 1])
        dims = [direction * (2 * t - 1), np.where(t > rng.uniform(0.3, 0.7), 1.0, -1.0) * direction]
    values = offset + amplitude * np.stack(dims, 1)
    return values + rng.normal(0, 0.15 * amplitude, values.shape)


def classification_frame(cls: int, seed: int, length: int = CLS_LENGTH, group_id: int | None = None) -> pd.DataFrame:
    """A two-channel series of class ``cls`` (0 slow wave, 1 fast wave, 2 ramp): columns ``time`` (0, 1, …),
    ``dim_0``, ``dim_1``, ``group_id`` (``seed`` unless given) and ``label`` (= ``cls``), PaddleX's ts_cls form."""
    values = _classification_values(cls, length, np.random.default_rng(seed))
    return pd.DataFrame({"time": np.arange(length), "dim_0": np.round(values[:, 0], 4),
                         "dim_1": np.round(values[:, 1], 4), "group_id": seed if group_id is None else group_id,
                         "label": cls})


def time_features(index: pd.DatetimeIndex) -> np.ndarray:
    """PaddleX's four time features (``TimeFeature`` with holiday false), in its order: hourofday, dayofmonth,
    dayofweek, dayofyear; ``[len(index), 4]`` float32."""
    return np.stack([index.hour / 23.0 - 0.5, index.day / 30.0 - 0.5, index.day_of_week / 6.0 - 0.5,
                     index.day_of_year / 364.0 - 0.5], 1).astype(np.float32)


# ------------------------------------------------------------------------------------------------- the networks

def _moving_average_matrix(length: int, kernel: int = 25) -> np.ndarray:
    """DLinear's moving average (edge-padded by (kernel - 1) / 2 each side, AvgPool1D) as a [length, length]
    matrix acting on the time axis: trend = A @ x."""
    half = (kernel - 1) // 2
    matrix = np.zeros((length, length))
    for i in range(length):
        for j in range(i - half, i + half + 1):
            matrix[i, min(max(j, 0), length - 1)] += 1.0 / kernel
    return matrix


def _dlinear_network(seq_len: int, pred_len: int, reconstruction: bool):
    import paddle
    import paddle.nn as nn

    class MovingAverage(nn.Layer):
        def __init__(self, kernel: int) -> None:
            super().__init__()
            self.kernel = kernel
            self.avg = nn.AvgPool1D(kernel_size=kernel, stride=1, padding=0)

        def forward(self, x):
            front = x[:, 0:1, :].tile([1, (self.kernel - 1) // 2, 1])
            end = x[:, -1:, :].tile([1, (self.kernel - 1) // 2, 1])
            x = paddle.concat([front, x, end], axis=1)
            return self.avg(x.transpose([0, 2, 1])).transpose([0, 2, 1])

    class DLinearNetwork(nn.Layer):
        """PaddleTS's DLinear (individual=False): DLinear_AD's form when ``reconstruction``."""

        def __init__(self) -> None:
            super().__init__()
            self.moving_avg = MovingAverage(25)
            self.Linear_Seasonal = nn.Linear(seq_len, pred_len)
            self.Linear_Trend = nn.Linear(seq_len, pred_len)

        def forward(self, inputs):
            x = inputs["observed_cov_numeric"].cast("float32") if reconstruction else inputs["past_target"]
            trend = self.moving_avg(x)
            seasonal = x - trend
            out = (self.Linear_Seasonal(seasonal.transpose([0, 2, 1]))
                   + self.Linear_Trend(trend.transpose([0, 2, 1]))).transpose([0, 2, 1])
            if reconstruction:
                return out, inputs["observed_cov_numeric"].cast("float32")
            return out

    return DLinearNetwork()


def _fit_dlinear(network, windows: np.ndarray, targets: np.ndarray, ridge: float = 1e-3) -> None:
    """Least-squares fit of DLinear's two linear layers, shared across channels: ``windows`` [N, seq_len] (one
    channel each) → ``targets`` [N, pred_len]."""
    seq_len = windows.shape[1]
    trend_matrix = _moving_average_matrix(seq_len)
    trend = windows @ trend_matrix.T
    design = np.concatenate([windows - trend, trend, np.ones((len(windows), 1))], 1)
    gram = design.T @ design + ridge * len(windows) * np.eye(design.shape[1])
    solution = np.linalg.solve(gram, design.T @ targets)  # [2 * seq_len + 1, pred_len]
    network.Linear_Seasonal.weight.set_value(solution[:seq_len].astype("float32"))
    network.Linear_Trend.weight.set_value(solution[seq_len:2 * seq_len].astype("float32"))
    network.Linear_Seasonal.bias.set_value(solution[-1].astype("float32"))
    network.Linear_Trend.bias.set_value(np.zeros(solution.shape[1], "float32"))


def _tide_network(seq_len: int = IN_CHUNK, pred_len: int = OUT_CHUNK, covariates: int = 4, projected: int = 4,
                  hidden: int = 64, decoder_dim: int = 8):
    import paddle
    import paddle.nn as nn

    class Residual(nn.Layer):
        """TiDE's residual block (dense, ReLU, dense, plus a linear skip), without dropout or layer norm."""

        def __init__(self, inputs: int, width: int, outputs: int) -> None:
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(inputs, width), nn.Linear(width, outputs)
            self.skip = nn.Linear(inputs, outputs)

        def forward(self, x):
            return self.fc2(nn.functional.relu(self.fc1(x))) + self.skip(x)

    class TiDEStandIn(nn.Layer):
        def __init__(self) -> None:
            super().__init__()
            self.feature_projection = Residual(covariates, 16, projected)
            self.encoder = Residual(seq_len + (seq_len + pred_len) * projected, hidden, hidden)
            self.dense_decoder = Residual(hidden, hidden, pred_len * decoder_dim)
            self.temporal_decoder = Residual(decoder_dim + projected, 16, 1)
            self.lookback = nn.Linear(seq_len, pred_len)

        def forward(self, inputs):
            past = inputs["past_target"]  # [B, seq_len, 1]
            mean = paddle.mean(past, axis=1, keepdim=True)
            # not paddle.var: Paddle Inference's oneDNN path (PaddleX's CPU default) gets var(keepdim) wrong
            std = paddle.sqrt(paddle.mean((past - mean) ** 2, axis=1, keepdim=True) + 1e-5)
            normed = ((past - mean) / std).squeeze(-1)  # [B, seq_len]
            features = self.feature_projection(inputs["known_cov_numeric"])  # [B, seq_len + pred_len, projected]
            encoded = self.encoder(paddle.concat([normed, features.flatten(1)], axis=1))
            decoded = self.dense_decoder(encoded).reshape([-1, pred_len, decoder_dim])
            future = features[:, seq_len:, :]
            steps = self.temporal_decoder(paddle.concat([decoded, future], axis=2)).squeeze(-1)
            out = steps + self.lookback(normed)  # [B, pred_len]
            return (out.unsqueeze(-1) * std) + mean

    return TiDEStandIn()


def _classifier_network(length: int = CLS_LENGTH, channels: int = 2, width: int = 16):
    import paddle.nn as nn

    class TimesNetClsStandIn(nn.Layer):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv1D(channels, width, 5, padding=2)
            self.conv2 = nn.Conv1D(width, width, 5, padding=2)
            self.projection = nn.Linear(width * length, CLASSES)

        def forward(self, inputs):
            x = inputs["features"].cast("float32").transpose([0, 2, 1])  # [B, channels, length]
            x = nn.functional.gelu(self.conv1(x))
            x = nn.functional.gelu(self.conv2(x)).transpose([0, 2, 1])  # [B, length, width]
            x = x * inputs["pad_mask"].unsqueeze(-1).astype(x.dtype)  # as TimesNet's classification head
            return self.projection(x.flatten(1))

    return TimesNetClsStandIn()


# --------------------------------------------------------------------------------------------- export, files

def _export(network, specs: dict, directory: Path, meta: dict, scaler=None) -> Path:
    """``network`` exported as PaddleTS's ``save(network_model=True)`` does (a one-dict ``input_spec``), its
    ``inference.yml`` (``yaml.dump`` of ``meta``: sorted keys, block style) and ``scaler.pkl``."""
    import joblib
    import paddle
    import yaml

    if not paddle.in_dynamic_mode():  # a Paddle Inference predictor run earlier in this process
        paddle.disable_static()
    network.eval()
    directory.mkdir(parents=True, exist_ok=True)
    input_spec = [{name: paddle.static.InputSpec(shape, "float32", name) for name, shape in specs.items()}]
    paddle.jit.save(paddle.jit.to_static(network, input_spec=input_spec, full_graph=True), str(directory / "inference"))
    for leftover in directory.glob("inference.pdiparams.info"):
        leftover.unlink()
    (directory / "inference.yml").write_text(yaml.dump(meta), encoding="utf-8")
    if scaler is not None:
        joblib.dump(scaler, directory / "scaler.pkl")
    return directory


def _meta(model_name: str, model_class: str, ancestors: list[str], modulename: str, base: dict,
          input_data: dict, info_params: dict, time_feat: bool, **extra) -> dict:
    meta = {"ancestor_classname_set": [model_class] + ancestors, "modulename": modulename, **base,
            "input_data": {name: list(shape) for name, shape in input_data.items()}, **extra,
            "time_feat": time_feat, "holiday": False, "info_params": info_params, "scale": True,
            "Global": {"model_name": model_name}}
    return meta


def _scaler(frame: pd.DataFrame):
    from sklearn.preprocessing import StandardScaler

    return StandardScaler().fit(frame)  # fitted on a DataFrame, as PaddleTS's train.py does (column names kept)


def _forecast_training_set(series: int = 48, rows: int = 480, seed: int = 1000):
    """Windows of many synthetic series (seeds apart from the test CSVs', starts over three years): the raw OT
    values, the window start times, and the 120 steps (96 past, 24 to forecast) of each window."""
    rng = np.random.default_rng(seed)
    origin = pd.Timestamp("2023-01-01")
    frames = []
    for k in range(series):
        start = origin + pd.Timedelta(hours=int(rng.integers(0, 3 * 365 * 24)))
        frames.append(forecast_frame(rows, seed + 1 + k, str(start)))
    span = IN_CHUNK + OUT_CHUNK
    windows, covariates = [], []
    for frame in frames:
        values = frame["OT"].to_numpy(np.float64)
        index = pd.DatetimeIndex(pd.to_datetime(frame["date"]))
        features = time_features(index.append(pd.date_range(index[-1], periods=OUT_CHUNK + 1, freq="h")[1:]))
        for first in range(0, rows - span + 1, 2):
            windows.append(values[first:first + span])
            covariates.append(features[first:first + span])
    return pd.concat(frames, ignore_index=True), np.stack(windows), np.stack(covariates)


def write_dlinear(directory: Path = DLINEAR, training=None) -> Path:
    """Fit and export DLinear (needs paddlepaddle, scikit-learn, joblib)."""
    frames, windows, _ = training or _forecast_training_set()
    scaler = _scaler(frames[["OT"]])
    scaled = (windows - scaler.mean_[0]) / scaler.scale_[0]
    network = _dlinear_network(IN_CHUNK, OUT_CHUNK, reconstruction=False)
    _fit_dlinear(network, scaled[:, :IN_CHUNK], scaled[:, IN_CHUNK:])
    meta = _meta("DLinear", "DLinearModel", _FORECAST_ANCESTORS, "paddlets.models.forecasting.dl.DLinear",
                 _FORECAST_META, {"past_target": [None, IN_CHUNK, 1]}, _FORECAST_INFO, time_feat=False)
    return _export(network, {"past_target": [None, IN_CHUNK, 1]}, directory, meta, scaler)


def write_tide(directory: Path = TIDE, training=None, steps: int = 800, seed: int = 2026) -> Path:
    """Train and export the TiDE stand-in (needs paddlepaddle, scikit-learn, joblib)."""
    import paddle

    paddle.seed(seed)
    rng = np.random.default_rng(seed)
    frames, windows, covariates = training or _forecast_training_set()
    scaler = _scaler(frames[["OT"]])
    scaled = ((windows - scaler.mean_[0]) / scaler.scale_[0]).astype(np.float32)
    network = _tide_network()
    schedule = paddle.optimizer.lr.CosineAnnealingDecay(3e-3, steps)
    optimizer = paddle.optimizer.Adam(learning_rate=schedule, parameters=network.parameters())
    past_all = paddle.to_tensor(scaled[:, :IN_CHUNK, None])
    future_all = paddle.to_tensor(scaled[:, IN_CHUNK:, None])
    covariates_all = paddle.to_tensor(covariates)
    network.train()
    for _ in range(steps):
        batch = paddle.to_tensor(rng.integers(0, len(scaled), 256))
        prediction = network({"past_target": paddle.gather(past_all, batch),
                              "known_cov_numeric": paddle.gather(covariates_all, batch)})
        loss = paddle.nn.functional.mse_loss(prediction, paddle.gather(future_all, batch))
        loss.backward()
        optimizer.step()
        optimizer.clear_grad()
        schedule.step()
    specs = {"known_cov_numeric": [None, IN_CHUNK + OUT_CHUNK, 4], "past_target": [None, IN_CHUNK, 1]}
    meta = _meta("TiDE", "TiDE", _FORECAST_ANCESTORS, "paddlets.models.forecasting.dl.TiDE", _FORECAST_META,
                 specs, _FORECAST_INFO, time_feat=True)
    return _export(network, specs, directory, meta, scaler)


def _contaminate(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``values`` with random spikes (one per 40 steps) and level shifts (one per 100), as the test CSVs have."""
    out = values.copy()
    amplitude = np.ptp(values, axis=0) / 2
    rows = len(values)
    for _ in range(rows // 40):
        at, channel = rng.integers(0, rows), rng.integers(0, 2)
        out[at, channel] += rng.choice([-1, 1]) * rng.uniform(0.8, 1.5) * amplitude[channel]
    for _ in range(rows // 100):
        at, channel, length = rng.integers(0, rows - 8), rng.integers(0, 2), rng.integers(6, 9)
        out[at:at + length, channel] += rng.choice([-1, 1]) * rng.uniform(0.6, 0.9) * amplitude[channel]
    return out


def write_dlinear_ad(directory: Path = DLINEAR_AD, series: int = 80, rows: int = 400, seed: int = 3000) -> Path:
    """Fit and export DLinear_ad with its threshold (needs paddlepaddle, scikit-learn, joblib).

    The two linear layers are the least-squares map from contaminated windows (noise, spikes, level shifts) to
    the clean ones: a denoiser that follows the signal and not the anomalies. The threshold is 1.5 times the
    99.9th percentile of PaddleX's per-step score on the noisy, anomaly-free training windows.
    """
    import paddle

    paddle.seed(seed)
    rng = np.random.default_rng(seed)
    noisy, clean, contaminated = [], [], []
    for _ in range(series):
        signal, noise = _anomaly_clean(np.arange(rows, dtype=np.float64), rng)
        clean.append(signal)
        noisy.append(signal + rng.normal(0, noise, signal.shape))
        contaminated.append(_contaminate(noisy[-1], rng))
    scaler = _scaler(pd.DataFrame(np.concatenate(noisy), columns=["feature_0", "feature_1"]))

    def windows(series_list, per_channel: bool) -> np.ndarray:
        scaled = [(x - scaler.mean_) / scaler.scale_ for x in series_list]
        starts = range(0, rows - AD_CHUNK + 1, 4)
        if per_channel:
            return np.stack([x[s:s + AD_CHUNK, c] for x in scaled for s in starts for c in range(2)])
        return np.stack([x[s:s + AD_CHUNK] for x in scaled for s in starts]).astype(np.float32)

    network = _dlinear_network(AD_CHUNK, AD_CHUNK, reconstruction=True)
    _fit_dlinear(network, windows(contaminated, True), windows(clean, True), ridge=1e-2)
    calibration = windows(noisy, False)
    with paddle.no_grad():
        network.eval()
        reconstruction = network({"observed_cov_numeric": paddle.to_tensor(calibration)})[0].numpy()
    # PaddleTS's threshold_coeff: 1.5 keeps the echoes of an anomaly on its neighbours under the threshold
    threshold = 1.5 * float(np.percentile(np.mean((reconstruction - calibration) ** 2, axis=-1), 99.9))
    specs = {"observed_cov_numeric": [None, AD_CHUNK, 2]}
    meta = _meta("DLinear_ad", "DLinear_AD", ["AnomalyBaseModel", "ABC", "object"],
                 "paddlets.models.anomaly.dl.dlinear_ad", {"model_type": "anomaly", "size": {"in_chunk_len": AD_CHUNK}},
                 specs, {"time_col": "timestamp", "feature_cols": ["feature_0", "feature_1"], "freq": 1},
                 time_feat=False, model_threshold=threshold)
    return _export(network, specs, directory, meta, scaler)


def write_timesnet_cls(directory: Path = TIMESNET_CLS, per_class: int = 150, steps: int = 300,
                       seed: int = 4000) -> Path:
    """Train and export the TimesNet_cls stand-in (needs paddlepaddle, scikit-learn, joblib)."""
    import paddle

    paddle.seed(seed)
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(CLASSES), per_class)
    series = np.stack([_classification_values(int(c), CLS_LENGTH, rng) for c in labels])
    scaler = _scaler(pd.DataFrame(series.reshape(-1, 2), columns=["dim_0", "dim_1"]))
    scaled = ((series - scaler.mean_) / scaler.scale_).astype(np.float32)
    network = _classifier_network()
    optimizer = paddle.optimizer.Adam(learning_rate=3e-3, parameters=network.parameters())
    features, targets = paddle.to_tensor(scaled), paddle.to_tensor(labels)
    mask = paddle.ones([len(labels), CLS_LENGTH], "float32")
    network.train()
    for _ in range(steps):
        batch = paddle.to_tensor(rng.integers(0, len(labels), 64))
        logits = network({"features": paddle.gather(features, batch), "pad_mask": paddle.gather(mask, batch)})
        loss = paddle.nn.functional.cross_entropy(logits, paddle.gather(targets, batch))
        loss.backward()
        optimizer.step()
        optimizer.clear_grad()
    specs = {"features": [None, CLS_LENGTH, 2], "pad_mask": [None, CLS_LENGTH]}
    meta = _meta("TimesNet_cls", "TimesNet_CLS", ["PaddleBaseClassifier", "BaseClassifier", "ABC", "object"],
                 "paddlets.models.classify.dl.timesnet", {"model_type": "classification", "size": {}}, specs,
                 {"time_col": "time", "target_cols": ["dim_0", "dim_1"], "group_id": "group_id", "freq": 1},
                 time_feat=False)
    return _export(network, specs, directory, meta, scaler)


def write_models() -> list[Path]:
    """All four model directories (under a minute on CPU)."""
    training = _forecast_training_set()
    return [write_dlinear(training=training), write_tide(training=training), write_dlinear_ad(),
            write_timesnet_cls()]


def edge_frames() -> dict[str, pd.DataFrame]:
    """The inputs of the recorder's edge cases (``edge/<name>.csv``)."""
    base = forecast_frame(200, 41, "2024-04-01 00:00:00")
    nan = base.copy()
    nan.loc[150, "OT"] = np.nan
    extra = base.copy()
    extra["temperature"] = np.round(np.random.default_rng(42).normal(20, 3, len(base)), 2)
    anomaly, _ = anomaly_frame(AD_CHUNK, 43)
    two_groups = pd.concat([classification_frame(2, 44, group_id=7), classification_frame(0, 45, group_id=3)],
                           ignore_index=True)
    return {
        "forecast_base": base,  # the frame the other forecast cases change
        "forecast_short": base.iloc[:80].reset_index(drop=True),  # under in_chunk_len (96)
        "forecast_missing_target": base.rename(columns={"OT": "load"}),
        "forecast_nan": nan,  # a NaN inside the last 96 rows
        "forecast_irregular": base.drop(index=170).reset_index(drop=True),  # one hour missing in the last 96
        "forecast_extra_column": extra,
        "forecast_unsorted": base.sample(frac=1.0, random_state=46).reset_index(drop=True),
        "anomaly_base": anomaly,
        "anomaly_short": anomaly.iloc[:60].reset_index(drop=True),
        "anomaly_unsorted": anomaly.sample(frac=1.0, random_state=47).reset_index(drop=True),
        "classification_short": classification_frame(1, 48, length=50),  # under the model's 64 steps
        "classification_long": classification_frame(1, 49, length=80),
        "classification_two_groups": two_groups,  # group 7 (class 2) first, then group 3 (class 0)
    }


def write_csvs(directory: Path = TS_DATA) -> dict:
    """The committed CSVs and ``truth.json`` (returned)."""
    truth = {"forecast": {}, "anomaly": {}, "classification": {}}
    for sub in ("forecast", "anomaly", "classification", "edge"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    for number, (seed, start, rows) in enumerate(FORECAST_SERIES):
        name = f"forecast/series_{number}.csv"
        forecast_frame(rows, seed, start).to_csv(directory / name, index=False)
        truth["forecast"][name] = {"seed": seed, "start": start, "rows": rows, **forecast_truth(rows, seed, start)}
    for number, (seed, rows) in enumerate(ANOMALY_SERIES):
        name = f"anomaly/series_{number}.csv"
        frame, positions = anomaly_frame(rows, seed)
        frame.to_csv(directory / name, index=False)
        truth["anomaly"][name] = {"seed": seed, "rows": rows, "window": [rows - AD_CHUNK, rows - 1],
                                  "positions": positions}
    for number, (cls, seed) in enumerate(CLASSIFICATION_SERIES):
        name = f"classification/series_{number}.csv"
        classification_frame(cls, seed).to_csv(directory / name, index=False)
        truth["classification"][name] = {"seed": seed, "class": cls}
    for name, frame in edge_frames().items():
        frame.to_csv(directory / "edge" / f"{name}.csv", index=False)
    (directory / "truth.json").write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    return truth


# ------------------------------------------------------------------------------------- checks against the truth

def _predictor(directory: Path):
    """A Paddle Inference predictor on ``directory`` and its input names, checked to be in sorted order (PaddleX
    feeds the ``input_data`` arrays sorted by name)."""
    import paddle.inference as paddle_infer
    import yaml

    config = paddle_infer.Config(str(directory / "inference.json"), str(directory / "inference.pdiparams"))
    config.disable_gpu()
    config.disable_glog_info()
    predictor = paddle_infer.create_predictor(config)
    names = predictor.get_input_names()
    expected = sorted(yaml.safe_load((directory / "inference.yml").read_text(encoding="utf-8"))["input_data"])
    assert names == expected, f"{directory.name}: program inputs {names}, PaddleX feeds {expected}"

    def run(**inputs):
        for name in names:
            handle = predictor.get_input_handle(name)
            handle.reshape(inputs[name].shape)
            handle.copy_from_cpu(np.ascontiguousarray(inputs[name], dtype=np.float32))
        predictor.run()
        return [predictor.get_output_handle(n).copy_to_cpu() for n in predictor.get_output_names()]

    return run


def _scaler_of(directory: Path):
    import joblib

    return joblib.load(directory / "scaler.pkl")


def check_accuracy(directory: Path = TS_DATA) -> dict:
    """Run the exported models on the committed CSVs, preprocessed as PaddleX does (last ``in_chunk_len`` rows,
    the scaler, the time features), and score them against ``truth.json``; returns the figures."""
    import yaml

    truth = json.loads((directory / "truth.json").read_text(encoding="utf-8"))
    figures = {}
    for model_dir in (DLINEAR, TIDE):
        run, scaler, rows = _predictor(model_dir), _scaler_of(model_dir), []
        for name, known in truth["forecast"].items():
            frame = pd.read_csv(directory / name).iloc[-IN_CHUNK:]
            past = scaler.transform(frame[["OT"]]).astype(np.float32)[None]
            index = pd.DatetimeIndex(pd.to_datetime(frame["date"]))
            future = pd.date_range(index[-1], periods=OUT_CHUNK + 1, freq="h")[1:]
            inputs = {"past_target": past, "known_cov_numeric": time_features(index.append(future))[None]}
            forecast = scaler.inverse_transform(run(**inputs)[0][0])[:, 0]
            target, observed = np.array(known["values"]), frame["OT"].to_numpy()
            rows.append({"model": float(np.mean(np.abs(forecast - target))),
                         "last_value": float(np.mean(np.abs(observed[-1] - target))),
                         "seasonal_naive": float(np.mean(np.abs(observed[-OUT_CHUNK:] - target))),
                         "noise_std": known["noise_std"]})
        figures[model_dir.name] = {key: float(np.mean([r[key] for r in rows])) for key in rows[0]}
        figures[model_dir.name]["per_csv_model_mae"] = [round(r["model"], 4) for r in rows]
    run, scaler = _predictor(DLINEAR_AD), _scaler_of(DLINEAR_AD)
    threshold = yaml.safe_load((DLINEAR_AD / "inference.yml").read_text(encoding="utf-8"))["model_threshold"]
    found = missed = false_alarms = 0
    for name, known in truth["anomaly"].items():
        frame = pd.read_csv(directory / name).iloc[-AD_CHUNK:]
        window = scaler.transform(frame[["feature_0", "feature_1"]]).astype(np.float32)
        score = np.mean((run(observed_cov_numeric=window[None])[0][0] - window) ** 2, axis=-1)
        flagged = set(frame["timestamp"].to_numpy()[score >= threshold].tolist())
        injected = set(known["positions"])
        found += len(flagged & injected)
        missed += len(injected - flagged)
        false_alarms += len(flagged - injected)
    figures["DLinear_ad"] = {"injected_found": found, "injected_missed": missed, "false_alarms": false_alarms,
                             "steps_scored": AD_CHUNK * len(truth["anomaly"]), "threshold": threshold}
    run, scaler = _predictor(TIMESNET_CLS), _scaler_of(TIMESNET_CLS)
    right = []
    for name, known in truth["classification"].items():
        frame = pd.read_csv(directory / name)
        features = scaler.transform(frame[["dim_0", "dim_1"]]).astype(np.float32)[None]
        logits = run(features=features, pad_mask=np.ones((1, CLS_LENGTH), np.float32))[0][0]
        right.append(int(np.argmax(logits)) == known["class"])
    figures["TimesNet_cls"] = {"right": int(sum(right)), "of": len(right)}
    return figures


def _check(figures: dict) -> list[str]:
    problems = []
    for name in ("DLinear", "TiDE"):
        f = figures[name]
        baseline = min(f["last_value"], f["seasonal_naive"])
        if not f["model"] < 0.7 * baseline:
            problems.append(f"{name}: forecast MAE {f['model']:.3f} is not well under the naive {baseline:.3f}")
    ad = figures["DLinear_ad"]
    if ad["injected_missed"] > 0.1 * (ad["injected_found"] + ad["injected_missed"]) or ad["false_alarms"] > 4:
        problems.append(f"DLinear_ad: {ad}")
    if figures["TimesNet_cls"]["right"] != figures["TimesNet_cls"]["of"]:
        problems.append(f"TimesNet_cls: {figures['TimesNet_cls']}")
    return problems


if __name__ == "__main__":
    began = time.perf_counter()
    print([str(p.relative_to(DATA)) for p in write_models()], f"{time.perf_counter() - began:.1f} s")
    write_csvs()
    figures = check_accuracy()
    print(json.dumps(figures, indent=1))
    problems = _check(figures)
    print(f"{time.perf_counter() - began:.1f} s")
    if problems:
        sys.exit("accuracy check failed:\n" + "\n".join(problems))
