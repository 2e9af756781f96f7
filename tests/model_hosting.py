"""A test HTTP host on 127.0.0.1 (route table, failure routes), and model archives in PaddleX's tarball layout and
the Hugging Face Hub's HTTP API for the store tests; the URL-input tests use the same host.

The archives are made from models hpi ships (PP-OCRv6_small det/rec ONNX files with their own PaddleX
``inference.yml``) under another PaddleX name: stand-ins that exercise the mechanism, not those models.
"""

from __future__ import annotations

import io
import json
import tarfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable


def stand_in_dir(target: Path, name: str, source: str = "PP-OCRv6_small_det") -> Path:
    """A PaddleX model directory named ``name`` at ``target``: ``source``'s ONNX file and inference.yml
    (its ``Global.model_name`` set to ``name``), laid out as PaddleX's ONNX packages are."""
    from hpi.models.fetch import model_files

    files = model_files(source)
    target.mkdir(parents=True, exist_ok=True)
    (target / "inference.onnx").write_bytes(files["onnx"].read_bytes())
    yml = files["yml"].read_text(encoding="utf-8").replace(f"model_name: {source}", f"model_name: {name}", 1)
    (target / "inference.yml").write_text(yml, encoding="utf-8")
    return target


def tarball(directory: Path, top: str, extra: Callable[[tarfile.TarFile], None] | None = None) -> bytes:
    """``directory`` as a tar with one top folder ``top`` (PaddleX's ``<name>_infer.tar`` layout)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(directory, arcname=top)
        if extra is not None:
            extra(tar)
    return buffer.getvalue()


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes = b"x") -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def add_symlink(tar: tarfile.TarFile, name: str, target: str) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    tar.addfile(info)


class ModelHost:
    """A threaded HTTP server on 127.0.0.1. ``routes`` maps a path to bytes or ``(content type, bytes)`` (200),
    an int (that HTTP status), or a callable ``(handler) -> None`` that answers itself; other paths are 404.
    ``requests`` lists the paths asked."""

    def __init__(self) -> None:
        self.routes: dict[str, object] = {}
        self.requests: list[str] = []
        host = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                host.requests.append(self.path)
                route = host.routes.get(self.path)
                try:
                    if route is None:
                        self.send_error(404)
                    elif isinstance(route, int):
                        self.send_error(route)
                    elif callable(route):
                        route(self)
                    else:
                        content_type, body = route if isinstance(route, tuple) else (None, route)
                        self.send_response(200)
                        if content_type:
                            self.send_header("Content-Type", content_type)
                        self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeouts, limits)
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "ModelHost":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def serve_hub_repo(self, repo: str, directory: Path) -> None:
        """``directory`` as the Hub repository ``repo``: its file list and each file under resolve/main."""
        files = sorted(p for p in directory.rglob("*") if p.is_file())
        listing = {"id": repo, "siblings": [{"rfilename": ".gitattributes"}]
                   + [{"rfilename": str(p.relative_to(directory))} for p in files]}
        self.routes[f"/api/models/{repo}/revision/main"] = json.dumps(listing).encode()
        self.routes[f"/{repo}/resolve/main/.gitattributes"] = b"*.onnx filter=lfs\n"
        for path in files:
            self.routes[f"/{repo}/resolve/main/{path.relative_to(directory)}"] = path.read_bytes()


def slow(body: bytes, seconds: float, chunks: int = 10) -> Callable:
    """A route that sends ``body`` in ``chunks`` pieces over about ``seconds``."""

    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        step = max(1, len(body) // chunks)
        for start in range(0, len(body), step):
            handler.wfile.write(body[start:start + step])
            handler.wfile.flush()
            time.sleep(seconds / chunks)

    return answer


def cut(body: bytes, keep: int, stall_s: float = 0.0) -> Callable:
    """A route that promises ``body``, sends ``keep`` bytes, then stalls for ``stall_s`` (0: closes)."""

    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body[:keep])
        handler.wfile.flush()
        if stall_s:
            time.sleep(stall_s)
        handler.close_connection = True

    return answer
