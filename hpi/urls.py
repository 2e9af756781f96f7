"""URL inputs: an http(s) URL is fetched within ``HPI_URL_TIMEOUT_S`` (30 s) and ``HPI_URL_MAX_BYTES`` (100 MB).

Part of :mod:`hpi.inputs`, which decodes what :func:`fetch_url` returns like a file's bytes.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import NamedTuple

from .errors import InputError

URL_SCHEMES = ("http", "https")
DEFAULT_URL_TIMEOUT_S = 30.0
DEFAULT_URL_MAX_BYTES = 100_000_000
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def is_url(entry) -> bool:
    """Whether ``entry`` is a string with a URL scheme (``http://…``; any scheme, to refuse the others clearly)."""
    return isinstance(entry, str) and _SCHEME.match(entry) is not None


def url_path(url: str) -> str:
    from urllib.parse import unquote, urlsplit

    return unquote(urlsplit(url).path)


def url_suffix(url: str) -> str:
    return Path(url_path(url)).suffix.lower()


def url_stem(url: str) -> str:
    """The URL path's file stem (``https://host/scans/page%201.png?x=1`` → ``page 1``), safe as a file name."""
    from urllib.parse import urlsplit

    stem = Path(url_path(url)).stem or (urlsplit(url).hostname or "")
    return re.sub(r'[\x00-\x1f<>:"/\\|?*]', "_", stem) or "input"


class ResponseTooLarge(InputError):
    """The response is over the byte limit (the server answers 413 for it, other input errors 422)."""


def env_number(name: str, default, kind: type, what: str):
    """The positive, finite ``kind`` (int or float) in environment variable ``name``; ``default`` if unset
    (:func:`hpi.env.env_number`, its error as an :class:`InputError`)."""
    from .env import env_number as read
    from .errors import ConfigError

    try:
        return read(name, default, kind, what)
    except ConfigError:
        raise InputError(f"{name} must be {what}, got {os.environ.get(name, '').strip()!r}.") from None


def redirect_handler():
    import urllib.request
    from urllib.parse import urlsplit

    class HTTPOnlyRedirects(urllib.request.HTTPRedirectHandler):
        """Follows redirects to http(s) URLs only (urllib's own would follow one to ftp://)."""

        def redirect_request(self, req, fp, code, msg, headers, newurl):
            if urlsplit(newurl).scheme.lower() not in URL_SCHEMES:
                raise InputError(f"{req.full_url}: redirected (HTTP {code}) to {newurl}, which is not an http(s) URL.")
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    return HTTPOnlyRedirects()


class UrlFailure(NamedTuple):
    """What went wrong in a urllib download: ``kind`` is ``http`` (the server answered an error; ``code``),
    ``timeout`` (no answer within the socket timeout), ``unreachable`` (no connection) or ``broken`` (the
    transfer failed); ``detail`` says it in words."""

    kind: str
    detail: str
    code: int | None = None


def url_failure(exc: BaseException) -> UrlFailure | None:
    """The one rule for urllib's errors, shared by input URLs (:func:`fetch_url`) and model downloads
    (:mod:`hpi.models.download`); None when ``exc`` is not a network error."""
    import http.client
    import socket
    import urllib.error

    if isinstance(exc, urllib.error.HTTPError):
        exc.close()
        return UrlFailure("http", f"HTTP {exc.code} {exc.reason}", exc.code)
    if isinstance(exc, urllib.error.URLError):
        if isinstance(exc.reason, (TimeoutError, socket.timeout)):
            return UrlFailure("timeout", "no answer")
        return UrlFailure("unreachable", getattr(exc.reason, "strerror", None) or str(exc.reason))
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return UrlFailure("timeout", "stalled")
    if isinstance(exc, (http.client.HTTPException, OSError, ValueError)):
        return UrlFailure("broken", f"{type(exc).__name__}: {exc}")
    return None


def fetch_url(url: str, *, timeout: float | None = None, max_bytes: int | None = None) -> tuple[bytes, str]:
    """(body, content type) of an http(s) URL, within ``timeout`` s and ``max_bytes`` bytes.

    Limits not given come from ``HPI_URL_TIMEOUT_S`` and ``HPI_URL_MAX_BYTES``.

    Every failure is an :class:`InputError` that says which: the host cannot be reached, the server's
    HTTP status, the body is too large, the time ran out.
    """
    import http.client
    import urllib.request

    from . import __version__

    scheme = _SCHEME.match(url).group(1).lower()
    if scheme not in URL_SCHEMES:
        raise InputError(f"{url}: only http:// and https:// URLs are read, not {scheme}://. Give a file path instead.")
    # Name the environment variable in messages only when the limit came from it.
    time_source = "" if timeout is not None else " (HPI_URL_TIMEOUT_S)"
    size_source = "" if max_bytes is not None else " (HPI_URL_MAX_BYTES)"
    try:
        if timeout is None:
            timeout = env_number("HPI_URL_TIMEOUT_S", DEFAULT_URL_TIMEOUT_S, float, "a positive number of seconds")
        if max_bytes is None:
            max_bytes = env_number("HPI_URL_MAX_BYTES", DEFAULT_URL_MAX_BYTES, int, "a positive whole number of bytes")
    except InputError as exc:
        raise InputError(f"{url}: {exc}") from None

    def too_large(size: str) -> InputError:
        return ResponseTooLarge(f"{url}: the response is {size}, over the limit of {max_bytes:,} bytes{size_source}.")

    def timed_out() -> InputError:
        return InputError(f"{url}: no complete response within {timeout:g} s{time_source}.")

    deadline = time.monotonic() + timeout
    request = urllib.request.Request(url, headers={
        "User-Agent": f"hpi/{__version__}", "Accept": "image/*, application/pdf;q=0.9, */*;q=0.5",
    })
    opener = urllib.request.build_opener(redirect_handler())
    try:
        # urllib's timeout bounds each connect and read; the deadline bounds the whole download.
        with opener.open(request, timeout=timeout) as response:
            length = (response.headers.get("Content-Length") or "").strip()
            if length.isdigit() and int(length) > max_bytes:
                raise too_large(f"{int(length):,} bytes (Content-Length)")
            chunks, size = [], 0
            while chunk := response.read1(1 << 16):  # one read at a time, so the deadline is checked
                size += len(chunk)
                if size > max_bytes:
                    raise too_large(f"over {max_bytes:,} bytes")
                if time.monotonic() > deadline:
                    raise timed_out()
                chunks.append(chunk)
            content_type = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    except InputError:
        raise
    except (http.client.HTTPException, OSError, ValueError) as exc:  # urllib's errors are OSErrors
        failure = url_failure(exc)
        if failure.kind == "timeout":
            raise timed_out() from None
        if failure.kind == "http":
            raise InputError(f"{url}: the server answered {failure.detail}.") from None
        if failure.kind == "unreachable":
            raise InputError(f"{url}: cannot reach the server ({failure.detail}). Check the address and the "
                             "network.") from None
        raise InputError(f"{url}: the download failed ({failure.detail}).") from None
    if not chunks:
        raise InputError(f"{url}: the server sent an empty response (0 bytes).")
    return b"".join(chunks), content_type
