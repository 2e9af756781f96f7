"""CTC greedy decoding: semantics, parity on real rec-model outputs, hostile inputs."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from hpi.errors import InputError

CHARS = ["blank", "a", "b", "c", " "]


def one_hot_steps(indices, probs=None, classes=len(CHARS)):
    """T×C probabilities whose argmax per step is indices[t] with max probability probs[t]."""
    t = len(indices)
    probs = probs if probs is not None else [0.9] * t
    out = np.full((t, classes), 0.01, dtype=np.float32)
    for step, (idx, p) in enumerate(zip(indices, probs)):
        out[step, idx] = p
    return out


def test_build_ctc_characters_matches_pp_ocr(kernels):
    chars = kernels.build_ctc_characters(["a\n", "b\r\n", "c"], use_space_char=True)
    assert chars == ["blank", "a", "b", "c", " "]
    assert kernels.build_ctc_characters(["a\n"], use_space_char=False) == ["blank", "a"]


def test_real_dictionary_gives_6625_classes(kernels, rec_characters, rec_logits):
    assert rec_characters[0] == "blank" and rec_characters[-1] == " "
    assert len(rec_characters) == rec_logits.shape[2] == 6625


def test_collapse_repeats_and_drop_blanks(kernels):
    probs = one_hot_steps([1, 1, 0, 1, 2, 2, 0, 0, 3, 4], [0.5, 0.7, 0.9, 0.6, 0.8, 0.2, 0.9, 0.9, 0.4, 0.3])
    [(text, score)] = kernels.ctc_decode(probs[None], CHARS)
    assert text == "aabc "
    # kept steps: 0 (a, 0.5), 3 (a, 0.6), 4 (b, 0.8), 8 (c, 0.4), 9 (space, 0.3)
    assert score == pytest.approx(np.mean([0.5, 0.6, 0.8, 0.4, 0.3]), abs=1e-6)


def test_all_blank_scores_zero(kernels):
    assert kernels.ctc_decode(one_hot_steps([0, 0, 0])[None], CHARS) == [("", 0.0)]


def test_ties_take_the_first_index_like_numpy_argmax(kernels):
    probs = np.zeros((1, 2, 5), dtype=np.float32)
    probs[0, 0, [2, 3]] = 0.5
    probs[0, 1, [0, 1]] = 0.5
    assert kernels.ctc_decode(probs, CHARS)[0][0] == "b"


def test_parity_on_real_rec_outputs(reference, compiled, rec_logits, rec_characters):
    expected = reference.ctc_decode(rec_logits, rec_characters)
    got = compiled.ctc_decode(rec_logits, rec_characters)
    assert [t for t, _ in got] == [t for t, _ in expected]
    assert max(abs(a - b) for (_, a), (_, b) in zip(got, expected)) <= 1e-6
    # and the model actually read the rendered lines
    assert any("quick brown fox" in t for t, _ in got)


def test_parity_on_large_random_batch(reference, compiled, rec_characters):
    rng = np.random.default_rng(0)
    logits = rng.random((64, 80, 6625), dtype=np.float32)
    peaks = rng.integers(0, 6625, (64, 80))
    peaks[:, ::3] = 0
    np.put_along_axis(logits, peaks[..., None], 2.0, axis=2)
    expected = reference.ctc_decode(logits, rec_characters)
    got = compiled.ctc_decode(logits, rec_characters)
    assert [t for t, _ in got] == [t for t, _ in expected]
    assert max(abs(a - b) for (_, a), (_, b) in zip(got, expected)) <= 1e-6


def test_batch_of_zero_and_zero_steps(kernels):
    assert kernels.ctc_decode(np.zeros((0, 40, 5), np.float32), CHARS) == []
    assert kernels.ctc_decode(np.zeros((3, 0, 5), np.float32), CHARS) == [("", 0.0)] * 3


def test_two_dimensional_input_is_a_batch_of_one(kernels):
    assert kernels.ctc_decode(one_hot_steps([1, 2]), CHARS) == kernels.ctc_decode(one_hot_steps([1, 2])[None], CHARS)


def test_non_contiguous_and_float64_inputs(kernels):
    probs = np.stack([one_hot_steps([1, 0, 2]), one_hot_steps([3, 3, 1])])
    expected = kernels.ctc_decode(probs, CHARS)
    strided = np.asfortranarray(probs)
    assert kernels.ctc_decode(strided, CHARS) == expected
    transposed = np.ascontiguousarray(probs.transpose(0, 2, 1)).transpose(0, 2, 1)
    assert kernels.ctc_decode(transposed, CHARS) == expected
    got64 = kernels.ctc_decode(probs.astype(np.float64), CHARS)
    assert [t for t, _ in got64] == [t for t, _ in expected]


def test_nan_is_a_clear_error(kernels):
    probs = one_hot_steps([1, 2, 3])[None].copy()
    probs[0, 1, 4] = np.nan
    with pytest.raises(InputError, match="NaN"):
        kernels.ctc_decode(probs, CHARS)


def test_infinity_is_a_defined_maximum(kernels):
    probs = one_hot_steps([1, 2, 3])[None].copy()
    probs[0, 1, 3] = np.inf
    text, score = kernels.ctc_decode(probs, CHARS)[0]
    assert text == "ac"
    assert score == np.inf


def test_wrong_dtype_shape_and_dictionary_are_clear_errors(kernels):
    with pytest.raises(InputError):
        kernels.ctc_decode(np.zeros((1, 2, 5), np.int32), CHARS)
    with pytest.raises(InputError):
        kernels.ctc_decode(np.zeros((1, 2, 3, 5), np.float32), CHARS)
    with pytest.raises(InputError, match="character list"):
        kernels.ctc_decode(np.zeros((1, 2, 9), np.float32), CHARS)
    with pytest.raises(InputError):
        kernels.ctc_decode([[0.1, 0.9]], CHARS)


def test_concurrent_calls_from_two_threads_agree(kernels, rec_logits, rec_characters):
    expected = kernels.ctc_decode(rec_logits, rec_characters)
    results, errors = [], []

    def work():
        try:
            for _ in range(5):
                results.append(kernels.ctc_decode(rec_logits, rec_characters))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert all(r == expected for r in results) and len(results) == 10
