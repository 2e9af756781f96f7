"""The cache under $HPI_HOME: atomic writes, locks, and the ONNX export cache (hit, miss, change, damage)."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from hpi import cache
from hpi.errors import CacheError
from hpi.models import export
from hpi.backends.export_check import prepare_model

CLS = "PP-OCRv2_mobile_textline_ori"


def test_atomic_write_replaces_and_leaves_no_temp_files(tmp_path):
    target = tmp_path / "d" / "x.json"
    cache.atomic_write_json(target, {"a": 1})
    cache.atomic_write_json(target, {"a": 2})
    assert json.loads(target.read_text()) == {"a": 2}
    assert [p.name for p in target.parent.iterdir()] == ["x.json"]


def test_read_json_missing_is_none_and_corrupt_warns(tmp_path, caplog):
    assert cache.read_json(tmp_path / "nope.json") is None
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2")
    assert cache.read_json(bad) is None
    assert "is corrupt" in caplog.text
    bad.write_text("[1, 2]")
    assert cache.read_json(bad) is None


def test_a_held_lock_times_out_with_a_clear_error(tmp_hpi_home):
    from filelock import FileLock

    held = FileLock(str(cache.cache_dir("locks") / "busy.lock"))
    with held:
        with pytest.raises(CacheError, match="another hpi process holds it"):
            with cache.file_lock("busy", timeout=0.2):
                pass


@pytest.fixture
def exported_cls(tmp_hpi_home):
    """The cls model fetched and exported into a private cache."""
    artifacts = prepare_model(CLS)
    assert artifacts.onnx_path.parent.parent == tmp_hpi_home / "onnx"
    return artifacts


def test_export_miss_then_hit(exported_cls, monkeypatch):
    assert exported_cls.export_meta["parity"]["checked"]
    monkeypatch.setattr(export, "_run_paddle2onnx", lambda *a: pytest.fail("a cached export is reused"))
    again = prepare_model(CLS)
    assert again.onnx_path == exported_cls.onnx_path
    assert again.export_meta == exported_cls.export_meta


@pytest.mark.parametrize("damage", ["truncate onnx", "corrupt meta", "delete onnx"])
def test_damaged_export_warns_and_is_exported_again(exported_cls, damage, caplog, monkeypatch):
    onnx_file = exported_cls.onnx_path
    meta_file = onnx_file.parent / "meta.json"
    if damage == "truncate onnx":
        onnx_file.write_bytes(onnx_file.read_bytes()[:4096])
    elif damage == "corrupt meta":
        meta_file.write_text('{"key": ')
    else:
        onnx_file.unlink()
    runs = []
    real = export._run_paddle2onnx
    monkeypatch.setattr(export, "_run_paddle2onnx", lambda *a: (runs.append(a), real(*a)))
    caplog.set_level(logging.INFO, logger="hpi")
    again = prepare_model(CLS)
    assert len(runs) == 1
    assert "Cached ONNX export in" in caplog.text and "exporting again" in caplog.text
    assert again.onnx_path == onnx_file and cache.sha256_file(onnx_file) == again.export_meta["onnx_sha256"]
    assert again.export_meta["parity"]["checked"]
    assert f"Exported {CLS} in" in caplog.text


def test_a_changed_model_gets_a_new_export_never_the_stale_one(exported_cls, tmp_path):
    user_dir = tmp_path / "my_cls"
    user_dir.mkdir()
    model_file, params_file = exported_cls.paddle_files
    shutil.copy(model_file, user_dir / "inference.pdmodel")
    data = bytearray(params_file.read_bytes())
    # The last bytes are the last weight's float32 data: flip its lowest mantissa bit (a real, tiny change).
    data[-4] ^= 0x01
    (user_dir / "inference.pdiparams").write_bytes(bytes(data))
    (user_dir / "inference.yml").write_text(f"Global:\n  model_name: {CLS}\n")
    changed = prepare_model(user_dir)
    assert changed.content_hash != exported_cls.content_hash
    assert changed.onnx_path != exported_cls.onnx_path
    assert changed.export_meta["key"] != exported_cls.export_meta["key"]
    assert changed.export_meta["onnx_sha256"] != exported_cls.export_meta["onnx_sha256"]
    # The original's entry is untouched.
    assert cache.sha256_file(exported_cls.onnx_path) == exported_cls.export_meta["onnx_sha256"]
    assert len([p for p in (Path(exported_cls.onnx_path).parent.parent).iterdir() if not p.name.startswith(".")]) == 2
