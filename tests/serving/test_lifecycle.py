"""Overload answers 503 at once, URLs when allowed, and shutdown (SIGTERM) finishes the requests in flight and
queued: on one real server process, in that order (the last test stops it). The admission rules themselves
(queue bound, timeouts, closing) are tested without HTTP in ``test_service.py``; the doc_preprocessor app runs
in process here, on the same Service an ``hpi --serve`` process runs."""

from __future__ import annotations

import base64
import functools
import http.server
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from rendering import PAGE_TEXTS, render_lines

from .conftest import Server, metric_value, normalized, png_base64, text_metric

WAIT_S = 120  # bound of every wait on a server's state


def _wait_for(predicate, what: str, server: Server) -> None:
    deadline = time.monotonic() + WAIT_S
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {WAIT_S} s for {what}:\n{server.log()}")
        time.sleep(0.02)


@pytest.fixture(scope="module")
def long_page(fonts):
    """A page that takes a while (many lines): requests on it stay in flight long enough to be seen."""
    return render_lines(PAGE_TEXTS * 3, fonts[0], size=24)


@pytest.fixture(scope="module")
def busy_server(serving_tmp):
    """One worker, one queue place, URLs allowed (stopped by the last test, or at the end)."""
    server = Server(serving_tmp, "--pipeline", "OCR", "--concurrency", "1", "--max_queue", "1", "--allow-url")
    yield server
    server.stop()


def _one_running_one_queued(server: Server, pool: ThreadPoolExecutor, page) -> tuple:
    """Two requests on the long page: the first running (in flight), the second queued behind it."""
    payload = {"file": png_base64(page.image), "fileType": 1, "visualize": False}
    first = pool.submit(server.post, "/ocr", payload)
    _wait_for(lambda: metric_value(server.url, "hpi_requests_in_flight") >= 1, "a request in flight", server)
    second = pool.submit(server.post, "/ocr", payload)
    _wait_for(lambda: metric_value(server.url, "hpi_queue_depth") >= 1 or first.done(), "a queued request", server)
    return first, second


def test_overload_is_a_fast_503(busy_server, long_page, pages):
    with ThreadPoolExecutor(max_workers=2) as pool:
        first, second = _one_running_one_queued(busy_server, pool, long_page)
        if first.done():
            pytest.skip("the first request finished before the queue filled (machine much faster than expected)")
        third = busy_server.post("/ocr", {"file": png_base64(pages[0].image), "fileType": 1})
        assert third.status == 503, third.body
        assert third.body["errorCode"] == 503 and "overloaded" in third.body["errorMsg"]
        assert third.headers.get("retry-after") == "1"
        for future in (first, second):
            answer = future.result(timeout=WAIT_S)
            assert answer.status == 200, answer.body
            assert normalized(answer.result["ocrResults"][0]["prunedResult"]["rec_texts"])[:8] == \
                normalized(long_page.texts)[:8]
    assert 'hpi_requests_total{code="503",endpoint="/ocr"}' in text_metric(busy_server.url)


def test_url_input_when_allowed(busy_server, pages, tmp_path):
    import cv2

    cv2.imwrite(str(tmp_path / "page.png"), pages[1].image)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/page.png"
        answer = busy_server.post("/ocr", {"file": url, "visualize": False})  # fileType from the extension
        assert answer.status == 200, answer.body
        assert normalized(answer.result["ocrResults"][0]["prunedResult"]["rec_texts"]) == normalized(pages[1].texts)
        missing = busy_server.post("/ocr", {"file": url.replace("page.png", "gone.png")})
        assert missing.status == 422 and missing.body["errorMsg"].startswith("Invalid input file")
        assert "HTTP 404" in missing.body["errorMsg"]  # hpi's URL reader says what the server answered
        unknown = busy_server.post("/ocr", {"file": url.replace("page.png", "page.bin")})
        assert unknown.status == 422 and unknown.body["errorMsg"] == "Unsupported file type"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_shutdown_finishes_requests_in_flight_and_queued(busy_server, long_page):
    server = busy_server
    with ThreadPoolExecutor(max_workers=2) as pool:
        first, second = _one_running_one_queued(server, pool, long_page)
        code = server.stop(timeout=WAIT_S)  # SIGTERM while one runs and one waits
        answers = [future.result(timeout=WAIT_S) for future in (first, second)]
    assert code == 0, server.log()
    for answer in answers:
        assert answer.status == 200, answer.body
        assert normalized(answer.result["ocrResults"][0]["prunedResult"]["rec_texts"])[:4] == \
            normalized(long_page.texts)[:4]
    assert "Waiting for connections to close" in server.log() or "Shutting down" in server.log()


def test_doc_preprocessor_app(pages):
    import asyncio
    import json

    import cv2
    import numpy as np

    from hpi import create_pipeline
    from hpi.serving.app import Service

    def post(payload: dict) -> tuple[int, dict]:
        status, content, _ = asyncio.run(service.handle(json.dumps(payload).encode()))
        return status, json.loads(content)

    with create_pipeline("doc_preprocessor") as pipeline:
        service = Service(pipeline)
        turned = cv2.rotate(pages[0].image, cv2.ROTATE_90_COUNTERCLOCKWISE)
        status, body = post({"file": png_base64(turned), "fileType": 1})
        assert status == 200, body
        (entry,) = body["result"]["docPreprocessingResults"]
        assert list(entry) == ["outputImage", "prunedResult", "docPreprocessingImage", "inputImage"]
        assert entry["prunedResult"]["model_settings"] == {"use_doc_orientation_classify": True,
                                                           "use_doc_unwarping": False}
        upright = cv2.imdecode(np.frombuffer(base64.b64decode(entry["outputImage"]), np.uint8), cv2.IMREAD_COLOR)
        assert upright.shape == pages[0].image.shape  # turned back (PNG, lossless)
        assert entry["prunedResult"]["angle"] in (90, 270)
        _, quiet = post({"file": png_base64(turned), "fileType": 1, "visualize": False,
                         "useDocOrientationClassify": False})
        assert list(quiet["result"]["docPreprocessingResults"][0]) == ["outputImage", "prunedResult"]
        assert quiet["result"]["docPreprocessingResults"][0]["prunedResult"]["angle"] == -1
        status, flattened = post({"file": png_base64(turned), "fileType": 1, "visualize": False,
                                  "useDocUnwarping": True})
        assert status == 200, flattened
        (entry,) = flattened["result"]["docPreprocessingResults"]
        assert entry["prunedResult"]["model_settings"]["use_doc_unwarping"] is True
        unwarped = cv2.imdecode(np.frombuffer(base64.b64decode(entry["outputImage"]), np.uint8), cv2.IMREAD_COLOR)
        assert unwarped.shape == pages[0].image.shape and not np.array_equal(unwarped, upright)
        asyncio.run(service.close())
