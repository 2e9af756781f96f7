"""PaddleX's model store: a PaddleX model name → a model directory on disk, found or fetched.

The places, in order (each decision one INFO line):

1. PaddleX's own cache, ``$PADDLE_PDX_CACHE_HOME/official_models/<name>``
   (default ``~/.paddlex/official_models/<name>``): a PaddleX user's models
   are used where they already are, never copied.
2. hpi's cache of fetched models, ``$HPI_HOME/official_models/<name>``.
3. Remote, unless ``HPI_MODEL_SOURCE=none`` (offline):

   - ``HPI_MODEL_MIRROR=<base URL>``: ``<base>/<name>_infer.tar`` (PaddleX's
     tarball layout), and nothing else is contacted;
   - otherwise PaddleX 3.7.2's hosts in its order: Hugging Face
     (``PaddlePaddle/<name>``, the OCR models PaddleX lists for it; endpoint
     ``PADDLE_PDX_HUGGING_FACE_ENDPOINT``), then PaddleX's BOS tarballs
     (``…/official_inference_model/paddle3.0.0/<name>_infer.tar``).
     ``PADDLE_PDX_MODEL_SOURCE`` puts one first, as in PaddleX. AI Studio and
     ModelScope speak their own SDKs' protocols, which hpi does not; they are
     named in the log and skipped.

A fetch is downloaded and unpacked in a temp directory beside the cache
entry (:mod:`.download`: timeout, retries, size cap, progress;
:mod:`.archive`: members that could write outside refused), checked to be a
model directory of the model asked for, and renamed into place under a file
lock: two processes fetching one model both succeed, with one download.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..cache import atomic_write_json, cache_dir, file_lock, read_json, replace_dir, require_writable, temp_dir
from ..errors import ConfigError, ModelError, ModelUnavailableError
from . import catalog, inference_yml
from .archive import extract_tar
from .download import DownloadError, download, limits

log = logging.getLogger(__name__)

SOURCE_ENV = "HPI_MODEL_SOURCE"
MIRROR_ENV = "HPI_MODEL_MIRROR"
PADDLEX_SOURCE_ENV = "PADDLE_PDX_MODEL_SOURCE"
PADDLEX_CACHE_ENV = "PADDLE_PDX_CACHE_HOME"
HF_ENDPOINT_ENV = "PADDLE_PDX_HUGGING_FACE_ENDPOINT"

BOS_BASE_URL = "https://paddle-model-ecology.bj.bcebos.com/paddlex/official_inference_model/paddle3.0.0"
HF_DEFAULT_ENDPOINT = "https://huggingface.co"
# PaddleX 3.7.2's host order (official_models._ModelManager.hoster_candidates).
PADDLEX_HOSTS = ("huggingface", "aistudio", "modelscope", "bos")
_UNSPOKEN = {"aistudio": "AI Studio", "modelscope": "ModelScope"}

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$")
_PADDLE_GRAPHS = ("inference.json", "inference.pdmodel")


def check_model_name(name: str) -> str:
    """``name`` if it can be a PaddleX model name (it becomes a directory and a URL): letters, digits, ``._+-``."""
    if not is_model_name(name):
        raise ConfigError(f"{name!r} is not a PaddleX model name (letters, digits and . _ + - only, e.g. "
                          "'PP-OCRv5_server_det'); to use files on disk, give model_dir.")
    return name


def is_model_name(text: str) -> bool:
    """Whether ``text`` can be a PaddleX model name (and not a path)."""
    return isinstance(text, str) and bool(_NAME.match(text)) and ".." not in text


def model_dir_problem(path: Path) -> str | None:
    """Why ``path`` is not a PaddleX model directory (None when it is one)."""
    if not path.is_dir():
        return "not a directory"
    if not (path / "inference.yml").is_file():
        return "no inference.yml"
    has_paddle = any((path / f).is_file() for f in _PADDLE_GRAPHS) and (path / "inference.pdiparams").is_file()
    if not has_paddle and not any(path.glob("*.onnx")):
        return "no inference.json / inference.pdmodel + inference.pdiparams, and no .onnx file"
    return None


# --------------------------------------------------------------------------------------------- local places

def paddlex_cache_root() -> Path:
    return Path(os.environ.get(PADDLEX_CACHE_ENV) or Path.home() / ".paddlex").expanduser() / "official_models"


def hpi_store_root() -> Path:
    return cache_dir("official_models")


def _hpi_entry_ok(directory: Path) -> bool:
    meta = read_json(directory / "source.json", warn=False)
    if not meta or model_dir_problem(directory) is not None:
        return False
    for relative, size in (meta.get("files") or {}).items():
        path = directory / relative
        if not path.is_file() or path.stat().st_size != size:
            return False
    return True


@dataclass(frozen=True)
class Place:
    """One place a model was looked for: what it is, and what was found there."""

    where: str
    outcome: str


def find_local(name: str, tried: list[Place] | None = None) -> tuple[Path, str] | None:
    """(directory, which cache) of a model already on disk, else None; what was seen goes into ``tried``
    (and a PaddleX cache entry that is not a model directory into the log, when ``tried`` is given)."""
    warn = tried is not None
    tried = tried if tried is not None else []
    candidate = paddlex_cache_root() / name
    problem = model_dir_problem(candidate)
    if problem is None:
        return candidate, "PaddleX's cache"
    tried.append(Place(f"PaddleX's cache: {candidate}", "missing" if problem == "not a directory" else problem))
    if problem != "not a directory" and warn:
        log.warning("PaddleX's cache has %s, but it is not a model directory (%s); looking elsewhere.", candidate,
                    problem)
    candidate = hpi_store_root() / name
    if _hpi_entry_ok(candidate):
        return candidate, "hpi's cache"
    tried.append(Place(f"hpi's cache: {candidate}", "incomplete" if candidate.exists() else "missing"))
    return None


# --------------------------------------------------------------------------------------------- remote places

@dataclass(frozen=True)
class Remote:
    """A place to fetch from: a label for messages, and the function that fills a directory."""

    label: str
    fetch: Callable[[str, Path], None]  # (model name, empty directory) → the model's files in it


def _tarball(url_of: Callable[[str], str]) -> Callable[[str, Path], None]:
    def fetch(name: str, directory: Path) -> None:
        url = url_of(name)
        archive = directory.parent / "archive.tar"
        download(url, archive, name)
        unpacked = directory.parent / "unpacked"
        unpacked.mkdir()
        extract_tar(archive, unpacked, limits()[1], label=url.rsplit("/", 1)[-1])
        archive.unlink()
        _model_root(unpacked, name, url).rename(directory)

    return fetch


def _model_root(unpacked: Path, name: str, url: str) -> Path:
    """The folder of an unpacked archive that is the model: its one top folder (PaddleX's rule), or the
    folder named after the model, or the archive's top level itself."""
    entries = [p for p in unpacked.iterdir()]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    if (unpacked / name).is_dir():
        return unpacked / name
    if entries:
        return unpacked
    raise ModelError(f"{url}: the archive is empty.")


def _bos_url(name: str) -> str:
    special = catalog.bos_file_names().get(name)
    return f"{BOS_BASE_URL}/{special or f'{name}_infer.tar'}"


def _fetch_huggingface(name: str, directory: Path) -> None:
    """A Hugging Face model repository's files (``PaddlePaddle/<name>``, branch main), as PaddleX's
    ``snapshot_download`` gets them, through the Hub's plain HTTP API."""
    import urllib.parse

    endpoint = _hf_endpoint()
    repo = f"PaddlePaddle/{name}"
    listing = directory.parent / "listing.json"
    download(f"{endpoint}/api/models/{repo}/revision/main", listing, f"{name} (file list)")
    try:
        siblings = json.loads(listing.read_text(encoding="utf-8")).get("siblings") or []
        files = [s["rfilename"] for s in siblings if isinstance(s, dict) and isinstance(s.get("rfilename"), str)]
    except (ValueError, AttributeError) as exc:
        raise ModelError(f"{endpoint}: the file list of {repo} is not the Hub's JSON ({exc}).") from None
    _, max_bytes, _ = limits()
    total = 0
    directory.mkdir()
    for relative in files:
        parts = Path(relative).parts
        if relative.startswith("/") or ".." in parts or not parts:
            raise ModelError(f"{endpoint}: {repo} lists the file {relative!r}, which points outside the model "
                             "directory; refused.")
        if parts[0].startswith("."):  # .gitattributes and the like: not part of the model
            continue
        target = directory.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        url = f"{endpoint}/{repo}/resolve/main/{urllib.parse.quote(relative)}"
        total += download(url, target, f"{name}/{relative}")
        if total > max_bytes:
            raise ModelError(f"{endpoint}: {repo} is more than {max_bytes:,} bytes (HPI_MODEL_MAX_BYTES).")


def _hf_endpoint() -> str:
    return (os.environ.get(HF_ENDPOINT_ENV) or HF_DEFAULT_ENDPOINT).rstrip("/")


def is_offline() -> bool:
    """Whether ``HPI_MODEL_SOURCE`` says offline (``none``): only models on disk are used."""
    return (os.environ.get(SOURCE_ENV) or "").strip().lower() in ("none", "offline", "local")


def remote_sources(name: str) -> list[Remote]:
    """Where ``name`` would be fetched from, in order (empty when offline)."""
    if is_offline():
        return []
    setting = (os.environ.get(SOURCE_ENV) or "").strip().lower()
    if setting not in ("", "auto", "paddlex"):
        raise ConfigError(f"Environment variable {SOURCE_ENV} is {setting!r}; use 'none' (offline: only models "
                          f"on disk) or leave it unset (PaddleX's hosts, or {MIRROR_ENV}).")
    mirror = (os.environ.get(MIRROR_ENV) or "").strip().rstrip("/")
    if mirror:
        if not re.match(r"^https?://", mirror, re.IGNORECASE):
            raise ConfigError(f"{MIRROR_ENV} is {mirror!r}; it must be an http(s) URL (the base of <name>_infer.tar).")
        return [Remote(f"mirror {mirror}/{name}_infer.tar", _tarball(lambda n: f"{mirror}/{n}_infer.tar"))]
    first = (os.environ.get(PADDLEX_SOURCE_ENV) or "huggingface").strip().lower()
    order = sorted(PADDLEX_HOSTS, key=lambda host: host != first)  # stable: PaddleX's order after the first
    if first in _UNSPOKEN:
        log.info("%s=%s: hpi does not speak %s's download protocol; it tries PaddleX's other hosts.",
                 PADDLEX_SOURCE_ENV, first, _UNSPOKEN[first])
    sources = []
    for host in order:
        if host == "huggingface" and name in catalog.huggingface_models():
            sources.append(Remote(f"Hugging Face {_hf_endpoint()}/PaddlePaddle/{name}", _fetch_huggingface))
        elif host == "bos" and name in catalog.paddlex_models():
            sources.append(Remote(f"PaddleX's BOS {_bos_url(name)}", _tarball(_bos_url)))
    return sources


def _install(name: str, remote: Remote) -> Path:
    """Fetch ``name`` from ``remote`` into hpi's cache (atomically: a temp directory renamed into place)."""
    root = hpi_store_root()
    final = root / name
    with temp_dir(root, f".{name}.") as tmp:
        staging = tmp / "model"
        remote.fetch(name, staging)
        problem = model_dir_problem(staging)
        if problem is not None:
            raise ModelError(f"what {remote.label} sent is not a PaddleX model directory ({problem})")
        named = inference_yml.model_name(staging / "inference.yml")
        if named is not None and named != name:
            raise ModelError(f"what {remote.label} sent is the model {named!r}, not {name!r}; refused (hpi never "
                             "runs another model in place of the one asked for)")
        files = {str(p.relative_to(staging)): p.stat().st_size for p in sorted(staging.rglob("*")) if p.is_file()}
        atomic_write_json(staging / "source.json", {"model": name, "source": remote.label, "files": files})
        replace_dir(staging, final)
    log.info("Model %s: fetched from %s into %s", name, remote.label, final)
    return final


def official_model_dir(name: str) -> Path:
    """The model directory of PaddleX model ``name``: found on disk, else fetched (see the module doc).

    Raises :class:`ModelError` naming every place tried and how to place the directory by hand.
    """
    check_model_name(name)
    tried: list[Place] = []
    found = find_local(name, tried)
    if found is not None:
        return _found(name, found)
    remotes = remote_sources(name)
    if remotes:
        require_writable(f"model {name} is not on disk, so it must be fetched into official_models/")
        with file_lock(f"official-model-{name}"):
            found = find_local(name)  # another process may have fetched it meanwhile
            if found is not None:
                return _found(name, found)
            for remote in remotes:
                try:
                    return _install(name, remote)
                except ModelError as exc:
                    outcome = str(exc)
                    if isinstance(exc, DownloadError) and "HTTP 404" in outcome:
                        outcome = "not there (HTTP 404)"
                    tried.append(Place(remote.label, outcome))
                    log.warning("Model %s: could not fetch from %s: %s", name, remote.label, outcome)
    raise ModelUnavailableError(_not_found_message(name, tried, offline=not remotes))


def _found(name: str, found: tuple[Path, str]) -> Path:
    log.info("Model %s: from %s (%s)", name, found[1], found[0])
    return found[0]


def _not_found_message(name: str, tried: list[Place], offline: bool) -> str:
    lines = [f"Model {name!r} could not be found or fetched. Tried:"]
    lines += [f"  - {place.where}: {place.outcome}" for place in tried]
    if offline:
        why = (f"{SOURCE_ENV}=none (offline)" if is_offline()
               else f"{name!r} is not one of PaddleX's official models, so no host has it")
        lines.append(f"  - no remote source: {why}")
    known = catalog.paddlex_models()
    hint = ""
    if name not in known:
        from ..errors import did_you_mean

        hint = did_you_mean(name, known)
        if hint:
            lines[0] = f"Model {name!r}{hint} could not be found or fetched. Tried:"
    lines.append(
        f"To place it by hand, put PaddleX's model directory (inference.yml with inference.json or "
        f"inference.pdmodel + inference.pdiparams) at {paddlex_cache_root() / name}, or give its path as "
        f"model_dir; a company mirror of PaddleX's tarballs is named by {MIRROR_ENV}=<base URL>."
    )
    return "\n".join(lines)


__all__ = [
    "BOS_BASE_URL", "MIRROR_ENV", "PADDLEX_CACHE_ENV", "PADDLEX_SOURCE_ENV", "SOURCE_ENV", "check_model_name",
    "find_local", "is_model_name", "is_offline", "model_dir_problem", "official_model_dir", "paddlex_cache_root", "remote_sources",
]
