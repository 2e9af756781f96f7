"""The engine cache key changes with every component; stale or corrupt entries are rebuilt, never reused."""

from __future__ import annotations

import dataclasses
import json
import logging

import pytest

from hpi.backends.tensorrt.cache import EngineCache, EngineKey, mismatched_components, timing_cache_name
from hpi.backends.tensorrt.profiles import profiles_as_json, profiles_for_rules
from hpi.models.registry import get_model_spec

REC_PROFILES = tuple(profiles_as_json(profiles_for_rules(get_model_spec("PP-OCRv4_mobile_rec").inputs)))

BASE = EngineKey(
    model_name="PP-OCRv4_mobile_rec",
    onnx_sha256="a" * 64,
    tensorrt_version="10.13.0.35",
    gpu_name="NVIDIA H100 80GB HBM3",
    compute_capability=(9, 0),
    precision="fp16",
    profiles=REC_PROFILES,
    builder_flags={"tf32": True, "optimization_level": 3},
)

CHANGES = {
    "model_name": "other",
    "onnx_sha256": "b" * 64,
    "tensorrt_version": "10.14.1",
    "gpu_name": "NVIDIA A100-SXM4-80GB",
    "compute_capability": (8, 0),
    "precision": "fp32",
    "profiles": REC_PROFILES[:1],
    "builder_flags": {"tf32": False, "optimization_level": 3},
}


def test_key_is_stable():
    again = dataclasses.replace(BASE, builder_flags={"optimization_level": 3, "tf32": True})
    assert again.digest() == BASE.digest() and again.dirname() == BASE.dirname()
    assert BASE.dirname().startswith("PP-OCRv4_mobile_rec-fp16-")


@pytest.mark.parametrize("component", sorted(CHANGES))
def test_key_changes_with_each_component(component):
    changed = dataclasses.replace(BASE, **{component: CHANGES[component]})
    assert changed.digest() != BASE.digest()
    assert changed.dirname() != BASE.dirname()
    expected = "compute_capability" if component == "compute_capability" else component
    assert mismatched_components(BASE.components(), changed.components()) == [expected]


def test_key_changes_with_a_profile_shape():
    profiles = json.loads(json.dumps(REC_PROFILES))
    profiles[0]["inputs"]["x"]["max"][0] = 8
    assert dataclasses.replace(BASE, profiles=tuple(profiles)).digest() != BASE.digest()


@pytest.fixture
def cache(tmp_path):
    return EngineCache(tmp_path / "engines")


@pytest.fixture
def builds():
    calls = []

    def build():
        calls.append(1)
        return b"PLAN-" + bytes([len(calls)]) * 100

    build.calls = calls
    return build


def test_build_once_then_load(cache, builds, tmp_hpi_home):
    plan, built = cache.get_or_build(BASE, builds, {"hpi_version": "x"})
    assert built and len(builds.calls) == 1
    again, built_again = cache.get_or_build(BASE, builds)
    assert again == plan and not built_again and len(builds.calls) == 1
    meta = cache.read_meta(BASE)
    assert meta["key"] == BASE.components() and meta["plan_bytes"] == len(plan)
    assert meta["hpi_version"] == "x" and "build_seconds" in meta
    assert sorted(p.name for p in cache.entry_dir(BASE).iterdir()) == ["engine.plan", "meta.json"]
    # No temporary directories are left behind.
    assert [p.name for p in cache.root.iterdir()] == [BASE.dirname()]


def _one_rebuild(cache, builds, caplog, expected_reason):
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="hpi"):
        plan, built = cache.get_or_build(BASE, builds)
    assert built, "a stale or corrupt entry must be rebuilt"
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and expected_reason in warnings[0].getMessage()
    assert cache.load(BASE) == plan


def test_corrupt_plan_rebuilds(cache, builds, caplog, tmp_hpi_home):
    cache.get_or_build(BASE, builds)
    path = cache.plan_path(BASE)
    data = bytearray(path.read_bytes())
    data[10] ^= 0xFF
    path.write_bytes(bytes(data))
    _one_rebuild(cache, builds, caplog, "sha256")


def test_truncated_plan_rebuilds(cache, builds, caplog, tmp_hpi_home):
    cache.get_or_build(BASE, builds)
    cache.plan_path(BASE).write_bytes(b"PLAN")
    _one_rebuild(cache, builds, caplog, "bytes")


def test_missing_plan_rebuilds(cache, builds, caplog, tmp_hpi_home):
    cache.get_or_build(BASE, builds)
    cache.plan_path(BASE).unlink()
    _one_rebuild(cache, builds, caplog, "missing")


def test_corrupt_meta_rebuilds(cache, builds, caplog, tmp_hpi_home):
    cache.get_or_build(BASE, builds)
    (cache.entry_dir(BASE) / "meta.json").write_text("{not json")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="hpi"):
        _, built = cache.get_or_build(BASE, builds)
    assert built
    assert any("meta.json is missing or corrupt" in r.getMessage() for r in caplog.records)


def test_meta_for_another_key_is_never_reused(cache, builds, caplog, tmp_hpi_home):
    """An entry whose meta records other components (e.g. a different TensorRT) is stale."""
    cache.get_or_build(BASE, builds)
    meta = cache.read_meta(BASE)
    meta["key"]["tensorrt_version"] = "8.6.1"
    (cache.entry_dir(BASE) / "meta.json").write_text(json.dumps(meta))
    _one_rebuild(cache, builds, caplog, "different tensorrt_version")


def test_invalidate_and_update_meta(cache, builds, tmp_hpi_home):
    cache.get_or_build(BASE, builds)
    cache.update_meta(BASE, accuracy_guard={"ok": False, "reason": "drift"})
    assert cache.read_meta(BASE)["accuracy_guard"]["ok"] is False
    assert cache.load(BASE) is not None  # extra meta fields do not invalidate
    cache.invalidate(BASE, "TensorRT could not deserialize it")
    assert not cache.entry_dir(BASE).exists() and cache.load(BASE) is None


def test_empty_plan_is_refused(cache, tmp_hpi_home):
    with pytest.raises(ValueError):
        cache.get_or_build(BASE, lambda: b"")
    assert cache.load(BASE) is None


def test_timing_cache_is_per_gpu_and_version(cache):
    path = cache.timing_cache_path(BASE)
    assert path.parent == cache.root / "timing"
    assert path.name == "NVIDIA_H100_80GB_HBM3-sm90-trt10.13.0.35.cache"
    assert timing_cache_name("A", (8, 6), "10.0") != timing_cache_name("A", (8, 9), "10.0")
