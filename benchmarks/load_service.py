"""Bounded load on ``hpi --serve`` (127.0.0.1 only): throughput and latency by concurrency, batching on vs off.

    python benchmarks/load_service.py --json out/load_service.json
    python benchmarks/load_service.py --quick                       # a short smoke run
    python benchmarks/load_service.py --hpi-config hpi_ocr.yaml \
        --paddlex-python /tmp/pdxvenv/bin/python --paddlex-config paddlex_ocr.yaml   # same models in both

It starts one server per mode (cross-request batching on, and off) on free
loopback ports, warms them up, then runs closed-loop clients (each sends its
next request when the last one is answered, over one keep-alive connection) at
each concurrency for a fixed time and at most a fixed number of requests,
interleaving modes and levels over ``--rounds`` rounds (the best round of each
cell is reported, all rounds are kept), so that drifting load on a shared
machine hits every mode alike. It
records requests, errors by HTTP status, throughput, p50/p99 latency and, from
the server's /metrics, the mean rows per model call of each model slot. Then
an overload phase: many more clients than the server admits, with a short
request timeout, to show that overload is answered 503 and p99 stays bounded by
the timeout. With ``--paddlex-python`` the same load runs against PaddleX's own
server (``paddlex --serve``) in that interpreter's venv, on the same images.

Requests carry ``visualize: false`` (engine throughput, not JPEG encoding).
Images are rendered documents (tests/rendering.py), the same for every phase.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def render_payloads(count: int) -> list[bytes]:
    import cv2

    from rendering import PAGE_TEXTS, RECEIPT_TEXTS, latin_fonts, render_lines

    fonts = latin_fonts() or (None,)
    payloads = []
    for i in range(count):
        texts = (PAGE_TEXTS + RECEIPT_TEXTS)[i % 5:][:6 + i % 4]
        page = render_lines(texts, fonts[i % len(fonts)], size=24 + 2 * (i % 3), width=900)
        data = base64.b64encode(cv2.imencode(".png", page.image)[1].tobytes()).decode()
        payloads.append(json.dumps({"file": data, "fileType": 1, "visualize": False}).encode())
    return payloads


class ServerProcess:
    def __init__(self, command: list[str], port: int, log_path: Path, env: dict | None = None,
                 startup_s: float = 600) -> None:
        self.port = port
        self.log = open(log_path, "wb")
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, env=env or dict(os.environ))
        deadline = time.monotonic() + startup_s
        while True:
            if self.process.poll() is not None:
                raise SystemExit(f"server exited with {self.process.returncode}; see {log_path}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/health")
                if connection.getresponse().status == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"server did not start within {startup_s} s; see {log_path}")
            time.sleep(0.3)

    def metrics(self) -> dict[str, float]:
        """``hpi_batch_size_{sum,count}`` per slot, from /metrics (empty for servers without it)."""
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            connection.request("GET", "/metrics")
            text = connection.getresponse().read().decode()
        except OSError:
            return {}
        out = {}
        for line in text.splitlines():
            if line.startswith(("hpi_batch_size_sum", "hpi_batch_size_count")):
                name, value = line.rsplit(" ", 1)
                out[name] = float(value)
        return out

    def rss_mb(self) -> float | None:
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
        except OSError:
            return None
        return None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()


def run_load(port: int, path: str, payloads: list[bytes], concurrency: int, duration_s: float,
             max_requests: int, timeout_s: float = 120) -> dict:
    """Closed-loop load: ``concurrency`` clients until ``duration_s`` or ``max_requests`` requests."""
    latencies: list[float] = []
    codes: dict[str, int] = {}
    lock = threading.Lock()
    issued = [0]
    stop_at = time.monotonic() + duration_s

    def client(index: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
        turn = index
        while time.monotonic() < stop_at:
            with lock:
                if issued[0] >= max_requests:
                    return
                issued[0] += 1
            body = payloads[turn % len(payloads)]
            turn += concurrency
            started = time.monotonic()
            try:
                connection.request("POST", path, body=body, headers={"Content-Type": "application/json"})
                response = connection.getresponse()
                response.read()
                code = str(response.status)
                if response.getheader("connection", "").lower() == "close":
                    connection.close()
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
            except (OSError, http.client.HTTPException) as exc:
                code = type(exc).__name__
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout_s)
            elapsed = time.monotonic() - started
            with lock:
                codes[code] = codes.get(code, 0) + 1
                latencies.append(elapsed)
        connection.close()

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - started
    ok = codes.get("200", 0)
    ordered = sorted(latencies)

    def quantile(q: float) -> float | None:
        return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1) if ordered else None

    return {
        "concurrency": concurrency, "requests": len(latencies), "ok": ok,
        "errors": {k: v for k, v in codes.items() if k != "200"}, "seconds": round(wall, 2),
        "throughput_rps": round(ok / wall, 3) if wall > 0 else 0.0,
        "p50_ms": quantile(0.5), "p99_ms": quantile(0.99),
        "mean_ms": round(1000 * statistics.fmean(latencies), 1) if latencies else None,
    }


def _batch_means(before: dict, after: dict) -> dict:
    out = {}
    for key, value in after.items():
        if key.startswith("hpi_batch_size_sum"):
            slot = key[key.index('"') + 1:key.rindex('"')]
            count_key = key.replace("_sum", "_count")
            calls = after.get(count_key, 0) - before.get(count_key, 0)
            rows = value - before.get(key, 0)
            if calls > 0:
                out[slot] = round(rows / calls, 2)
    return out


HPI_PIPELINE = ["OCR"]  # --hpi-config replaces it


def hpi_command(port: int, extra: list[str]) -> list[str]:
    return [sys.executable, "-m", "hpi.cli", "--serve", "--pipeline", HPI_PIPELINE[0], "--host", "127.0.0.1",
            "--port", str(port), "--log_level", "WARNING", *extra]


def measure_modes(modes: dict[str, list[str]], payloads, levels, args, out_dir: Path) -> list[dict]:
    """All modes' servers up at once; phases interleaved (round × level × mode), so a machine whose
    load drifts (shared CI or dev boxes) shifts every mode alike. Each cell keeps its best round."""
    servers = {}
    try:
        for name, flags in modes.items():
            port = free_port()
            servers[name] = ServerProcess(hpi_command(port, flags), port, out_dir / f"server-{name}.log")
            # Warm-up: every page once, then (--warmup s) load at the top level, so merged batch shapes
            # (which OpenVINO compiles on first sight, 150-400 ms each) are seen before measuring.
            run_load(port, "/ocr", payloads, 2, duration_s=60, max_requests=2 * len(payloads))
            if args.warmup:
                run_load(port, "/ocr", payloads, max(levels), duration_s=args.warmup, max_requests=100_000)
        cells: dict[tuple[str, int], list[dict]] = {}
        for round_index in range(args.rounds):
            for concurrency in levels:
                for name, server in servers.items():
                    before = server.metrics()
                    phase = run_load(server.port, "/ocr", payloads, concurrency, args.duration, args.max_requests)
                    phase["rows_per_model_call"] = _batch_means(before, server.metrics())
                    phase["round"] = round_index
                    cells.setdefault((name, concurrency), []).append(phase)
                    print(f"{name:>12} c={concurrency:<3} round {round_index}: {phase['throughput_rps']:6.2f} req/s  "
                          f"p50 {phase['p50_ms']} ms  p99 {phase['p99_ms']} ms  errors {phase['errors']}  "
                          f"rows/call {phase['rows_per_model_call']}", flush=True)
        results = []
        for name, flags in modes.items():
            phases = []
            for concurrency in levels:
                rounds = cells[(name, concurrency)]
                best = max(rounds, key=lambda p: p["throughput_rps"])
                phases.append({**best, "all_rounds_rps": [p["throughput_rps"] for p in rounds],
                               "errors_all_rounds": sum(sum(p["errors"].values()) for p in rounds)})
            results.append({"mode": name, "server_flags": flags, "phases": phases,
                            "server_rss_mb_at_end": servers[name].rss_mb()})
        return results
    finally:
        for server in servers.values():
            server.stop()


def measure_soak(payloads, args, out_dir: Path) -> dict:
    port = free_port()
    server = ServerProcess(hpi_command(port, []), port, out_dir / "server-soak.log")
    try:
        run_load(port, "/ocr", payloads, 2, duration_s=60, max_requests=2 * len(payloads))
        phase = run_load(port, "/ocr", payloads, 16, args.soak, 100_000)
        print(f"{'soak':>12} c=16  {args.soak:.0f} s: {phase['throughput_rps']:6.2f} req/s  p99 {phase['p99_ms']} ms  "
              f"errors {phase['errors']} (+{phase['ok']} ok)", flush=True)
        return phase
    finally:
        server.stop()


def measure_overload(payloads, args, out_dir: Path) -> dict:
    port = free_port()
    flags = ["--concurrency", "4", "--max_queue", "4", "--timeout", str(args.overload_timeout)]
    server = ServerProcess(hpi_command(port, flags), port, out_dir / "server-overload.log")
    try:
        run_load(port, "/ocr", payloads, 2, duration_s=30, max_requests=len(payloads))
        phase = run_load(port, "/ocr", payloads, args.overload_clients, args.duration, args.max_requests * 2)
        phase["server_flags"] = flags
        print(f"{'overload':>12} c={args.overload_clients:<3} {phase['throughput_rps']:6.2f} req/s  p50 {phase['p50_ms']} ms  "
              f"p99 {phase['p99_ms']} ms  codes {phase['errors']} (+{phase['ok']} ok)", flush=True)
        return phase
    finally:
        server.stop()


def measure_paddlex(payloads, levels, args, out_dir: Path) -> dict:
    port = free_port()
    env = {**os.environ, "PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK": "True"}
    command = [args.paddlex_python, "-m", "paddlex", "--serve", "--pipeline", args.paddlex_config,
               "--device", "cpu", "--host", "127.0.0.1", "--port", str(port)]
    server = ServerProcess(command, port, out_dir / "server-paddlex.log", env=env)
    try:
        run_load(port, "/ocr", payloads, 1, duration_s=60, max_requests=len(payloads))
        phases = []
        for concurrency in levels:
            phase = run_load(port, "/ocr", payloads, concurrency, args.duration, args.max_requests)
            phases.append(phase)
            print(f"{'paddlex':>12} c={concurrency:<3} {phase['throughput_rps']:6.2f} req/s  p50 {phase['p50_ms']} ms  "
                  f"p99 {phase['p99_ms']} ms  errors {phase['errors']}", flush=True)
        return {"mode": "paddlex", "phases": phases}
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", default=None, help="write the results here")
    parser.add_argument("--levels", default="1,4,8,16", help="concurrency levels (default 1,4,8,16)")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per phase (default 20)")
    parser.add_argument("--max_requests", type=int, default=400, help="requests per phase at most (default 400)")
    parser.add_argument("--images", type=int, default=8, help="distinct rendered pages (default 8)")
    parser.add_argument("--warmup", type=float, default=30.0, help="seconds of load at the top level before measuring")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds per cell; the best is kept (default 2)")
    parser.add_argument("--soak", type=float, default=0.0, help="also run concurrency 16 for this many seconds")
    parser.add_argument("--overload_clients", type=int, default=32)
    parser.add_argument("--overload_timeout", type=float, default=30.0)
    parser.add_argument("--no_overload", action="store_true")
    parser.add_argument("--modes", default="batching,no_batching",
                        help="of batching, no_batching, batching_equal_widths, batching_pad256")
    parser.add_argument("--hpi-config", dest="hpi_config", default=None,
                        help="pipeline YAML for hpi's servers (default: the OCR pipeline's default config)")
    parser.add_argument("--paddlex-python", dest="paddlex_python", default=None)
    parser.add_argument("--paddlex-config", dest="paddlex_config", default=None)
    parser.add_argument("--quick", action="store_true", help="levels 1,4; 5 s each; no overload phase")
    args = parser.parse_args()
    if args.quick:
        args.levels, args.duration, args.no_overload, args.rounds = "1,4", 5.0, True, 1
    levels = [int(x) for x in args.levels.split(",")]
    if args.hpi_config:
        HPI_PIPELINE[0] = args.hpi_config
    out_dir = Path(args.json).parent if args.json else Path("out")
    out_dir.mkdir(parents=True, exist_ok=True)
    payloads = render_payloads(args.images)
    results: dict = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "settings": {"pipeline": HPI_PIPELINE[0], "warmup_s": args.warmup, "levels": levels, "duration_s": args.duration, "max_requests": args.max_requests,
                     "images": args.images, "rounds": args.rounds, "visualize": False},
        "load_average_before": os.getloadavg(),
        "modes": [],
    }
    flags = {"batching": [], "no_batching": ["--no_batching"], "batching_equal_widths": ["--max_pad_columns", "0"],
             "batching_pad256": ["--max_pad_columns", "256"]}
    results["modes"] = measure_modes({m: flags[m] for m in args.modes.split(",")}, payloads, levels, args, out_dir)
    if args.soak:
        results["soak"] = measure_soak(payloads, args, out_dir)
    if not args.no_overload:
        results["overload"] = measure_overload(payloads, args, out_dir)
    if args.paddlex_python:
        results["modes"].append(measure_paddlex(payloads, levels, args, out_dir))
    for mode in results["modes"]:
        by_level = {p["concurrency"]: p["throughput_rps"] for p in mode["phases"]}
        base = by_level.get(1)
        mode["speedup_over_c1"] = {str(c): round(v / base, 2) for c, v in by_level.items() if base}
    results["load_average_after"] = os.getloadavg()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
