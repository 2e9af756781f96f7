"""PaddleX's model store: PaddleX's cache, hpi's cache, a mirror / PaddleX's hosts on 127.0.0.1, offline.

Every server here is a test server on 127.0.0.1 (tests/model_hosting.py); the archives hold stand-ins
(PP-OCRv6_small files under other PaddleX names) that exercise the mechanism, not those models.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from model_hosting import ModelHost, add_bytes, add_symlink, cut, slow, stand_in_dir, tarball

from hpi.errors import ConfigError, ModelError
from hpi.models import store

NAME = "PP-OCRv6_medium_det"
TAR_PATH = f"/{NAME}_infer.tar"


@pytest.fixture
def remote_env(tmp_hpi_home, tmp_path, monkeypatch):
    """Remote fetching allowed, an empty PaddleX cache, quick time-outs; public hosts pointed at nothing."""
    monkeypatch.delenv("HPI_MODEL_SOURCE", raising=False)
    monkeypatch.setenv("PADDLE_PDX_CACHE_HOME", str(tmp_path / "paddlex-home"))
    monkeypatch.setenv("HPI_MODEL_TIMEOUT_S", "2")
    monkeypatch.setenv("HPI_MODEL_RETRIES", "0")
    # Were the mirror ever unset by mistake, nothing public is reachable from here anyway; make sure of it.
    monkeypatch.setattr(store, "BOS_BASE_URL", "http://127.0.0.1:9/unused")
    monkeypatch.setenv("PADDLE_PDX_HUGGING_FACE_ENDPOINT", "http://127.0.0.1:9")
    return tmp_hpi_home


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory):
    return stand_in_dir(tmp_path_factory.mktemp("stand-in") / NAME, NAME)


def test_fetch_from_a_mirror_then_the_cache(remote_env, stand_in, monkeypatch, caplog):
    with ModelHost() as host:
        host.routes[TAR_PATH] = tarball(stand_in, f"{NAME}_infer")
        monkeypatch.setenv("HPI_MODEL_MIRROR", host.url + "/")
        with caplog.at_level("INFO", logger="hpi"):
            directory = store.official_model_dir(NAME)
        assert directory == remote_env / "official_models" / NAME
        assert (directory / "inference.onnx").read_bytes() == (stand_in / "inference.onnx").read_bytes()
        assert store.model_dir_problem(directory) is None
        assert any(f"fetched from mirror {host.url}" in r.getMessage() for r in caplog.records)
        assert host.requests == [TAR_PATH]
        # Cached: nothing asked again, one INFO line says where it came from.
        caplog.clear()
        with caplog.at_level("INFO", logger="hpi"):
            assert store.official_model_dir(NAME) == directory
        assert host.requests == [TAR_PATH]
        assert [r.getMessage() for r in caplog.records if "from hpi's cache" in r.getMessage()]


def test_paddlex_cache_is_used_where_it_is(remote_env, stand_in, tmp_path, monkeypatch):
    paddlex_home = tmp_path / "paddlex-home"
    stand_in_dir(paddlex_home / "official_models" / NAME, NAME)
    with ModelHost() as host:
        monkeypatch.setenv("HPI_MODEL_MIRROR", host.url)
        assert store.official_model_dir(NAME) == paddlex_home / "official_models" / NAME
        assert host.requests == []  # nothing downloaded
    assert not (remote_env / "official_models" / NAME).exists()  # and nothing copied


def test_an_incomplete_paddlex_cache_entry_is_skipped(remote_env, stand_in, tmp_path, monkeypatch):
    broken = tmp_path / "paddlex-home" / "official_models" / NAME
    broken.mkdir(parents=True)
    (broken / "inference.yml").write_text("Global: {model_name: PP-OCRv6_medium_det}\n")
    monkeypatch.setenv("HPI_MODEL_SOURCE", "none")
    with pytest.raises(ModelError) as info:
        store.official_model_dir(NAME)
    assert "no inference.json" in str(info.value) and str(broken) in str(info.value)


def test_offline_names_every_place_and_the_way_out(remote_env, monkeypatch):
    monkeypatch.setenv("HPI_MODEL_SOURCE", "none")
    with pytest.raises(ModelError) as info:
        store.official_model_dir(NAME)
    message = str(info.value)
    assert f"official_models/{NAME}: missing" in message and "offline" in message
    assert "model_dir" in message and "HPI_MODEL_MIRROR" in message


def test_http_errors_and_truncation_install_nothing(remote_env, stand_in, monkeypatch):
    body = tarball(stand_in, f"{NAME}_infer")
    with ModelHost() as host:
        monkeypatch.setenv("HPI_MODEL_MIRROR", host.url)
        with pytest.raises(ModelError, match=r"(?s)mirror .*: not there \(HTTP 404\)"):
            store.official_model_dir(NAME)
        host.routes[TAR_PATH] = body[: len(body) // 2]  # a cut archive, served whole
        with pytest.raises(ModelError, match="not a complete tar archive"):
            store.official_model_dir(NAME)
        host.routes[TAR_PATH] = cut(body, len(body) // 3)  # the connection drops
        with pytest.raises(ModelError, match="closed after|download failed"):
            store.official_model_dir(NAME)
    assert not (remote_env / "official_models" / NAME).exists()
    assert [p.name for p in (remote_env / "official_models").iterdir()] == []  # no temp left behind


def test_a_failure_that_may_pass_is_retried(remote_env, stand_in, monkeypatch):
    body = tarball(stand_in, f"{NAME}_infer")
    calls = []

    def flaky(handler):
        calls.append(1)
        if len(calls) == 1:
            handler.send_error(503)
        else:
            handler.send_response(200)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)

    monkeypatch.setenv("HPI_MODEL_RETRIES", "1")
    with ModelHost() as host:
        host.routes[TAR_PATH] = flaky
        monkeypatch.setenv("HPI_MODEL_MIRROR", host.url)
        assert store.official_model_dir(NAME).is_dir()
    assert len(calls) == 2


def test_a_stalled_server_times_out(remote_env, stand_in, monkeypatch):
    body = tarball(stand_in, f"{NAME}_infer")
    monkeypatch.setenv("HPI_MODEL_TIMEOUT_S", "0.5")
    with ModelHost() as host:
        host.routes[TAR_PATH] = cut(body, 1000, stall_s=3.0)
        monkeypatch.setenv("HPI_MODEL_MIRROR", host.url)
        started = time.monotonic()
        with pytest.raises(ModelError, match=r"stalled for 0.5 s after 1,000 bytes \(HPI_MODEL_TIMEOUT_S\)"):
            store.official_model_dir(NAME)
        assert time.monotonic() - started < 2.5


def test_the_size_cap(remote_env, stand_in, monkeypatch):
    monkeypatch.setenv("HPI_MODEL_MAX_BYTES", "1000")
    with ModelHost() as host:
        host.routes[TAR_PATH] = tarball(stand_in, f"{NAME}_infer")
        monkeypatch.setenv("HPI_MODEL_MIRROR", host.url)
        with pytest.raises(ModelError, match=r"over the limit of 1,000 \(HPI_MODEL_MAX_BYTES\)"):
            store.official_model_dir(NAME)


@pytest.mark.parametrize("hostile", ["dotdot", "absolute", "symlink", "hardlink"])
def test_archives_that_would_write_outside_are_refused(remote_env, stand_in, tmp_path, monkeypatch, hostile):
    outside = tmp_path / "escaped.txt"

    def extra(tar):
        if hostile == "dotdot":
            add_bytes(tar, f"{NAME}_infer/../../../../{outside.name}")
        elif hostile == "absolute":
            add_bytes(tar, str(outside))
        elif hostile == "symlink":
            add_symlink(tar, f"{NAME}_infer/link", str(outside))
        else:
            import tarfile

            info = tarfile.TarInfo(f"{NAME}_infer/hard")
            info.type = tarfile.LNKTYPE
            info.linkname = str(outside)
            tar.addfile(info)

    with ModelHost() as host:
        host.routes[TAR_PATH] = tarball(stand_in, f"{NAME}_infer", extra)
        monkeypatch.setenv("HPI_MODEL_MIRROR", host.url)
        with pytest.raises(ModelError, match="(?i)refused"):
            store.official_model_dir(NAME)
    assert not outside.exists()
    assert not (remote_env / "official_models" / NAME).exists()


def test_another_model_is_never_taken_for_the_one_asked(remote_env, tmp_path, monkeypatch):
    other = stand_in_dir(tmp_path / "other", "PP-OCRv6_tiny_det")
    with ModelHost() as host:
        host.routes[TAR_PATH] = tarball(other, f"{NAME}_infer")
        monkeypatch.setenv("HPI_MODEL_MIRROR", host.url)
        with pytest.raises(ModelError, match="is the model 'PP-OCRv6_tiny_det', not 'PP-OCRv6_medium_det'"):
            store.official_model_dir(NAME)
        not_a_model = tmp_path / "not-a-model"
        not_a_model.mkdir()
        (not_a_model / "README.md").write_text("weights elsewhere\n")
        host.routes[TAR_PATH] = tarball(not_a_model, f"{NAME}_infer")
        with pytest.raises(ModelError, match="not a PaddleX model directory"):
            store.official_model_dir(NAME)


def test_paddlex_hosts_in_paddlex_order(remote_env, stand_in, monkeypatch):
    """No mirror: Hugging Face first (PaddleX's default), BOS after it; PADDLE_PDX_MODEL_SOURCE reorders."""
    with ModelHost() as host:
        monkeypatch.setenv("PADDLE_PDX_HUGGING_FACE_ENDPOINT", host.url)
        monkeypatch.setattr(store, "BOS_BASE_URL", f"{host.url}/bos/paddle3.0.0")
        host.serve_hub_repo(f"PaddlePaddle/{NAME}", stand_in)
        directory = store.official_model_dir(NAME)
        assert (directory / "inference.onnx").read_bytes() == (stand_in / "inference.onnx").read_bytes()
        assert not (directory / ".gitattributes").exists()
        assert host.requests[0] == f"/api/models/PaddlePaddle/{NAME}/revision/main"

    labels = [r.label for r in store.remote_sources(NAME)]
    assert labels[0].startswith("Hugging Face") and labels[1].startswith("PaddleX's BOS")
    monkeypatch.setenv("PADDLE_PDX_MODEL_SOURCE", "BOS")
    assert [r.label for r in store.remote_sources(NAME)][0].endswith(f"/paddle3.0.0/{NAME}_infer.tar")
    # PaddleX fetches only its OCR models from the Hub; BOS has every model.
    assert [r.label.split()[0] for r in store.remote_sources("PicoDet-S")] == ["PaddleX's"]
    # A name PaddleX does not list is looked for on disk only (and with a mirror, there).
    assert store.remote_sources("MyCompany_det") == []
    monkeypatch.setenv("HPI_MODEL_MIRROR", "http://127.0.0.1:9")
    assert len(store.remote_sources("MyCompany_det")) == 1


def test_hub_listing_that_points_outside_is_refused(remote_env, stand_in, tmp_path, monkeypatch):
    import json

    with ModelHost() as host:
        monkeypatch.setenv("PADDLE_PDX_HUGGING_FACE_ENDPOINT", host.url)
        host.routes[f"/api/models/PaddlePaddle/{NAME}/revision/main"] = json.dumps(
            {"siblings": [{"rfilename": "../../escaped.txt"}]}).encode()
        with pytest.raises(ModelError, match="points outside the model directory"):
            store.official_model_dir(NAME)
    assert not (tmp_path / "escaped.txt").exists()


def test_two_processes_fetch_once(remote_env, stand_in, tmp_path):
    body = tarball(stand_in, f"{NAME}_infer")
    with ModelHost() as host:
        host.routes[TAR_PATH] = slow(body, 1.5)
        env = {k: v for k, v in os.environ.items() if k != "HPI_MODEL_SOURCE"}
        env.update(HPI_MODEL_MIRROR=host.url, HPI_HOME=str(remote_env),
                   PADDLE_PDX_CACHE_HOME=str(tmp_path / "paddlex-home"))
        code = "from hpi.models.store import official_model_dir as f; print(f('%s'))" % NAME
        procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outputs]
    assert {out.strip() for out, _ in outputs} == {str(remote_env / "official_models" / NAME)}
    assert host.requests == [TAR_PATH]  # one download


def test_names_that_are_paths_are_refused(remote_env):
    for bad in ("../etc", "a/b", "", ".hidden", "x" * 200):
        with pytest.raises(ConfigError, match="not a PaddleX model name"):
            store.official_model_dir(bad)


def test_a_yaml_bomb_in_a_model_dir_is_a_clear_error(tmp_path):
    from hpi.backends.export_check import prepare_model

    directory = stand_in_dir(tmp_path / "bomb", NAME)
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    (directory / "inference.yml").write_text("Global: {model_name: PP-OCRv6_medium_det}\n" + "\n".join(lines))
    started = time.monotonic()
    with pytest.raises(ModelError, match="aliases expand to more than"):
        prepare_model(str(directory))
    assert time.monotonic() - started < 5
    # PaddleX's own aliases (PP-OCRv6's &id001 TensorRT shapes) still read.
    assert prepare_model(str(stand_in_dir(tmp_path / "fine", NAME))).onnx_path is not None


def test_models_directory_layout_checks(tmp_path):
    assert store.model_dir_problem(tmp_path / "nothing") == "not a directory"
    assert store.model_dir_problem(tmp_path) == "no inference.yml"
    (tmp_path / "inference.yml").write_text("Global: {model_name: x}\n")
    assert "no inference.json" in store.model_dir_problem(tmp_path)
    (tmp_path / "inference.json").write_text("{}")
    (tmp_path / "inference.pdiparams").write_bytes(b"")
    assert store.model_dir_problem(tmp_path) is None


def test_a_stand_in_is_what_it_claims(stand_in):
    from hpi.models import inference_yml

    assert inference_yml.model_name(stand_in / "inference.yml") == NAME
    assert Path(stand_in / "inference.onnx").stat().st_size > 1_000_000


def test_a_model_dir_of_another_task_or_with_an_unknown_op_is_refused(tmp_path):
    from hpi import create_pipeline
    from hpi.backends.export_check import prepare_model
    from hpi.models.registry import MODELS

    rec_dir = stand_in_dir(tmp_path / "rec", "PP-OCRv6_medium_rec", source="PP-OCRv6_small_rec")
    with pytest.raises(ConfigError, match="holds 'PP-OCRv6_medium_rec', a text_recognition model.*needs a "
                                          "text_detection model"):
        create_pipeline("OCR", text_detection_model_dir=str(rec_dir))
    det_dir = stand_in_dir(tmp_path / "det", NAME)
    yml = det_dir / "inference.yml"
    yml.write_text(yml.read_text().replace("- DetResizeForTest:", "- GridMask: {}\n  - DetResizeForTest:", 1))
    assert "GridMask" in yml.read_text()
    with pytest.raises(ModelError, match=f"model '{NAME}' names the pre-processing op 'GridMask'.*text_detection"):
        prepare_model(str(det_dir), default_spec=MODELS["PP-OCRv6_small_det"])
