"""BatchingRunner: calls from many threads share model calls, each gets its own rows back; real models
give the texts of an unbatched run; ``Pipeline.wrap_runners`` installs it on every slot."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from hpi.serving.app import pad_rule
from hpi.serving.batching import BatchingRunner, PadRule, RequestTimeout, request_deadline


class FakeRunner:
    """Doubles its input; records the batch size of each call; fails on a batch holding a NaN."""

    input_names = ["x"]
    output_names = ["y"]

    def __init__(self, delay_s: float = 0.0, max_batch: int | None = None) -> None:
        self.calls: list[int] = []
        self.delay_s = delay_s
        self.max_batch = max_batch
        self.deactivated = False
        self._lock = threading.Lock()

    def max_input_shape(self, name):
        return None if self.max_batch is None else (self.max_batch, 3, 8, 8)

    def infer(self, feed):
        x = feed["x"]
        with self._lock:
            self.calls.append(x.shape[0])
        if self.delay_s:
            time.sleep(self.delay_s)
        if np.isnan(x).any():
            raise ValueError("NaN input")
        return {"y": x * 2}

    def describe(self):
        return "fake"

    def deactivate(self):
        self.deactivated = True


def _run_together(function, inputs):
    """``function(x)`` for each input, one thread each, all released at once; exceptions are returned."""
    barrier = threading.Barrier(len(inputs))

    def call(x):
        barrier.wait(timeout=30)
        try:
            return function(x)
        except Exception as exc:  # noqa: BLE001 - returned to the test
            return exc

    with ThreadPoolExecutor(max_workers=len(inputs)) as pool:
        return list(pool.map(call, inputs))


def test_concurrent_calls_share_model_calls_and_get_their_rows():
    fake = FakeRunner()
    stats = []
    runner = BatchingRunner(fake, max_batch_size=16, max_wait_ms=2000, expected_callers=lambda: 6,
                            observer=stats.append)
    inputs = [np.full((rows, 3, 8, 8), i, np.float32) for i, rows in enumerate([1, 2, 3, 1, 2, 3])]
    outputs = _run_together(runner.infer_one, inputs)
    for x, y in zip(inputs, outputs):
        np.testing.assert_array_equal(y, x * 2)
    assert fake.calls == [12]  # one model call: all six callers were expected, so none waited in vain
    assert stats[0].calls == 6 and stats[0].rows == 12 and stats[0].slot
    runner.deactivate()
    assert fake.deactivated


def test_different_shapes_never_share_a_call_and_batches_are_bounded():
    fake = FakeRunner()
    runner = BatchingRunner(fake, max_batch_size=4, max_wait_ms=2000, expected_callers=lambda: 6)
    inputs = [np.ones((2, 3, 8, 8 if i % 2 else 16), np.float32) * i for i in range(6)]
    outputs = _run_together(runner.infer_one, inputs)
    for x, y in zip(inputs, outputs):
        np.testing.assert_array_equal(y, x * 2)
    assert sum(fake.calls) == 12 and max(fake.calls) <= 4 and len(fake.calls) >= 3
    runner.close()


class WidthRunner(FakeRunner):
    """N×3×8×W → N×(W/8)×2, each time step the sums of its 8 columns (as a CTC head's steps)."""

    def infer(self, feed):
        x = feed["x"]
        with self._lock:
            self.calls.append(x.shape)
        steps = x.reshape(x.shape[0], 3, 8, x.shape[3] // 8, 8).sum(axis=(1, 2, 4))
        return {"y": np.stack([steps, -steps], axis=2)}


def test_pad_rule_merges_widths_and_cuts_outputs_back():
    fake = WidthRunner()
    runner = BatchingRunner(fake, max_batch_size=16, max_wait_ms=2000, expected_callers=lambda: 4,
                            pad=PadRule(input_axis=3, output_axis=1, max_extra=16))
    rng = np.random.default_rng(0)
    inputs = [rng.random((n, 3, 8, w), dtype=np.float32) for n, w in [(2, 16), (1, 32), (3, 24), (1, 64)]]
    outputs = _run_together(runner.infer_one, inputs)
    for x, y in zip(inputs, outputs):
        np.testing.assert_allclose(y, fake.__class__().infer({"x": x})["y"], rtol=1e-6)  # as if alone
    widths = sorted(shape[3] for shape in fake.calls)
    assert widths == [32, 64] and sorted(s[0] for s in fake.calls) == [1, 6]  # 16/24/32 merged; 64 too wide
    runner.close()


def test_server_pads_only_text_recognition():
    assert pad_rule("text_recognition", 256) == PadRule(3, 1, 256)
    assert pad_rule("text_recognition", 0) is None and pad_rule("text_detection", 256) is None


def test_runner_shape_limit_bounds_the_batch():
    runner = BatchingRunner(FakeRunner(max_batch=3), max_batch_size=16)
    assert runner.max_batch_size == 3
    runner.close()


def test_a_failing_input_fails_only_its_own_call():
    fake = FakeRunner()
    runner = BatchingRunner(fake, max_batch_size=16, max_wait_ms=2000, expected_callers=lambda: 4)
    inputs = [np.ones((1, 3, 8, 8), np.float32) for _ in range(4)]
    inputs[2] = np.full((1, 3, 8, 8), np.nan, np.float32)
    outputs = _run_together(runner.infer_one, inputs)
    assert isinstance(outputs[2], ValueError)
    for i in (0, 1, 3):
        np.testing.assert_array_equal(outputs[i], inputs[i] * 2)
    assert fake.calls[0] == 4 and sorted(fake.calls[1:]) == [1, 1, 1, 1]  # merged, then one by one
    runner.close()


def test_expired_calls_are_dropped_not_run():
    fake = FakeRunner(delay_s=0.3)
    runner = BatchingRunner(fake, max_batch_size=1, max_wait_ms=0)
    x = np.ones((1, 3, 8, 8), np.float32)
    with request_deadline(time.monotonic() - 1):
        with pytest.raises(RequestTimeout):
            runner.infer_one(x)
    blocker = threading.Thread(target=runner.infer_one, args=(x,))
    blocker.start()
    while not fake.calls:  # bounded by the blocker's own call
        time.sleep(0.01)
    with request_deadline(time.monotonic() + 0.05):  # waits behind the blocker's 0.3 s call
        with pytest.raises(RequestTimeout):
            runner.infer_one(x)
    blocker.join(timeout=10)
    runner.close()
    assert fake.calls == [1]  # the expired call never reached the model


def test_close_finishes_queued_calls_then_refuses():
    fake = FakeRunner(delay_s=0.05)
    runner = BatchingRunner(fake, max_batch_size=1, max_wait_ms=0)
    inputs = [np.ones((1, 3, 8, 8), np.float32) * i for i in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(runner.infer_one, x) for x in inputs]
        while runner.queued + len(fake.calls) < 4:  # bounded: four calls are on their way
            time.sleep(0.005)
        runner.close()
        results = [f.result(timeout=10) for f in futures]
    for x, y in zip(inputs, results):
        np.testing.assert_array_equal(y, x * 2)
    with pytest.raises(Exception, match="closed"):
        runner.infer_one(inputs[0])


# ------------------------------------------------------------------------------------------ real models

@pytest.fixture(scope="module")
def plain_pipeline():
    from hpi import create_pipeline

    with create_pipeline("OCR", device="cpu", use_textline_orientation=True) as pipeline:
        yield pipeline


@pytest.fixture(scope="module")
def images(fonts):
    from rendering import PAGE_TEXTS, RECEIPT_TEXTS, render_lines

    same_size = [render_lines(PAGE_TEXTS[i:i + 4], fonts[0], size=26, width=760).image for i in (0, 2, 4)]
    return same_size + [
        render_lines(PAGE_TEXTS, fonts[1 % len(fonts)], size=22).image,
        render_lines(RECEIPT_TEXTS, fonts[-1], size=24).image,
        render_lines(PAGE_TEXTS[1:3], fonts[0], size=34).image,
    ]


def test_batched_pipeline_reads_the_same_texts(plain_pipeline, images):
    """Batching across requests changes which rows share a model call, never what each row reads."""
    from hpi import create_pipeline

    expected = [next(plain_pipeline.predict(image)) for image in images]
    stats = []
    running = [len(images)]  # callers still in the pipeline (the server's in-flight count): batchers wait for them
    lock = threading.Lock()

    def predict(image):
        try:
            return next(pipeline.predict(image))
        finally:
            with lock:
                running[0] -= 1

    # A batcher waits for every caller still in the pipeline; one that has made its last call of a stage never
    # comes, so each such wait lasts max_wait_ms: 1.5 s is ample for callers that start together to meet
    # (10 s made this test take 55 s, with the same merges).
    with create_pipeline("OCR", device="cpu", use_textline_orientation=True) as pipeline:
        pipeline.wrap_runners(lambda path, runner: BatchingRunner(
            runner, slot=".".join(path), max_batch_size=32, max_wait_ms=1_500,
            expected_callers=lambda: running[0], observer=stats.append, pad=pad_rule(path[-1], 256)))
        got = _run_together(predict, images)
    for want, have in zip(expected, got):
        assert not isinstance(have, Exception), have
        assert have.rec_texts == want.rec_texts
        # Padding moves the recognition scores a little (PP-OCRv6_small: up to 2e-3 here), never the texts.
        np.testing.assert_allclose(have.rec_scores, want.rec_scores, atol=1e-2)
        np.testing.assert_array_equal(have.dt_polys, want.dt_polys)
        assert have.textline_orientation_angles == want.textline_orientation_angles
    merged = {s.slot for s in stats if s.calls > 1}
    assert {"text_detection", "text_recognition", "textline_orientation"} <= merged, stats
    # the pad rule let lines of different widths share recognition calls: fewer calls than equal widths allow
    assert max(s.rows for s in stats if s.slot == "text_recognition") > 6


def test_wrap_runners_covers_loaded_lazy_and_sub_pipeline_slots(images):
    from hpi import create_pipeline

    seen = []

    class Counting:
        def __init__(self, runner):
            self.runner = runner
            self.calls = 0

        def __getattr__(self, name):
            return getattr(self.runner, name)

        def infer_one(self, array):
            self.calls += 1
            return self.runner.infer_one(array)

    def wrap(path, runner):
        seen.append(path)
        return Counting(runner)

    # Textline orientation off in the config (the default is on): its slot then loads lazily, per call.
    with create_pipeline("OCR", device="cpu", use_textline_orientation=False) as pipeline:
        pipeline.wrap_runners(wrap)
        assert sorted(seen) == [("text_detection",), ("text_recognition",)]  # the loaded ones, at once
        next(pipeline.predict(images[0], use_textline_orientation=True, use_doc_orientation_classify=True))
        assert ("textline_orientation",) in seen  # loaded on first use: wrapped as it loads
        assert ("doc_preprocessor", "doc_orientation") in seen  # a sub-pipeline's slot, by its path
        assert pipeline.predictor("text_detection").runner.calls == 1


class DetectorRunner(FakeRunner):
    """PaddleX's exported detector form: image + scale_factor in, every image's boxes as one [N, 6] list plus
    a count per image out (here: one box per image row, holding that row's first pixel)."""

    input_names = ["image", "scale_factor"]

    def infer(self, feed):
        x = feed["image"]
        with self._lock:
            self.calls.append(x.shape[0])
        rows = np.zeros((x.shape[0], 6), np.float32)
        rows[:, 1] = x[:, 0, 0, 0]
        return {"rows": rows, "count": np.ones(x.shape[0], np.int32)}


def test_detector_calls_are_never_merged():
    """Merging detector calls would hand callers other images' boxes whenever the box count happens to equal
    the number of rows: calls with several inputs run as they are."""
    fake = DetectorRunner()
    runner = BatchingRunner(fake, max_batch_size=16, max_wait_ms=2000, expected_callers=lambda: 4)
    feeds = [{"image": np.full((1, 3, 8, 8), i, np.float32), "scale_factor": np.ones((1, 2), np.float32)}
             for i in range(4)]
    outputs = _run_together(runner.infer, feeds)
    assert sorted(fake.calls) == [1, 1, 1, 1]
    assert [float(out["rows"][0, 1]) for out in outputs] == [0.0, 1.0, 2.0, 3.0]
    runner.deactivate()
