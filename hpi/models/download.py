"""Model files over HTTP: streamed to disk, bounded in time and size, retried, with a progress bar.

Limits come from the environment: ``HPI_MODEL_TIMEOUT_S`` (60: the longest a
connect or a read may stall; a slow but moving download is never cut),
``HPI_MODEL_MAX_BYTES`` (8 GiB: PaddleX's largest archives are well under)
and ``HPI_MODEL_RETRIES`` (3 more tries after a failure that may pass: no
answer, a dropped connection, a short body, HTTP 429 or 5xx; never after a
404 or an oversized body). Only http(s) is spoken, redirects included.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from ..env import env_number
from ..errors import ModelError

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MAX_BYTES = 8 << 30
DEFAULT_RETRIES = 3
_CHUNK = 1 << 20


class DownloadError(ModelError):
    """A download failed; ``transient`` when trying again may help."""

    def __init__(self, message: str, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


def limits() -> tuple[float, int, int]:
    """(stall timeout s, byte cap, retries) from the environment."""
    timeout = env_number("HPI_MODEL_TIMEOUT_S", DEFAULT_TIMEOUT_S, float, "a positive number of seconds")
    max_bytes = env_number("HPI_MODEL_MAX_BYTES", DEFAULT_MAX_BYTES, int, "a positive whole number of bytes")
    retries = env_number("HPI_MODEL_RETRIES", DEFAULT_RETRIES, int, "a whole number ≥ 0", allow_equal=True)
    return timeout, max_bytes, retries


def download(url: str, dest: Path, label: str, headers: dict[str, str] | None = None) -> int:
    """Write the body of ``url`` to ``dest`` (bytes written); :class:`DownloadError` saying why not."""
    timeout, max_bytes, retries = limits()
    attempt = 0
    while True:
        try:
            return _download_once(url, dest, label, timeout, max_bytes, headers or {})
        except DownloadError as exc:
            if not exc.transient or attempt >= retries:
                if exc.transient and retries:
                    raise DownloadError(f"{exc} (gave up after {retries + 1} tries; HPI_MODEL_RETRIES)") from None
                raise
            attempt += 1
            wait = min(2.0 ** (attempt - 1), 10.0)
            log.warning("Download of %s failed (%s); trying again in %.0f s (%d of %d)", label, exc, wait,
                        attempt, retries)
            time.sleep(wait)


def _download_once(url: str, dest: Path, label: str, timeout: float, max_bytes: int,
                   headers: dict[str, str]) -> int:
    import http.client
    import urllib.request

    from .. import __version__
    from ..errors import InputError
    from ..urls import redirect_handler, url_failure

    request = urllib.request.Request(url, headers={"User-Agent": f"hpi/{__version__}", **headers})
    opener = urllib.request.build_opener(redirect_handler())
    size = 0
    try:
        with opener.open(request, timeout=timeout) as response:
            length_text = (response.headers.get("Content-Length") or "").strip()
            length = int(length_text) if length_text.isdigit() else None
            if length is not None and length > max_bytes:
                raise DownloadError(f"{url} is {length:,} bytes, over the limit of {max_bytes:,} (HPI_MODEL_MAX_BYTES)")
            log.info("Downloading %s from %s%s", label, url, f" ({length / 1e6:.1f} MB)" if length else "")
            with open(dest, "wb") as out, _progress(label, length) as bar:
                while chunk := response.read1(_CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise DownloadError(f"{url} sent more than {max_bytes:,} bytes (HPI_MODEL_MAX_BYTES)")
                    out.write(chunk)
                    bar.update(len(chunk))
            if length is not None and size != length:
                raise DownloadError(f"{url}: the connection closed after {size:,} of {length:,} bytes", True)
    except DownloadError:
        raise
    except InputError as exc:  # a redirect to something other than http(s)
        raise DownloadError(str(exc)) from None
    except (http.client.HTTPException, OSError) as exc:  # urllib's errors are OSErrors
        failure = url_failure(exc)
        if failure.kind == "http":
            raise DownloadError(f"{url}: {failure.detail}", failure.code == 429 or failure.code >= 500) from None
        if failure.kind == "timeout" and failure.detail == "no answer":
            raise DownloadError(f"{url}: no answer within {timeout:g} s (HPI_MODEL_TIMEOUT_S)", True) from None
        if failure.kind == "timeout":
            raise DownloadError(f"{url}: stalled for {timeout:g} s after {size:,} bytes (HPI_MODEL_TIMEOUT_S)",
                                True) from None
        if failure.kind == "unreachable":
            raise DownloadError(f"{url}: cannot reach the server ({failure.detail})", True) from None
        raise DownloadError(f"{url}: the download failed after {size:,} bytes ({failure.detail})", True) from None
    if size == 0:
        raise DownloadError(f"{url}: the server sent an empty body")
    return size


def _progress(label: str, total: int | None):
    """A tqdm bar on stderr (shown on a terminal only)."""
    from tqdm import tqdm

    return tqdm(total=total, desc=label, unit="B", unit_scale=True, unit_divisor=1024, disable=None,
                file=sys.stderr, leave=False)


__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_RETRIES", "DEFAULT_TIMEOUT_S", "DownloadError", "download", "limits"]
