"""hpi against PaddleX 3.7.2 on time-series forecasting: a directory of CSV series, the same model, interleaved.

    .venv/bin/python benchmarks/ts_vs_paddlex.py --paddlex-python /tmp/pdx/bin/python

The model is the DLinear of ``tests/ts_models.py`` (trained here in seconds on series with known truth, in
PaddleX's model-directory layout with a joblib ``scaler.pkl``); the series are ``--series`` hourly CSVs made by
``tests.ts_models.forecast_frame`` (``--rows`` rows each, different seeds) in one directory. Each engine runs in
its own process (PaddleX in its venv, hpi here), loaded and warmed up on the directory before timing; rounds
alternate which goes first, with a pause before each turn. One call is ``predict(directory)`` consumed: every CSV
read, checked, scaled, forecast and un-scaled, and each result's ``forecast`` DataFrame taken. hpi runs twice: with PaddleX's pipeline setting ``batch_size: 1``
(one series per model call) and with ``--batch`` series per model call (PaddleX 3.7.2 pairs the outputs of a
batch with the wrong series, so it runs at 1). Reported: series per second (median over rounds) of each, and the
ratios. Output: ``benchmarks/ts_vs_paddlex.json`` with the CPU flags the figures came from.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.vision_vs_paddlex import cpu_flags, interleaved, start  # noqa: E402


def worker(engine: str, model_dir: Path, directory: str, batch: int) -> None:
    """Load the model, then answer ``run N`` lines with the seconds of N passes over the directory (JSON)."""
    if engine == "paddlex":
        os.environ["PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK"] = "True"
        import paddlex

        model = paddlex.create_model(model_name="DLinear", model_dir=str(model_dir))
    else:
        from hpi import create_model

        model = create_model("DLinear", model_dir=str(model_dir), batch_size=batch)
    run = lambda: sum(len(result["forecast"]) > 0 for result in model.predict(directory))  # noqa: E731
    run()  # warm-up: every file once
    print("ready", flush=True)
    for line in sys.stdin:
        times = []
        for _ in range(int(line.split()[1])):
            started = time.perf_counter()
            count = run()
            times.append(time.perf_counter() - started)
        print(json.dumps([count / t for t in times]), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paddlex-python", default="/tmp/pdx/bin/python")
    ap.add_argument("--series", type=int, default=100)
    ap.add_argument("--rows", type=int, default=400)
    ap.add_argument("--batch", type=int, default=32, help="hpi's series per model call in the batched run")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--passes", type=int, default=2, help="passes over the directory per turn")
    ap.add_argument("--settle-s", type=float, default=0.5)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "ts_vs_paddlex.json")
    ap.add_argument("--worker", nargs=4, metavar=("ENGINE", "MODEL", "DIR", "BATCH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        engine, model_dir, directory, batch = args.worker
        return worker(engine, Path(model_dir), directory, int(batch))

    from tests.ts_models import DLINEAR, forecast_frame

    with tempfile.TemporaryDirectory(prefix="hpi-ts-bench-") as tmp:
        for index in range(args.series):
            forecast_frame(args.rows, seed=1000 + index).to_csv(Path(tmp) / f"series_{index:03d}.csv", index=False)
        engines = {"paddlex": [args.paddlex_python, __file__, "--worker", "paddlex", str(DLINEAR), tmp, "1"],
                   "hpi_batch_1": [sys.executable, __file__, "--worker", "hpi", str(DLINEAR), tmp, "1"],
                   f"hpi_batch_{args.batch}": [sys.executable, __file__, "--worker", "hpi", str(DLINEAR), tmp,
                                               str(args.batch)]}
        workers = {name: start(cmd) for name, cmd in engines.items()}
        rates = interleaved(workers, args.rounds, args.passes, args.settle_s)
    medians = {name: statistics.median(values) for name, values in rates.items()}
    results = {
        "cpu": cpu_flags(), "series": args.series, "rows_per_series": args.rows, "rounds": args.rounds,
        "passes_per_turn": args.passes, "model": "DLinear (tests/ts_models.py): in 96, out 24, 1 target, scaled",
        "command": "python benchmarks/ts_vs_paddlex.py --paddlex-python /tmp/pdx/bin/python",
        "series_per_s_median": {k: round(v, 1) for k, v in medians.items()},
        "series_per_s_all": {k: [round(v, 1) for v in values] for k, values in rates.items()},
        "speedup": {name: round(value / medians["paddlex"], 2) for name, value in medians.items() if name != "paddlex"},
    }
    print(json.dumps({k: results[k] for k in ("series_per_s_median", "speedup")}), flush=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
