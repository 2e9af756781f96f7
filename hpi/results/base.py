"""Shared result behaviour: JSON rendering, printing, file naming."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

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
    """PaddleX's rule: a directory gets ``<stem><suffix><ext>``; a file path is used as is."""
    path = Path(path)
    if path.suffix.lower() == ext and not path.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
        return path
    path.mkdir(parents=True, exist_ok=True)
    return path / f"{stem}{suffix}{ext}"


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
        """Write ``<stem>_<name>.png`` per picture (PaddleX's names) and return the first one's path."""
        written = None
        for name, picture in self.img.items():
            target = output_file(save_path, self.stem, f"_{name}", ".png")
            picture.save(target)
            written = written or target
        return written

    def save_to_json(self, save_path: str | Path, indent: int = 4, ensure_ascii: bool = False) -> Path:
        """Write ``<stem>_res.json`` (keys at top level, as PaddleX does) and return its path."""
        target = output_file(save_path, self.stem, "_res", ".json")
        target.write_text(json.dumps(to_jsonable(self.json["res"]), indent=indent, ensure_ascii=ensure_ascii), encoding="utf-8")
        return target


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
