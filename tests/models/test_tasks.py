"""The task table: one row per task, looked up by every check; the models layer never imports the backends."""

from __future__ import annotations

import numpy as np
import pytest

from hpi.errors import ConfigError
from hpi.models import agreement
from hpi.models.registry import MODELS
from hpi.models.tasks import GENERIC, TASKS, get_task, task_of
from tests.models.fresh import fresh_python


def test_every_registry_task_has_a_row():
    assert {spec.task for spec in MODELS.values()} <= set(TASKS)
    for name in ("layout_detection", "table_structure_recognition", "seal_text_detection", "image_unwarping"):
        assert get_task(name).name == name


def test_none_and_new_tasks_get_the_generic_row():
    assert get_task(None) is GENERIC and task_of(None) is GENERIC
    assert get_task("formula_recognition") is GENERIC


def test_a_mistyped_task_is_an_error_with_a_suggestion():
    with pytest.raises(ConfigError, match=r"Unknown task 'text_detecton' \(did you mean 'text_detection'\?\)"):
        get_task("text_detecton")


def test_rows_hold_the_rules_the_checks_used_to_test_for():
    det, rec, cls, doc = (get_task(n) for n in ("text_detection", "text_recognition", "textline_orientation", "doc_orientation"))
    assert det.parity is agreement.parity_bitmap and det.low_precision is agreement.low_precision_bitmap
    assert det.fp16_guard is agreement.guard_detection and (det.probe, det.profile_recipe) == ("page", "aspect_buckets")
    assert rec.low_precision is agreement.low_precision_lines and rec.fp16_guard is agreement.guard_recognition
    assert (rec.probe, rec.probe_upside_down, rec.profile_recipe) == ("line", False, "width_buckets")
    assert (cls.probe, cls.probe_upside_down, cls.profile_recipe) == ("line", True, "batch")
    assert cls.fp16_guard is doc.fp16_guard is agreement.guard_classification and doc.probe == "noise"
    assert GENERIC.parity is agreement.parity_max_abs and GENERIC.profile_recipe == "by_shape"


def test_bitmap_agreement_is_exact_at_a_threshold():
    """agreement and flipped come from one count: exactly mean(==) and mean(!=), even at 1e-3."""
    reference = np.zeros(3000, np.float32)
    candidate = reference.copy()
    candidate[:3] = 1.0  # 3 of 3000 pixels flip: 0.001, the FP16 guard's limit
    matched, flipped = agreement.bitmap_agreement(reference, candidate, 0.3)
    assert matched == float(np.mean((reference > 0.3) == (candidate > 0.3)))
    assert flipped == float(np.mean((reference > 0.3) != (candidate > 0.3))) == 0.001
    assert agreement.bitmap_agreement(reference[:0], candidate[:0], 0.3) == (1.0, 0.0)


def test_one_ctc_decoder_serves_low_precision_and_the_guard():
    probs = np.full((2, 5, 4), 0.01, np.float32)
    for t, c in enumerate([1, 1, 0, 1, 2]):
        probs[0, t, c] = probs[1, t, c] = 0.9
    assert agreement.ctc_greedy_decode(probs)[0] == [(1, 1, 2), (1, 1, 2)]
    assert agreement.low_precision_lines(None, probs, probs) == ""


def test_the_models_layer_imports_no_backend():
    code = (
        "import pkgutil, importlib, sys, hpi.models\n"
        "for m in pkgutil.iter_modules(hpi.models.__path__): importlib.import_module('hpi.models.' + m.name)\n"
        "print(sorted(n for n in sys.modules if n.startswith('hpi.backends')))\n"
    )
    assert fresh_python(code).stdout.strip() == "[]"


def test_rec_fp32_parity_is_judged_by_decoded_lines():
    """fp32 float noise between runtimes (OpenVINO's rec output 2.6e-4 from ONNX Runtime's, every decoded line
    identical) no longer rejects a backend; a changed line, a moved score or a different model still does."""
    from hpi.models.compare import compare_outputs
    from hpi.models.registry import get_model_spec

    spec = get_model_spec("PP-OCRv4_mobile_rec")
    assert get_task("text_recognition").parity is agreement.parity_decoded_lines
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 1, (4, 40, 30)).astype(np.float32)
    logits[..., 0] += 2.0  # mostly blanks, as real lines are
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    noisy = probs + rng.uniform(-2.6e-4, 2.6e-4, probs.shape).astype(np.float32)
    same = compare_outputs(spec, probs, noisy)
    assert same.ok and "4/4 decoded lines identical" in same.reason
    assert compare_outputs(spec, probs, probs + 1e-6).ok  # within the raw tolerance: the plain rule
    flipped = noisy.copy()
    step = int(np.argmax(probs[1].max(-1) - np.sort(probs[1], -1)[:, -2]))  # the clearest step of line 1
    flipped[1, step] = probs[1, step][::-1]  # another character wins there
    assert not compare_outputs(spec, probs, flipped).ok
    assert not compare_outputs(spec, probs, probs + 5e-2).ok  # far beyond float noise
