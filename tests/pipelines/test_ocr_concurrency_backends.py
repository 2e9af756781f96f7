"""The same texts from every backend, and from 4 threads sharing one pipeline."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from hpi import backends
from rendering import PAGE_TEXTS, latin_fonts, render_lines, render_single_line


@pytest.fixture(scope="module")
def images():
    fonts = latin_fonts()
    if not fonts:
        pytest.skip("no DejaVu fonts to render test images")
    return [
        render_lines(PAGE_TEXTS[:4], fonts[0], size=26).image,
        render_lines(PAGE_TEXTS[4:], fonts[1 % len(fonts)], size=30).image,
        render_single_line("Threads share one pipeline", fonts[0], size=28).image,
        render_lines(PAGE_TEXTS[2:6], fonts[-1], size=22).image,
    ]


@pytest.fixture(autouse=True)
def _hand_back_memory_after_each_test():
    """Each test here loads whole pipelines on another backend (Paddle Inference's alone peaks at ~2 GB): hand
    the freed heap back after each one, not only at the end of the module, so they do not stack up."""
    yield
    import gc

    from tests.conftest import _malloc_trim

    gc.collect()
    _malloc_trim()


def _signature(result):
    return (tuple(result.rec_texts), tuple(round(s, 4) for s in result.rec_scores), result.dt_polys.tolist())


def test_four_threads_match_sequential(ocr_pipeline, images):
    sequential = [_signature(next(ocr_pipeline.predict(img))) for img in images] * 2
    with ThreadPoolExecutor(max_workers=4) as pool:
        concurrent = list(pool.map(lambda img: _signature(next(ocr_pipeline.predict(img))), images * 2))
    assert concurrent == sequential


# Paddle Inference runs models in Paddle format: the PP-OCRv4 ones (v6/v5 ship as ONNX only).
V4 = {"text_detection_model_name": "PP-OCRv4_mobile_det", "text_recognition_model_name": "PP-OCRv4_mobile_rec",
      "textline_orientation_model_name": "PP-OCRv2_mobile_textline_ori"}


@pytest.mark.parametrize("backend, models", [("onnxruntime", {}), ("openvino", {}), ("onnxruntime", V4),
                                             ("openvino", V4),
                                             pytest.param("paddle", V4, marks=pytest.mark.own_process)])
def test_backends_give_same_texts(backend, models, ocr_pipeline, images):
    if not backends.is_installed(backend):
        pytest.skip(f"{backend} is not installed (pip install \"hpi[cpu]\")")
    from hpi import create_pipeline

    if models:
        with create_pipeline("OCR", device="cpu", use_textline_orientation=True, **models) as reference:
            expected = [next(reference.predict(img)).rec_texts for img in images]
    else:
        expected = [next(ocr_pipeline.predict(img)).rec_texts for img in images]
    with create_pipeline("OCR", device="cpu", backend=backend, use_textline_orientation=True, **models) as pipeline:
        described = pipeline.describe_backends()
        assert all(d.startswith(backend) for d in described.values()), described
        got = [next(pipeline.predict(img)).rec_texts for img in images]
    assert got == expected


@pytest.mark.parametrize("backend", ["onnxruntime", "openvino", pytest.param("paddle", marks=pytest.mark.own_process)])
def test_thread_turnover(backend, images):
    """A server that runs each request on a new thread: one pipeline, each predict on a fresh thread, one
    at a time, then 8 threads at once. Paddle Inference used to fail ("could not execute a primitive")
    about the 6th new thread: its predictor keeps oneDNN state per thread (hpi.backends.paddle)."""
    import threading

    if not backends.is_installed(backend):
        pytest.skip(f"{backend} is not installed (pip install \"hpi[cpu]\")")
    from hpi import create_pipeline

    with create_pipeline("OCR", device="cpu", backend=backend, **(V4 if backend == "paddle" else {})) as pipeline:
        expected = [_signature(next(pipeline.predict(img))) for img in images]
        got: list = []
        errors: list = []

        def run(index: int) -> None:
            try:
                got.append((index, _signature(next(pipeline.predict(images[index % len(images)])))))
            except Exception as exc:  # recorded, asserted below
                errors.append(f"{type(exc).__name__}: {exc}")

        for index in range(10):
            thread = threading.Thread(target=run, args=(index,))
            thread.start()
            thread.join()
        threads = [threading.Thread(target=run, args=(index,)) for index in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert len(got) == 18
    assert all(signature == expected[index % len(images)] for index, signature in got)
