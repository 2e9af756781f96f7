"""Paddle → ONNX export with paddle2onnx, verified and cached.

The cache key is the content hash of the Paddle files plus the converter's
version and the opset, so a changed model or converter never reuses a stale
export. paddle2onnx runs in a subprocess with its own temp dir and
``--optimize_tool None`` (the default optimiser pip-installs packages while
converting). Its exit code proves nothing: the result is loaded and run by
the ``check`` the caller passes — the backends layer's
:func:`hpi.backends.export_check.check_export` (ONNX Runtime vs Paddle
Inference) — whose record is stored in the entry's meta.json. This layer
runs no model itself. From a read-only ``$HPI_HOME`` a cached export is used
as it is; a missing one is a :class:`~hpi.errors.CacheError` naming it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

from .. import _deps
from .._deps import INSTALL_CPU
from ..cache import atomic_write_json, cache_dir, file_lock, replace_dir, require_writable, sha256_file, temp_dir
from ..errors import ExportError
from .artifacts import ModelArtifacts
from .onnx_repair import REPAIRS_VERSION, repair_exported

log = logging.getLogger(__name__)

OPSET = 14
SUPPORTED_PADDLE2ONNX = ("2.0.1", "2.0.2")

# The version of hpi's export check: a failure recorded by an older check is tried again (version 2: models
# whose first input is not the image, such as PaddleX's RCNN and Mask-RT-DETR exports, are fed correctly; 3: a
# layout model is probed at its own inference.yml size, detectors' rows compared in any order among ties).
CHECK_VERSION = 3

ExportCheck = Callable[[ModelArtifacts], dict]
"""Runs a fresh export (``onnx_path`` set) against the original; returns the parity record, raises ExportError."""

def _converter_version() -> str:
    version = _deps.version_of("paddle2onnx")
    if version is None:
        _deps._import("paddle2onnx")  # raises the install hint
    return str(version)


def export_key(content_hash: str, converter_version: str, opset: int = OPSET) -> str:
    return hashlib.sha256(
        f"{content_hash}|paddle2onnx={converter_version}|opset={opset}|repairs={REPAIRS_VERSION}".encode()
    ).hexdigest()


def export_onnx(artifacts: ModelArtifacts, check: ExportCheck | None = None) -> ModelArtifacts:
    """Artifacts with ``onnx_path`` set to a verified export of ``artifacts.paddle_files``.

    ``check`` verifies a fresh export (see :data:`ExportCheck`); a cached
    entry was verified when it was written. Use
    :func:`hpi.backends.export_check.export_checked`, which passes the
    backends' check.
    """
    if artifacts.paddle_files is None:
        raise ExportError(f"{artifacts.name} has no Paddle files to export.")
    version = _converter_version()
    key = export_key(artifacts.content_hash, version)
    directory = cache_dir("onnx") / f"{_slug(artifacts.name)}-{key[:16]}"
    failed = directory.with_name(f"{directory.name}.failed.json")
    meta = _valid_entry(directory, key, warn=False)
    if meta is None:
        _raise_recorded_failure(failed, key)
        require_writable(
            f"no usable ONNX export of {artifacts.name} is there (onnx/{directory.name}), so it must be exported"
        )
        with file_lock(f"export-{key[:16]}"):
            meta = _valid_entry(directory, key, warn=True)  # another process may have exported it
            if meta is None:
                _raise_recorded_failure(failed, key)
                try:
                    meta = _export_into(artifacts, directory, key, version, check)
                except ExportError as exc:
                    # The same model, converter and opset fail the same way: remembered, not retried.
                    atomic_write_json(failed, {"key": key, "model": artifacts.name, "paddle2onnx": version,
                                               "check_version": CHECK_VERSION, "reason": str(exc)})
                    raise
    else:
        log.debug("Using cached ONNX export of %s (%s)", artifacts.name, directory)
    return ModelArtifacts(
        name=artifacts.name,
        content_hash=artifacts.content_hash,
        spec=artifacts.spec,
        onnx_path=directory / "model.onnx",
        paddle_files=artifacts.paddle_files,
        extra_files=artifacts.extra_files,
        export_meta=meta,
    )


def _raise_recorded_failure(path: Path, key: str) -> None:
    """The :class:`ExportError` of an earlier export of the same key, if one failed."""
    record = _read_meta(path) if path.exists() else None
    if record and record.get("key") == key and record.get("check_version", 1) >= CHECK_VERSION:
        raise ExportError(f"{record.get('reason', 'the export failed')} (remembered from an earlier try: {path}; "
                          "delete it to try again)")


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def _valid_entry(directory: Path, key: str, warn: bool = True) -> dict | None:
    """The entry's meta.json when model.onnx is intact; None (with a warning if ``warn``) otherwise."""
    if not directory.exists():
        return None
    meta = _read_meta(directory / "meta.json")
    onnx_file = directory / "model.onnx"
    problem = ""
    if meta is None or meta.get("key") != key:
        problem = "its meta.json is missing or corrupt"
    elif not onnx_file.is_file():
        problem = "model.onnx is missing"
    elif onnx_file.stat().st_size != meta.get("onnx_size") or sha256_file(onnx_file) != meta.get("onnx_sha256"):
        problem = "model.onnx does not match its recorded size/sha256 (truncated or corrupt)"
    if problem:
        if warn:
            log.warning("Cached ONNX export in %s is unusable (%s); exporting again.", directory, problem)
        return None
    return meta


def _read_meta(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _run_paddle2onnx(model_file: Path, params_file: Path, out_file: Path, workdir: Path) -> None:
    # paddle2onnx runs in its own work directory: a model given by a relative path must not be read from there.
    model_file, params_file = Path(model_file).resolve(), Path(params_file).resolve()
    cmd = [
        sys.executable, "-c", "import sys; from paddle2onnx.command import main; sys.exit(main())",
        "--model_dir", str(model_file.parent),
        "--model_filename", model_file.name,
        "--params_filename", params_file.name,
        "--save_file", str(out_file),
        "--opset_version", str(OPSET),
        "--optimize_tool", "None",
        "--enable_onnx_checker", "True",
    ]
    env = dict(os.environ, TMPDIR=str(workdir), TEMP=str(workdir), TMP=str(workdir), GLOG_minloglevel="2")
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=workdir, env=env, timeout=900)
    if proc.returncode != 0 or not out_file.is_file():
        tail = "\n".join((proc.stderr + proc.stdout).strip().splitlines()[-8:])
        raise ExportError(
            f"paddle2onnx failed to export {model_file} (exit {proc.returncode}):\n{tail}\n"
            f"hpi is tested with paddle2onnx {' / '.join(SUPPORTED_PADDLE2ONNX)} and paddlepaddle 3.2.2; "
            f"{INSTALL_CPU} installs those."
        )


def _export_into(artifacts: ModelArtifacts, directory: Path, key: str, version: str, check: bool) -> dict:
    if version not in SUPPORTED_PADDLE2ONNX:
        log.warning(
            "paddle2onnx %s is untested (2.1.0 writes rec/cls graphs ONNX Runtime rejects); "
            "hpi pins 2.0.1. The export is verified below either way.",
            version,
        )
    started = time.perf_counter()
    log.debug("Exporting %s to ONNX with paddle2onnx %s (once; cached)", artifacts.name, version)
    model_file, params_file = artifacts.paddle_files
    parent = directory.parent
    with temp_dir(parent, f".{directory.name}.") as tmp_path:
        staging = tmp_path / "entry"
        staging.mkdir()
        work = tmp_path / "work"
        work.mkdir()
        out_file = staging / "model.onnx"
        _run_paddle2onnx(model_file, params_file, out_file, work)
        shutil.rmtree(work, ignore_errors=True)
        # Valid ONNX that ONNX Runtime will not run (SLANet-plus's boolean Where): repaired, then checked.
        try:
            repairs = repair_exported(out_file)
        except Exception as exc:  # exit 0 proves nothing: a file that is not ONNX at all
            raise ExportError(f"paddle2onnx wrote a file for {artifacts.name} that ONNX Runtime cannot run: it "
                              f"is not a readable ONNX model ({type(exc).__name__}: {exc}).") from None
        candidate = ModelArtifacts(
            name=artifacts.name, content_hash=artifacts.content_hash, spec=artifacts.spec,
            onnx_path=out_file, paddle_files=artifacts.paddle_files,
        )
        parity = _verify(candidate, check)
        meta = {
            "key": key,
            "model": artifacts.name,
            "source_content_hash": artifacts.content_hash,
            "paddle2onnx": version,
            "paddlepaddle": _deps.version_of("paddle"),
            "onnxruntime": _deps.version_of("onnxruntime"),
            "opset": OPSET,
            "onnx_size": out_file.stat().st_size,
            "onnx_sha256": sha256_file(out_file),
            "parity": parity,
            "repairs": repairs,
            "export_seconds": round(time.perf_counter() - started, 3),
        }
        atomic_write_json(staging / "meta.json", meta)
        replace_dir(staging, directory)
    repaired = ", ".join(f"{n} {kind} node(s) repaired" for kind, n in repairs.items() if n)
    log.info(
        "Exported %s in %.1f s%s; ONNX Runtime vs Paddle Inference: %s",
        artifacts.name, meta["export_seconds"], f" ({repaired})" if repaired else "",
        parity.get("summary", "not checked"),
    )
    return meta


def _verify(candidate: ModelArtifacts, check: ExportCheck | None) -> dict:
    if check is None:
        raise ExportError(
            f"Exporting {candidate.name} needs a check that runs the export against Paddle Inference, and none "
            "was given: use hpi.backends.export_check.export_checked / prepare_model."
        )
    return check(candidate)
