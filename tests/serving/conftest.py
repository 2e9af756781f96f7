"""Serving fixtures: real ``hpi --serve`` processes on 127.0.0.1 (a free port each), rendered inputs.

Every wait is bounded (a deadline, then a failure that shows the server's log);
nothing is sent anywhere but 127.0.0.1.
"""

from __future__ import annotations

import base64
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi", reason="the serving tests need the serve extra: pip install \"hpi[serve]\"")
pytest.importorskip("uvicorn", reason="the serving tests need the serve extra: pip install \"hpi[serve]\"")
pytest.importorskip("prometheus_client", reason="the serving tests need the serve extra: pip install \"hpi[serve]\"")

from rendering import PAGE_TEXTS, latin_fonts, render_lines  # noqa: E402

STARTUP_TIMEOUT_S = 300  # a fresh $HPI_HOME fetches, exports and measures the models first
REQUEST_TIMEOUT_S = 120


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Answer:
    status: int
    body: dict
    headers: dict

    @property
    def result(self) -> dict:
        return self.body["result"]


def http(url: str, payload: dict | bytes | None = None, timeout: float = REQUEST_TIMEOUT_S,
         headers: dict | None = None) -> Answer:
    data = payload if isinstance(payload, (bytes, type(None))) else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Answer(response.status, json.loads(response.read()), {k.lower(): v for k, v in response.headers.items()})
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return Answer(exc.code, json.loads(raw) if raw else {}, {k.lower(): v for k, v in exc.headers.items()})


def text_metric(url: str) -> str:
    with urllib.request.urlopen(url + "/metrics", timeout=30) as response:
        return response.read().decode()


def metric_value(url: str, name: str) -> float:
    for line in text_metric(url).splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


class Server:
    """One ``hpi --serve`` process; ``stop()`` sends SIGTERM and waits (bounded) for exit."""

    def __init__(self, tmp: Path, *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp / f"server-{self.port}.log"
        self._log = open(self.log_path, "wb")
        command = [sys.executable, "-m", "hpi.cli", "--serve", "--host", "127.0.0.1", "--port", str(self.port), *args]
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT, env=dict(os.environ))
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited with {self.process.returncode}:\n{self.log()}")
            try:
                if http(self.url + "/health", timeout=2).status == 200:
                    return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"the server did not answer /health within {STARTUP_TIMEOUT_S} s:\n{self.log()}")
            time.sleep(0.2)

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")[-6000:]

    def post(self, path: str, payload: dict | bytes, **kwargs) -> Answer:
        return http(self.url + path, payload, **kwargs)

    def stop(self, timeout: float = 60) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()
        return self.process.returncode


@pytest.fixture(scope="session")
def serving_tmp(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("serving")


@pytest.fixture(scope="session")
def ocr_server(serving_tmp):
    """OCR with small limits, so that the limit tests need small inputs only."""
    server = Server(serving_tmp, "--pipeline", "OCR", "--max_pdf_pages", "2", "--max_pixels", "4000000",
                    "--max_body_mb", "2", "--concurrency", "4", "--max_wait_ms", "20",
                    "--text_rec_score_thresh", "0.01")  # a constructor flag: the server's default
    yield server
    server.stop()


@pytest.fixture(scope="session")
def fonts():
    found = latin_fonts()
    if not found:
        pytest.skip("no DejaVu fonts to render test images (apt-get install fonts-dejavu-core)")
    return found


# Lines the PP-OCRv4 mobile rec model reads exactly (whitespace ignored), so texts can be compared exactly.
EXACT_TEXTS = [PAGE_TEXTS[1], PAGE_TEXTS[2], PAGE_TEXTS[3], PAGE_TEXTS[5]]


@pytest.fixture(scope="session")
def pages(fonts):
    """Four rendered pages with different texts (the ground truth in ``.texts``)."""
    return [
        render_lines(EXACT_TEXTS[:2], fonts[0], size=28),
        render_lines(EXACT_TEXTS[2:], fonts[0], size=28),
        render_lines(EXACT_TEXTS[1:3], fonts[1 % len(fonts)], size=30),
        render_lines([EXACT_TEXTS[3], EXACT_TEXTS[0]], fonts[-1], size=26),
    ]


def png_base64(image: np.ndarray) -> str:
    import cv2

    ok, encoded = cv2.imencode(".png", image)
    assert ok
    return base64.b64encode(encoded.tobytes()).decode("ascii")


def pdf_bytes(images: list[np.ndarray]) -> bytes:
    from PIL import Image

    pictures = [Image.fromarray(np.ascontiguousarray(i[:, :, ::-1])) for i in images]
    buffer = io.BytesIO()
    pictures[0].save(buffer, format="PDF", save_all=True, append_images=pictures[1:], resolution=72)
    return buffer.getvalue()


def normalized(texts) -> list[str]:
    return ["".join(t.split()) for t in texts]
