"""The FP16 accuracy guard on synthetic outputs: noise passes, result changes fall back to FP32."""

from __future__ import annotations

import numpy as np
import pytest

from hpi.backends.tensorrt.guard import (
    GuardResult, choose_precision, combine, ctc_greedy_decode, fp16_guard, outputs_guard,
)

rng = np.random.default_rng(0)


def _fp16_noise(x, scale=1e-3):
    return (x + rng.normal(0, scale, x.shape)).astype(np.float16).astype(np.float32)


def _det_map():
    prob = np.zeros((1, 1, 64, 96), np.float32)
    prob[..., 10:20, 5:80] = 0.9
    prob[..., 30:45, 10:60] = 0.8
    return prob


def _rec_probs(labels, classes=20, steps=12):
    out = np.full((len(labels), steps, classes), 0.01, np.float32)
    for i, seq in enumerate(labels):
        for t in range(steps):
            out[i, t, seq[t] if t < len(seq) else 0] = 0.9
    return out / out.sum(-1, keepdims=True)


def test_ctc_greedy_decode_merges_repeats_and_blanks():
    probs = _rec_probs([[3, 3, 0, 3, 5, 0, 0]])
    seqs, scores = ctc_greedy_decode(probs)
    assert seqs == [(3, 3, 5)]
    assert 0.5 < scores[0] <= 1.0


def test_det_noise_passes_and_flips_fail():
    ref = _det_map()
    assert fp16_guard("text_detection", ref, _fp16_noise(ref)).ok
    bad = ref.copy()
    bad[..., 30:45, 10:60] = 0.2  # a whole text region vanishes
    result = fp16_guard("text_detection", ref, bad, {"thresh": 0.3})
    assert not result.ok and "flipped" in result.reason


def test_rec_noise_passes_text_change_fails():
    ref = _rec_probs([[1, 2, 3], [4, 4, 0, 4]])
    assert fp16_guard("text_recognition", ref, _fp16_noise(ref)).ok
    changed = _rec_probs([[1, 2, 3], [4, 5, 0, 4]])  # "44" became "454"
    result = fp16_guard("text_recognition", ref, changed)
    assert not result.ok and result.details["changed_lines"] == [1]


def test_rec_score_shift_fails():
    ref = _rec_probs([[1, 2, 3]])
    shifted = ref.copy()
    shifted[0, :3] *= 0.9  # same argmax, lower confidence by ~0.08
    result = fp16_guard("text_recognition", ref, shifted)
    assert not result.ok and "score shift" in result.reason


def test_cls_threshold_crossing_fails():
    ref = np.array([[0.95, 0.05], [0.2, 0.8]], np.float32)
    assert fp16_guard("textline_orientation", ref, _fp16_noise(ref, 1e-4)).ok
    crossed = np.array([[0.895, 0.105], [0.2, 0.8]], np.float32)  # 0.95 → 0.895: below cls_thresh 0.9
    result = fp16_guard("textline_orientation", ref, crossed, {"cls_thresh": 0.9})
    assert not result.ok and result.details["changed_items"] == [0]
    flipped = np.array([[0.95, 0.05], [0.6, 0.4]], np.float32)
    assert not fp16_guard("textline_orientation", ref, flipped).ok


def test_nan_and_shape_mismatch_fail():
    ref = _det_map()
    bad = ref.copy()
    bad[0, 0, 0, 0] = np.inf
    assert "NaN/Inf" in fp16_guard("text_detection", ref, bad).reason
    assert "shapes differ" in fp16_guard("text_detection", ref, ref[..., :10]).reason


def test_generic_task_relative_tolerance():
    ref = rng.normal(0, 10, (4, 8)).astype(np.float32)
    assert fp16_guard(None, ref, ref + 0.01).ok
    assert not fp16_guard(None, ref, ref + 5).ok


def test_combine_and_choose_precision():
    good, bad = GuardResult(True, "fine"), GuardResult(False, "drifted")
    assert combine([good, good]).ok
    verdict = combine([good, bad])
    assert not verdict.ok and verdict.reason == "drifted" and verdict.details["failed"] == 1
    assert not combine([]).ok
    assert choose_precision("fp16", good) == ("fp16", None)
    precision, message = choose_precision("fp16", bad)
    assert precision == "fp32" and "falling back to FP32" in message and "drifted" in message
    assert choose_precision("fp32", bad) == ("fp32", None)


def test_outputs_guard_over_runs():
    ref = {"out": _rec_probs([[1, 2]])}
    assert outputs_guard("text_recognition", [ref, ref], [ref, ref]).details["checked"] == 2
    missing = outputs_guard("text_recognition", [ref], [{"other": ref["out"]}])
    assert not missing.ok and "missing" in missing.reason


@pytest.mark.parametrize("task", ["text_detection", "text_recognition", "textline_orientation", None])
def test_identical_outputs_always_pass(task):
    ref = _rec_probs([[1, 2, 3]]) if task != "text_detection" else _det_map()
    if task == "textline_orientation":
        ref = ref[:, 0, :]
    assert fp16_guard(task, ref, ref.copy()).ok


def test_representative_feeds_are_legible_lines_at_every_opt_shape():
    from hpi.backends.tensorrt.guard import representative_feeds
    from hpi.backends.tensorrt.profiles import profiles_for_rules
    from hpi.models.registry import get_model_spec

    for name in ("PP-OCRv4_mobile_rec", "PP-OCRv2_mobile_textline_ori"):
        spec = get_model_spec(name)
        profiles = profiles_for_rules(spec.inputs)
        feeds = representative_feeds(spec, profiles)
        assert [f["x"].shape for f in feeds] == [p["x"].opt for p in profiles]
        for feed in feeds:
            x = feed["x"]
            assert x.dtype == np.float32 and np.isfinite(x).all()
            # Text (dark) covers part of every line; the rest is background (white → the max value).
            assert all(0.005 < float(np.mean(item < item.max() - 0.5)) < 0.6 for item in x)
        if name.endswith("rec"):  # upright only: the left part carries text, not the right end
            first = feeds[0]["x"][0]
            assert np.mean(first[:, :, :20] < first.max() - 0.5) > np.mean(first[:, :, -20:] < first.max() - 0.5)
