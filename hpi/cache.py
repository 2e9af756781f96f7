"""The on-disk cache under ``$HPI_HOME`` (default ``~/.cache/hpi``).

Layout::

    wheels/     verified source wheels
    models/     <model name>/ extracted model files + source.json
    onnx/       <content key>/model.onnx + meta.json (exports)
    decisions/  <key>.json backend choices made by measurement
    engines/    <key>/ TensorRT engines + meta.json
    locks/      file locks

Every write goes to a temporary file in the same directory and is renamed into
place, so an interrupted process never leaves a half-written entry.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator

from .errors import CacheError

log = logging.getLogger(__name__)


_WRITABLE: set[Path] = set()  # roots already checked in this process


def hpi_home() -> Path:
    """The cache root: ``$HPI_HOME`` or ``~/.cache/hpi``; created and checked on first use."""
    root = Path(os.environ.get("HPI_HOME") or Path.home() / ".cache" / "hpi").expanduser()
    if root in _WRITABLE and root.is_dir():
        return root
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=root, prefix=".write-test-", delete=True)
        probe.close()
    except OSError as exc:
        raise CacheError(
            f"The hpi cache directory {str(root)!r} is not writable ({exc.strerror or exc}). "
            "Set HPI_HOME to a writable directory, e.g. HPI_HOME=/tmp/hpi-cache."
        ) from exc
    _WRITABLE.add(root)
    return root


def cache_dir(kind: str) -> Path:
    path = hpi_home() / kind
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def file_lock(name: str, timeout: float = 1800.0) -> Iterator[None]:
    """An inter-process lock named ``name`` (held while fetching/exporting/building)."""
    from filelock import FileLock, Timeout

    path = cache_dir("locks") / f"{_safe(name)}.lock"
    lock = FileLock(str(path), timeout=timeout)
    try:
        with lock:
            yield
    except Timeout as exc:
        raise CacheError(
            f"Waited {timeout:.0f} s for the lock {str(path)!r}; another hpi process holds it. "
            "If no other process is running, delete that file."
        ) from exc


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def sha256_files(paths: list[Path]) -> str:
    """One digest over several files' contents (names excluded, order kept)."""
    return combine_digests([sha256_file(path) for path in paths])


def combine_digests(digests: list[str]) -> str:
    """The :func:`sha256_files` digest from the files' own sha256 hex digests (no file is read)."""
    digest = hashlib.sha256()
    for file_digest in digests:
        digest.update(file_digest.encode())
    return digest.hexdigest()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, json.dumps(obj, indent=2, sort_keys=True).encode())


def read_json(path: Path, warn: bool = True) -> dict | None:
    """The JSON object at ``path``; None when missing; None (with a warning if ``warn``) when corrupt."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        if warn:
            log.warning("Cache file %s is corrupt (%s); it will be rebuilt.", path, exc)
        return None
    if not isinstance(data, dict):
        if warn:
            log.warning("Cache file %s is corrupt (not an object); it will be rebuilt.", path)
        return None
    return data


def replace_dir(tmp_dir: Path, final_dir: Path) -> None:
    """Move a fully written temp directory into place, replacing any old entry."""
    if final_dir.exists():
        shutil.rmtree(final_dir, ignore_errors=True)
    os.replace(tmp_dir, final_dir)
