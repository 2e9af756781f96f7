"""PaddleX's model list, as recorded from PaddleX itself (``paddlex_models.json``).

``benchmarks/record_paddlex_models.py`` writes the file from an installed
PaddleX (its ``ALL_MODELS``, the module whose model list names each model,
the models its Hugging Face host carries and the BOS archives that are not
``<name>_infer.tar``); hpi only reads it. The model → module map is what tells
a model's task from its name (``PP-ShiTuV2_det`` is PaddleX's
``mainbody_detection``, not text detection).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

CATALOG_FILE = Path(__file__).with_name("paddlex_models.json")


@functools.lru_cache(maxsize=1)
def _data() -> dict:
    return json.loads(CATALOG_FILE.read_text(encoding="utf-8"))


def paddlex_version() -> str:
    """The PaddleX version the list was recorded from."""
    return str(_data()["paddlex_version"])


def paddlex_models() -> dict[str, str | None]:
    """Every official PaddleX model name → its PaddleX module (``text_detection``, ``object_detection``, …)."""
    return dict(_data()["models"])


def paddlex_module(name: str) -> str | None:
    """The PaddleX module of model ``name`` (None when PaddleX does not list it)."""
    return _data()["models"].get(name)


def huggingface_models() -> frozenset[str]:
    """The models PaddleX fetches from Hugging Face (``PaddlePaddle/<name>``)."""
    return frozenset(_data()["huggingface_models"])


def bos_file_names() -> dict[str, str]:
    """Models whose BOS archive is not ``<name>_infer.tar`` → their file name."""
    special = ((_data().get("hosts") or {}).get("bos") or {}).get("special") or {}
    return {name: url.rsplit("/", 1)[-1] for name, url in special.items()}


__all__ = ["CATALOG_FILE", "bos_file_names", "huggingface_models", "paddlex_models", "paddlex_module",
           "paddlex_version"]
