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

Temporary entries are the only names under those directories that start with
a dot (``wheels/.download-*``, ``models/.<model>.*``, ``onnx/.<entry>.*``,
``engines/.<entry>.*``, ``.<file>.*.tmp`` beside a JSON file). A temporary
directory (:func:`temp_dir`) holds an exclusive lock on its ``.owner`` file for
as long as it exists. When a process first uses the cache, it removes what
killed processes left behind (one INFO line lists it): a temporary directory
whose owner lock no process holds (and that is over a minute old), and a
temporary entry with no owner lock (a temp file of an atomic write, or a
directory left by an older hpi) untouched for an hour. An entry that a running
process holds is never removed, however old.

A complete but read-only ``$HPI_HOME`` (a container image with the models baked
in, mounted read-only) is used as it is: what is there is read, locks go to
the system's temp directory, and only something that must be written (a model
to fetch, an export to make, an engine to build) is an error naming
``HPI_HOME`` and what is missing (:func:`require_writable`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Iterator

from .errors import CacheError

log = logging.getLogger(__name__)


# Roots checked in this process → None when writable, else why not (e.g. "Read-only file system").
_HOMES: dict[Path, str | None] = {}
_HOMES_LOCK = threading.Lock()

OWNER_FILE = ".owner"  # inside a temp dir; locked by the process that made it for as long as it exists
STALE_AFTER_S = 3600.0  # a temp entry with no owner lock, untouched this long, is left over
GRACE_S = 60.0  # never remove a temp entry younger than this (its owner may be taking its lock right now)
# The directories temp entries are made in; nothing else under HPI_HOME is swept.
TEMP_PARENTS = ("wheels", "models", "onnx", "decisions", "engines", "engines/timing", "verified")
# Names tempfile.mkdtemp/mkstemp give our prefixes: ".<prefix><8 random chars>[.tmp]".
_TEMP_NAME = re.compile(r"^\..+[a-z0-9_]{8}(\.tmp)?$")


def _home_path() -> Path:
    return Path(os.environ.get("HPI_HOME") or Path.home() / ".cache" / "hpi").expanduser()


def hpi_home() -> Path:
    """The cache root: ``$HPI_HOME`` or ``~/.cache/hpi``; created and checked on first use in a process.

    The first use also removes temp entries that killed processes left (see the module's docstring).
    An existing root that cannot be written is used read-only (:func:`is_writable` says so).
    """
    root = _home_path()
    if root in _HOMES and root.is_dir():
        return root
    with _HOMES_LOCK:
        if root in _HOMES and root.is_dir():
            return root
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CacheError(
                f"The hpi cache directory {str(root)!r} does not exist and cannot be created "
                f"({exc.strerror or exc}). Set HPI_HOME to a writable directory, e.g. HPI_HOME=/tmp/hpi-cache."
            ) from exc
        problem = _write_problem(root)
        if problem is None:
            sweep_stale_temps(root)
        else:
            log.info("The hpi cache directory %s (HPI_HOME) is not writable (%s): using what is there, read-only.",
                     root, problem)
        _HOMES[root] = problem
    return root


def _write_problem(root: Path) -> str | None:
    """None when a file can be created in ``root``; else the reason."""
    try:
        fd, probe = tempfile.mkstemp(dir=root, prefix=".write-test-")
    except OSError as exc:
        return exc.strerror or str(exc)
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)
    return None


def is_writable() -> bool:
    """Whether ``$HPI_HOME`` can be written (False: a read-only cache, used as it is)."""
    return _HOMES.get(hpi_home()) is None


def require_writable(missing: str) -> None:
    """Raise :class:`CacheError` when ``$HPI_HOME`` is read-only; ``missing`` says what is not there.

    ``missing`` completes "…, and <missing>", e.g. ``"model X is not there (models/X), so it must be fetched"``.
    """
    root = hpi_home()
    problem = _HOMES.get(root)
    if problem is not None:
        raise CacheError(_read_only_message(root, problem, missing))


def _read_only_message(root: Path, problem: str, missing: str) -> str:
    return (
        f"The hpi cache directory {str(root)!r} (HPI_HOME) is not writable ({problem}), and {missing}. "
        "Fill it once where it can be written, with the same hpi and backend versions (`hpi models pull NAME`, "
        "then one run of the pipeline), or set HPI_HOME to a writable directory."
    )


def _read_only_home_of(path: Path) -> tuple[Path, str] | None:
    """(root, why) when ``path`` lies in an HPI_HOME this process found read-only; None otherwise."""
    root = _home_path()
    problem = _HOMES.get(root)
    if problem is None:
        return None
    try:
        Path(os.path.abspath(path)).relative_to(os.path.abspath(root))
    except ValueError:
        return None
    return root, problem


def in_read_only_home(path: str | os.PathLike) -> bool:
    """Whether ``path`` is inside ``$HPI_HOME`` and that cache is read-only."""
    hpi_home()
    return _read_only_home_of(Path(path)) is not None


def cache_dir(kind: str) -> Path:
    """``$HPI_HOME/<kind>``, created when the cache is writable (a read-only one is only read)."""
    root = hpi_home()
    path = root / kind
    if _HOMES.get(root) is None:
        path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def file_lock(name: str, timeout: float = 1800.0) -> Iterator[None]:
    """An inter-process lock named ``name`` (held while fetching/exporting/building)."""
    from filelock import FileLock, Timeout

    root = hpi_home()
    if _HOMES.get(root) is None:
        directory = cache_dir("locks")
    else:
        # Nothing can be written to a read-only cache, its lock files included; processes sharing it
        # still exclude each other (one measures the backends at a time) through the temp directory.
        digest = hashlib.sha256(os.path.abspath(root).encode()).hexdigest()[:12]
        directory = Path(tempfile.gettempdir()) / f"hpi-locks-{digest}"
        directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{_safe(name)}.lock"
    lock = FileLock(str(path), timeout=timeout)
    try:
        with lock:
            yield
    except Timeout as exc:
        raise CacheError(
            f"Waited {timeout:.0f} s for the lock {str(path)!r}; another hpi process holds it. "
            "If no other process is running, delete that file."
        ) from exc


# ---------------------------------------------------------------------------------------------- temp entries

@contextlib.contextmanager
def temp_dir(parent: Path, prefix: str) -> Iterator[Path]:
    """A temporary directory in ``parent`` (same file system, so its contents can be renamed into place).

    ``prefix`` starts with a dot. The directory holds a lock on its ``.owner`` file while it exists, so
    another process's sweep (:func:`sweep_stale_temps`) can tell it is in use; it is removed on exit.
    """
    if not prefix.startswith("."):
        raise ValueError(f"temp entry prefixes start with a dot, got {prefix!r}")
    parent.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(dir=parent, prefix=prefix))
    owner = _hold_owner_lock(path / OWNER_FILE)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        if owner is not None:
            os.close(owner)  # after the removal: the directory is never unlocked while it exists


def _hold_owner_lock(path: Path) -> int | None:
    """An fd holding an exclusive lock on ``path``; None where the platform or file system has no flock."""
    try:
        import fcntl
    except ImportError:  # no flock (Windows): such dirs fall under the age rule
        return None
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _owner_alive(path: Path) -> bool | None:
    """True when a process holds the owner lock ``path``, False when none does, None when it cannot be told."""
    try:
        import fcntl
    except ImportError:
        return None
    try:
        fd = os.open(path, os.O_RDONLY)  # flock needs no write access
    except OSError:  # no owner file (an older hpi's temp dir, or one being created right now)
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return None
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def _newest_mtime(path: Path) -> float:
    newest = path.lstat().st_mtime
    if path.is_dir() and not path.is_symlink():
        for directory, dirs, files in os.walk(path):
            for name in (*dirs, *files):
                with contextlib.suppress(OSError):
                    newest = max(newest, os.lstat(os.path.join(directory, name)).st_mtime)
    return newest


def _size(path: Path) -> int:
    if not path.is_dir() or path.is_symlink():
        return path.lstat().st_size
    total = 0
    for directory, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(directory, name)).st_size
    return total


def _is_stale(path: Path, now: float) -> bool:
    age = now - _newest_mtime(path)
    if age < GRACE_S:
        return False
    if path.is_dir() and not path.is_symlink():
        alive = _owner_alive(path / OWNER_FILE)
        if alive is not None:
            return not alive
    return age > STALE_AFTER_S


def _temp_entries(root: Path) -> Iterator[Path]:
    for name in ("", *TEMP_PARENTS):
        directory = root / name if name else root
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            # At the root only the write probe: HPI_HOME may be a directory with other dot files in it.
            if name == "" and not entry.name.startswith(".write-test-"):
                continue
            if _TEMP_NAME.match(entry.name):
                yield Path(entry.path)


def sweep_stale_temps(root: Path | None = None) -> list[str]:
    """Remove the temp entries killed processes left under ``root`` (default ``$HPI_HOME``); one INFO line.

    Returns what was removed, as paths relative to ``root``.
    """
    root = hpi_home() if root is None else Path(root)
    now = time.time()
    removed: list[str] = []
    freed = 0
    for path in _temp_entries(root):
        try:
            if not _is_stale(path, now):
                continue
            size = _size(path)
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError:  # gone meanwhile, or not ours to remove: leave it
            continue
        freed += size
        removed.append(str(path.relative_to(root)))
    if removed:
        log.info("Removed %d temporary entr%s left in %s by interrupted hpi processes (%.1f MB): %s",
                 len(removed), "y" if len(removed) == 1 else "ies", root, freed / 1e6, ", ".join(removed))
    return removed


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


_UMASK_LOCK = threading.Lock()


def plain_file_mode() -> int:
    """The mode a plain ``open(path, "w")`` gives a new file here: 0o666 less the process umask (a temp
    file from mkstemp is 0o600, which would leave results in a shared folder unreadable to others)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _UMASK_LOCK:  # no /proc: read the umask by setting it back (briefly process-wide, hence the lock)
        mask = os.umask(0o022)
        os.umask(mask)
    return 0o666 & ~mask


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all (temp file + rename), with the permissions a plain write gives."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
            os.fchmod(handle.fileno(), plain_file_mode())
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        located = _read_only_home_of(path) if isinstance(exc, OSError) else None
        if located is not None:
            root, problem = located
            raise CacheError(_read_only_message(
                root, problem, f"{os.path.relpath(path, root)} would have to be written there"
            )) from exc
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
