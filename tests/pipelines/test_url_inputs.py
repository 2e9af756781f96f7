"""http(s) URLs as inputs, fetched from a server this test starts on 127.0.0.1 (no other address is contacted)."""

from __future__ import annotations

import io
import json
import re
import socket
import time
from pathlib import Path

import pytest
from PIL import Image

from hpi.errors import InputError
from hpi.inputs import iter_items
from rendering import latin_fonts, render_lines

REPO = Path(__file__).resolve().parents[2]
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    """urllib would send requests for 127.0.0.1 to a configured proxy: never here."""
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)


def _png(image) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image[:, :, ::-1]).save(buffer, "PNG")
    return buffer.getvalue()


def _pdf(images) -> bytes:
    pages = [Image.fromarray(image[:, :, ::-1]) for image in images]
    buffer = io.BytesIO()
    pages[0].save(buffer, "PDF", save_all=True, append_images=pages[1:], resolution=72.0)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def pages():
    fonts = latin_fonts()
    if not fonts:
        pytest.skip("no DejaVu fonts to render test images")
    return [render_lines(["Fetched from a URL", "Total 42.00"], fonts[0], size=30).image,
            render_lines(["Second page", "Invoice 2026-1125"], fonts[0], size=30).image]


def _answer(status: int, headers: dict[str, str], body=b"", delay: float = 0.0):
    """A route answering ``status`` with ``headers``; ``body`` bytes, or an iterable of chunks (sent as they
    come, ``delay`` seconds apart); ``delay`` also before the headers when the body is bytes."""

    def answer(handler) -> None:
        if isinstance(body, bytes) and delay:
            time.sleep(delay)
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        for chunk in [body] if isinstance(body, bytes) else body:
            handler.wfile.write(chunk)
            handler.wfile.flush()
            if not isinstance(body, bytes):
                time.sleep(delay)

    return answer


@pytest.fixture(scope="module")
def server(pages):
    """Base URL of a local server with an image, PDFs and every kind of failure."""
    from model_hosting import ModelHost

    png, pdf = _png(pages[0]), _pdf(pages)
    host = ModelHost()
    host.routes.update({
        "/scans/page.png": ("image/png", png),
        "/docs/two%20pages.pdf": ("application/pdf", pdf),
        "/download?id=7": ("application/pdf; charset=binary", pdf),  # a PDF known by its content type only
        "/blob": ("application/octet-stream", pdf),  # ... or by its signature only
        "/index.html": ("text/html; charset=utf-8", b"<html><body>not an image</body></html>"),
        "/empty.png": ("image/png", b""),
        "/big.png": ("image/png", png),
        # the headers come too late
        "/slow.png": _answer(200, {"Content-Type": "image/png", "Content-Length": str(len(png))}, png, delay=3),
        # each byte in time, the whole too late
        "/trickle.png": _answer(200, {"Content-Type": "image/png", "Content-Length": str(len(png))},
                                [png[i:i + 1] for i in range(len(png))], delay=0.05),
        # no Content-Length: the limit is counted while reading
        "/stream.png": _answer(200, {"Content-Type": "image/png", "Connection": "close"}, [b"\0" * 1024] * 64),
        "/to-ftp.png": _answer(302, {"Location": "ftp://127.0.0.1/page.png", "Content-Length": "0"}),
        "/to-page.png": _answer(301, {"Location": "/scans/page.png", "Content-Length": "0"}),
    })
    with host:
        yield host.url


def _closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _items(url):
    items, _ = iter_items(url)
    return list(items)


def test_a_png_url_reads_like_the_image(ocr_pipeline, server, pages):
    url = f"{server}/scans/page.png"
    expected = next(ocr_pipeline.predict(pages[0]))
    result = next(ocr_pipeline.predict(url))
    assert result.rec_texts == expected.rec_texts and len(result.rec_texts) == 2
    assert result.input_path == url and result.json["res"]["input_path"] == url
    assert result.page_index is None and result.stem == "page"
    # A redirect to another http(s) URL is followed.
    assert next(ocr_pipeline.predict(f"{server}/to-page.png")).rec_texts == expected.rec_texts


@pytest.mark.parametrize("path, stem", [
    ("/docs/two%20pages.pdf", "two pages"), ("/download?id=7", "download"), ("/blob", "blob"),
])
def test_a_pdf_url_is_one_result_per_page(ocr_pipeline, server, path, stem):
    url = f"{server}{path}"
    results = list(ocr_pipeline.predict(url))
    assert [r.page_index for r in results] == [0, 1]
    assert all(r.ok and r.input_path == url for r in results)
    assert [r.stem for r in results] == [f"{stem}_0", f"{stem}_1"]
    assert len(results[1].rec_texts) == 2 and any("Second" in text for text in results[1].rec_texts)


@pytest.mark.parametrize("path, env, message", [
    ("/missing.png", {}, r"the server answered HTTP 404 Not Found"),
    ("/slow.png", {"HPI_URL_TIMEOUT_S": "0.5"}, r"no complete response within 0\.5 s \(HPI_URL_TIMEOUT_S\)"),
    ("/trickle.png", {"HPI_URL_TIMEOUT_S": "0.5"}, r"no complete response within 0\.5 s \(HPI_URL_TIMEOUT_S\)"),
    ("/big.png", {"HPI_URL_MAX_BYTES": "1000"},
     r"the response is [\d,]+ bytes \(Content-Length\), over the limit of 1,000 bytes \(HPI_URL_MAX_BYTES\)"),
    ("/stream.png", {"HPI_URL_MAX_BYTES": "10000"}, r"over the limit of 10,000 bytes \(HPI_URL_MAX_BYTES\)"),
    ("/index.html", {}, r"the server sent text/html \(\d+ bytes\), not an image or a PDF"),
    ("/empty.png", {}, r"the server sent an empty response \(0 bytes\)"),
    ("/to-ftp.png", {}, r"redirected \(HTTP 302\) to ftp://127\.0\.0\.1/page\.png, which is not an http\(s\) URL"),
    ("/scans/page.png", {"HPI_URL_TIMEOUT_S": "soon"}, r"HPI_URL_TIMEOUT_S must be a positive number of seconds"),
])
def test_url_failures_say_what_happened(server, path, env, message, monkeypatch):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    url = f"{server}{path}"
    started = time.monotonic()
    (item,) = _items(url)
    assert time.monotonic() - started < 3.0  # the timeout, not the server, decides how long it waits
    assert item.image is None and isinstance(item.error, InputError)
    assert str(item.error).startswith(f"{url}: ")
    assert item.input_path == url
    assert re.search(message, str(item.error)), str(item.error)


def test_an_unreachable_host_and_other_schemes_are_clear_errors():
    url = f"http://127.0.0.1:{_closed_port()}/page.png"
    (item,) = _items(url)
    assert "cannot reach the server (Connection refused)" in str(item.error)
    for other in ("ftp://127.0.0.1/page.png", "file:///etc/hostname", "s3://bucket/page.png"):
        (item,) = _items(other)
        assert str(item.error).startswith(f"{other}: only http:// and https:// URLs are read, not ")


def test_a_failing_url_alone_raises_and_in_a_batch_is_that_inputs_error(ocr_pipeline, server, pages, monkeypatch):
    monkeypatch.setenv("HPI_URL_TIMEOUT_S", "0.5")
    with pytest.raises(InputError, match="HTTP 404"):
        list(ocr_pipeline.predict(f"{server}/missing.png"))
    good = f"{server}/scans/page.png"
    batch = [good, f"{server}/missing.png", f"{server}/slow.png", pages[1]]
    results = list(ocr_pipeline.predict(batch))
    assert [r.ok for r in results] == [True, False, False, True]
    assert results[0].input_path == good and len(results[0].rec_texts) == 2
    assert "HTTP 404" in str(results[1].error) and results[1].input_path == f"{server}/missing.png"
    assert "HPI_URL_TIMEOUT_S" in str(results[2].error)
    assert len(results[3].rec_texts) == 2


def test_cli_input_url(server, tmp_path, monkeypatch):
    from cli_run import run_cli

    url = f"{server}/scans/page.png"
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
    proc = run_cli("--pipeline", "OCR", "--input", url, "--save_path", tmp_path / "out", "--texts_only", cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(proc.stdout.strip().splitlines()) == 2
    saved = json.loads((tmp_path / "out" / "page_res.json").read_text())
    assert saved["input_path"] == url
