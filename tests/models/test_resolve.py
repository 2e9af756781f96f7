"""Resolving what the user names: a registry name, a PaddleX model directory, a plain .onnx file."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from hpi.backends.onnxruntime import OnnxRuntimeRunner
from hpi.errors import ModelError
from hpi.models import export
from hpi.models.probe_inputs import probe_input
from hpi.models.registry import get_model_spec
from hpi.backends.export_check import prepare_model


def test_registry_name_has_both_formats(det_model):
    assert det_model.spec is get_model_spec("PP-OCRv4_mobile_det")
    assert det_model.paddle_files and all(p.is_file() for p in det_model.paddle_files)
    assert det_model.onnx_path.is_file()
    assert len(det_model.content_hash) == 64


def test_rec_carries_its_dictionary(rec_model):
    lines = rec_model.extra_files["dict"].read_text(encoding="utf-8").splitlines()
    assert len(lines) == 6623


def test_paddlex_model_dir(det_model, tmp_path, monkeypatch):
    """A PaddleX-style directory (inference.pdmodel/.pdiparams + inference.yml) resolves to the same model."""
    user_dir = tmp_path / "PP-OCRv4_mobile_det_infer"
    user_dir.mkdir()
    shutil.copy(det_model.paddle_files[0], user_dir / "inference.pdmodel")
    shutil.copy(det_model.paddle_files[1], user_dir / "inference.pdiparams")
    (user_dir / "inference.yml").write_text(
        "Global:\n  model_name: PP-OCRv4_mobile_det\n"
        "PreProcess:\n  transform_ops:\n  - DetResizeForTest: {resize_long: 960}\n"
    )
    # Same content, same converter: the export cache is shared, nothing is converted again.
    monkeypatch.setattr(export, "_run_paddle2onnx", lambda *a: pytest.fail("same content reuses the export"))
    artifacts = prepare_model(user_dir)
    assert artifacts.name == "PP-OCRv4_mobile_det"
    assert artifacts.spec is det_model.spec
    assert artifacts.content_hash == det_model.content_hash
    assert artifacts.paddle_files == (user_dir / "inference.pdmodel", user_dir / "inference.pdiparams")
    assert artifacts.onnx_path == det_model.onnx_path

    paddle_only = prepare_model(user_dir, need_onnx=False)
    assert paddle_only.onnx_path is None and paddle_only.paddle_files == artifacts.paddle_files


def test_paddlex_dir_without_yml_uses_the_default_spec(cls_model, tmp_path):
    user_dir = tmp_path / "my_cls"
    user_dir.mkdir()
    shutil.copy(cls_model.paddle_files[0], user_dir / "inference.pdmodel")
    shutil.copy(cls_model.paddle_files[1], user_dir / "inference.pdiparams")
    shutil.copy(cls_model.onnx_path, user_dir / "inference.onnx")
    artifacts = prepare_model(user_dir, default_spec=cls_model.spec)
    assert artifacts.name == "my_cls" and artifacts.spec is cls_model.spec
    assert artifacts.onnx_path == user_dir / "inference.onnx"  # a shipped ONNX is used as is


def test_plain_onnx_file_runs_like_the_registry_model(cls_model, tmp_path):
    onnx_file = tmp_path / "textline_ori.onnx"
    shutil.copy(cls_model.onnx_path, onnx_file)
    artifacts = prepare_model(onnx_file, default_spec=cls_model.spec)
    assert artifacts.onnx_path == onnx_file and artifacts.paddle_files is None
    assert artifacts.name == "textline_ori" and artifacts.spec is cls_model.spec
    assert artifacts.content_hash != cls_model.content_hash  # keyed by the ONNX bytes
    x = probe_input(cls_model.spec, (2, 3, 48, 192))
    with OnnxRuntimeRunner(artifacts, threads=1) as mine, OnnxRuntimeRunner(cls_model, threads=1) as registry:
        np.testing.assert_array_equal(mine.infer_one(x), registry.infer_one(x))
    assert prepare_model(str(onnx_file)).spec is None


def test_bad_references_are_clear_errors(tmp_path):
    with pytest.raises(ModelError, match="neither a known model name nor an existing path"):
        prepare_model("PP-OCRv9_det")
    not_onnx = tmp_path / "weights.bin"
    not_onnx.write_bytes(b"\0")
    with pytest.raises(ModelError, match="not an .onnx model"):
        prepare_model(not_onnx)
    empty = tmp_path / "empty_dir"
    empty.mkdir()
    (empty / "readme.txt").write_text("")
    with pytest.raises(ModelError, match=r"not a model directory.*readme.txt"):
        prepare_model(empty)


def test_unknown_paddle_model_is_exported_and_checked_on_its_own_shapes(cls_model, tmp_hpi_home, tmp_path):
    """No inference.yml and no default spec: the parity check uses the model's own input dims."""
    user_dir = tmp_path / "mystery_model"
    user_dir.mkdir()
    shutil.copy(cls_model.paddle_files[0], user_dir / "inference.pdmodel")
    shutil.copy(cls_model.paddle_files[1], user_dir / "inference.pdiparams")
    artifacts = prepare_model(user_dir)
    assert artifacts.spec is None and artifacts.name == "mystery_model"
    parity = artifacts.export_meta["parity"]
    # The exported graph keeps H and W dynamic: batch 1, its 3 channels, 64 for the dynamic dims.
    assert parity["checked"] and [r["shape"] for r in parity["results"]] == [[1, 3, 64, 64]]
    assert all(r["ok"] for r in parity["results"])
