"""A small client for hpi's (and PaddleX's) serving protocol, on the standard library only.

    from hpi.serving.client import Client

    client = Client("http://127.0.0.1:8080")            # pipeline OCR → POST /ocr
    result = client.predict("page.png", text_det_thresh=0.3, visualize=False)
    for page in result["ocrResults"]:
        print(page["prunedResult"]["rec_texts"])

Parameters may be given by hpi's (PaddleX's Python) names or by their serving
names (``textDetThresh``). An error response raises :class:`ServiceError`
with its ``status``, ``message`` and ``log_id``.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

class ServiceError(Exception):
    """An error answer of the service: HTTP status (= errorCode), errorMsg and logId."""

    def __init__(self, status: int, message: str, log_id: str | None = None) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message
        self.log_id = log_id


def serving_name(name: str) -> str:
    """``text_det_thresh`` → ``textDetThresh`` (a camelCase name is returned as it is)."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def encode_file(file: str | Path | bytes) -> tuple[str, int]:
    """(base64 text, fileType) of a path or of raw bytes (0: PDF, 1: image)."""
    data = Path(file).read_bytes() if isinstance(file, (str, Path)) else bytes(file)
    return base64.b64encode(data).decode("ascii"), 0 if data[:5] == b"%PDF-" else 1


class Client:
    """Calls one pipeline's endpoint on a server (``pipeline`` names it, or give ``endpoint``)."""

    def __init__(self, url: str = "http://127.0.0.1:8080", pipeline: str = "OCR", endpoint: str | None = None,
                 timeout: float = 120.0) -> None:
        self.url = url.rstrip("/")
        if endpoint is None:
            from .apps import serving_app

            endpoint = serving_app(pipeline).endpoint
        self.endpoint = endpoint
        self.timeout = timeout

    def predict(self, file: str | Path | bytes, **params: Any) -> dict:
        """The ``result`` of one request for ``file`` (a path or bytes; a ``str`` starting with http(s) is sent
        as a URL). ``params``: the pipeline's per-call parameters, ``visualize``, ``logId``."""
        if isinstance(file, str) and file.startswith(("http://", "https://")):
            payload: dict[str, Any] = {"file": file}
        else:
            data, file_type = encode_file(file)
            payload = {"file": data, "fileType": file_type}
        payload.update({serving_name(k): v for k, v in params.items() if v is not None})
        return self.call(self.endpoint, payload)["result"]

    def call(self, path: str, payload: dict) -> dict:
        """POST ``payload`` to ``path``; the whole answer (``logId``, ``result``, ...)."""
        request = urllib.request.Request(self.url + path, data=json.dumps(payload).encode("utf-8"),
                                         headers={"Content-Type": "application/json"}, method="POST")
        return self._send(request)

    def health(self) -> dict:
        return self._send(urllib.request.Request(self.url + "/health"))

    def _send(self, request: urllib.request.Request) -> dict:
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            body = exc.read()
            try:
                answer = json.loads(body)
                raise ServiceError(exc.code, str(answer.get("errorMsg")), answer.get("logId")) from None
            except (ValueError, AttributeError):
                raise ServiceError(exc.code, body.decode("utf-8", "replace")[:500]) from None


__all__ = ["Client", "ServiceError", "encode_file", "serving_name"]
