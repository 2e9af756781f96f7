"""Shared result behaviour: JSON rendering, printing, file naming."""

from __future__ import annotations

import errno
import io
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from ..cache import atomic_write_bytes
from ..errors import DiskFullError, OutputError

log = logging.getLogger(__name__)


def to_jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return value


def output_file(path: str | Path, stem: str, suffix: str, ext: str) -> Path:
    """PaddleX's rule: a directory gets ``<stem><suffix><ext>``; a file path with that extension is used as is."""
    path = Path(path)
    try:
        if path.suffix.lower() == ext and not path.is_dir():
            path.parent.mkdir(parents=True, exist_ok=True)
            return path
        if path.exists() and not path.is_dir():
            raise OutputError(
                f"save_path {str(path)!r} is a file; give a directory (results are written as "
                f"<name>{suffix}{ext} inside it) or a path ending in {ext}."
            )
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _output_error(path, exc) from None
    return path / f"{stem}{suffix}{ext}"


def write_atomically(target: Path, data: bytes) -> Path:
    """Write ``data`` to a temp file beside ``target`` and rename it into place: never a partial file."""
    try:
        atomic_write_bytes(target, data)
    except OSError as exc:
        raise _output_error(target, exc) from None
    return target


def _output_error(path: Path, exc: OSError) -> OutputError:
    if exc.errno == errno.ENOSPC:
        return DiskFullError(f"{path}: the disk is full; nothing was written for this result. Free space or "
                             "choose another save_path.")
    return OutputError(f"{path}: cannot be written ({exc.strerror or exc}). Check that save_path is a writable "
                       "directory.")


# Result pictures show the image at most this large on its long side (scaled down first): a 12000×9000
# scan would otherwise need a 24000×9000 canvas (650 MB) for a picture nobody views at 1:1.
MAX_PICTURE_SIDE = 4000


def picture_scale(height: int, width: int) -> float:
    """The factor (≤ 1) that keeps an image within MAX_PICTURE_SIDE in a result picture."""
    return min(1.0, MAX_PICTURE_SIDE / max(height, width, 1))


class ResultBase:
    stem: str = "result"
    ok: bool = True

    @property
    def json(self) -> dict:
        raise NotImplementedError

    def __getitem__(self, key: str):
        """``res["rec_texts"]`` works as on PaddleX's dict results."""
        return self.json["res"][key]

    def keys(self):
        return self.json["res"].keys()

    def texts(self) -> list[str]:
        """The short text form of the result (``hpi --texts_only`` prints it)."""
        return []

    def print(self, indent: int = 4, ensure_ascii: bool = False) -> None:
        """Print ``.json`` (PaddleX's ``res.print()``)."""
        print(json.dumps(to_jsonable(self.json), indent=indent, ensure_ascii=ensure_ascii))

    @property
    def img(self) -> dict:
        """The result's pictures by PaddleX's name (``{"ocr_res_img": PIL.Image}``)."""
        return {}

    def save_to_img(self, save_path: str | Path) -> Path | None:
        """Write ``<stem>_<name>.png`` per picture (PaddleX's names) and return the first one's path.

        Each file is written to a temp file and renamed: a failed write leaves no partial picture.
        """
        written = None
        for name, picture in self.img.items():
            target = output_file(save_path, self.stem, f"_{name}", ".png")
            buffer = io.BytesIO()
            picture.save(buffer, format="PNG")
            write_atomically(target, buffer.getvalue())
            written = written or target
        return written

    def save_to_json(self, save_path: str | Path, indent: int = 4, ensure_ascii: bool = False) -> Path:
        """Write ``<stem>_res.json`` (keys at top level, as PaddleX does) and return its path."""
        target = output_file(save_path, self.stem, "_res", ".json")
        text = json.dumps(to_jsonable(self.json["res"]), indent=indent, ensure_ascii=ensure_ascii)
        return write_atomically(target, text.encode("utf-8"))


class ErrorResult(ResultBase):
    """An input that could not be processed; the batch it was in went on."""

    ok = False

    def __init__(self, input_path: str | None, page_index: int | None, error: Exception, stem: str) -> None:
        self.input_path = input_path
        self.page_index = page_index
        self.error = error
        self.stem = stem

    @property
    def json(self) -> dict:
        return {"res": {"input_path": self.input_path, "page_index": self.page_index, "error": str(self.error)}}

    def save_to_img(self, save_path: str | Path) -> None:
        log.warning("No image written for %s: %s", self.input_path or self.stem, self.error)

    def __repr__(self) -> str:
        return f"<ErrorResult {self.input_path!r} page={self.page_index}: {self.error}>"
