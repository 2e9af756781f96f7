"""Bad and unusual inputs: a clear error for that input or a correct empty result; a batch never stops."""

from __future__ import annotations

import io

import numpy as np
import pytest

from hpi.errors import InputError
from rendering import latin_fonts, render_lines


@pytest.fixture(scope="module")
def text_image():
    fonts = latin_fonts()
    if not fonts:
        pytest.skip("no DejaVu fonts to render test images")
    return render_lines(["Hellohpiworld", "Secondline123"], fonts[0], size=30)


def _png_bytes(image: np.ndarray) -> bytes:
    import cv2

    ok, data = cv2.imencode(".png", image)
    assert ok
    return data.tobytes()


def _jpeg_bytes(image: np.ndarray) -> bytes:
    import cv2

    ok, data = cv2.imencode(".jpg", image)
    assert ok
    return data.tobytes()


def _texts(result):
    return ["".join(t.split()) for t in result.rec_texts]


def test_missing_file_raises_clear_error(ocr_pipeline, tmp_path):
    with pytest.raises(InputError, match="no such file"):
        list(ocr_pipeline.predict(str(tmp_path / "missing.png")))


def test_directory_without_images(ocr_pipeline, tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    results = list(ocr_pipeline.predict(str(tmp_path)))
    assert len(results) == 1 and not results[0].ok
    assert "no images" in str(results[0].error)


@pytest.mark.parametrize(
    "name, make, message",
    [
        ("not_image.png", lambda img: b"this is not an image at all", "not a readable image"),
        ("empty.png", lambda img: b"", "empty"),
        ("truncated.png", lambda img: _png_bytes(img)[: len(_png_bytes(img)) // 2], "truncated"),
        ("truncated.jpg", lambda img: _jpeg_bytes(img)[: len(_jpeg_bytes(img)) // 2], "truncated"),
    ],
)
def test_bad_file_in_batch_is_reported_and_batch_goes_on(ocr_pipeline, tmp_path, text_image, name, make, message):
    good = tmp_path / "a_good.png"
    good.write_bytes(_png_bytes(text_image.image))
    bad = tmp_path / name
    bad.write_bytes(make(text_image.image))
    good2 = tmp_path / "z_good.png"
    good2.write_bytes(_png_bytes(text_image.image))
    results = list(ocr_pipeline.predict(str(tmp_path)))
    assert [r.ok for r in results] == [True, False, True]
    assert message in str(results[1].error)
    assert name in str(results[1].error)
    assert _texts(results[0]) == _texts(results[2]) == ["Hellohpiworld", "Secondline123"]
    # Alone, the same file raises a clear InputError.
    with pytest.raises(InputError, match=message):
        list(ocr_pipeline.predict(str(bad)))


def test_grayscale_rgba_and_16bit(ocr_pipeline, tmp_path, text_image):
    import cv2

    gray = cv2.cvtColor(text_image.image, cv2.COLOR_BGR2GRAY)
    rgba = cv2.cvtColor(text_image.image, cv2.COLOR_BGR2BGRA)
    rgba[:, :, 3] = 255
    deep = gray.astype(np.uint16) * 257
    paths = []
    for name, image in (("gray.png", gray), ("rgba.png", rgba), ("deep.png", deep)):
        path = tmp_path / name
        assert cv2.imwrite(str(path), image)
        paths.append(str(path))
    for result in ocr_pipeline.predict(paths):
        assert result.ok, result
        assert _texts(result) == ["Hellohpiworld", "Secondline123"], result.input_path
    # Arrays too: gray 2-D and BGRA.
    assert _texts(next(ocr_pipeline.predict(gray))) == ["Hellohpiworld", "Secondline123"]


def test_tiny_and_blank_images_give_empty_results(ocr_pipeline):
    for image in (np.full((1, 1, 3), 255, np.uint8), np.full((300, 400, 3), 255, np.uint8), np.zeros((64, 64, 3), np.uint8)):
        result = next(ocr_pipeline.predict(image))
        assert result.ok
        assert result.rec_texts == [] and len(result.dt_polys) == 0
        assert result.json["res"]["rec_boxes"].shape == (0, 4)


def test_huge_image_is_resized_by_limits(ocr_pipeline, text_image):
    import tracemalloc

    big = np.full((9000, 12000, 3), 255, np.uint8)
    h, w = text_image.image.shape[:2]
    big[4000:4000 + h, 6000:6000 + w] = text_image.image
    tracemalloc.start()
    result = next(ocr_pipeline.predict(big, text_det_max_side_limit=2000))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # The det input is at most 2000 px on its long side; Python-side allocations stay far below
    # what a full-size float copy of the image would take (12000*9000*3*4 bytes = 1.3 GB).
    assert peak < 400 * 2**20, peak
    assert result.text_det_params["max_side_limit"] == 2000
    assert result.ok


def test_wrong_array_shapes_raise(ocr_pipeline):
    with pytest.raises(InputError, match="not an image"):
        list(ocr_pipeline.predict(np.zeros((4, 4, 7), np.uint8)))
    with pytest.raises(InputError, match="dtype"):
        list(ocr_pipeline.predict(np.zeros((4, 4, 3), np.int64)))


def _make_pdf(pages: list[np.ndarray]) -> bytes:
    from PIL import Image

    images = [Image.fromarray(p[:, :, ::-1]) for p in pages]
    buffer = io.BytesIO()
    images[0].save(buffer, format="PDF", save_all=True, append_images=images[1:], resolution=72)
    return buffer.getvalue()


def test_pdf_pages(ocr_pipeline, tmp_path, text_image):
    blank = np.full_like(text_image.image, 255)
    pdf = tmp_path / "doc.pdf"
    pdf.write_bytes(_make_pdf([text_image.image, blank, text_image.image]))
    results = list(ocr_pipeline.predict(str(pdf)))
    assert [r.page_index for r in results] == [0, 1, 2]
    assert _texts(results[0]) == _texts(results[2]) == ["Hellohpiworld", "Secondline123"]
    assert results[1].rec_texts == []
    assert results[0].stem == "doc_0"


def test_corrupt_pdf_page_is_reported(ocr_pipeline, tmp_path, text_image):
    data = _make_pdf([text_image.image, text_image.image])
    # Corrupt the second page's image stream: the page object survives, its content does not decode.
    marker = data.rfind(b"stream")
    corrupt = data[: marker + 10] + b"\x00garbage\xff" * 40 + data[marker + 10 + 360 :]
    pdf = tmp_path / "corrupt.pdf"
    pdf.write_bytes(corrupt)
    results = list(ocr_pipeline.predict([str(pdf), text_image.image]))
    # Whatever pdfium makes of the damaged page, the batch finishes and the array input is read.
    assert results[-1].ok and _texts(results[-1]) == ["Hellohpiworld", "Secondline123"]
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4\n garbage")
    results = list(ocr_pipeline.predict([str(broken), text_image.image]))
    assert not results[0].ok and "PDF" in str(results[0].error)
    assert results[1].ok


def test_a_failure_inside_the_engine_on_one_image_does_not_end_the_batch(ocr_pipeline, text_image, monkeypatch):
    """Not only unreadable files: a backend or kernel failing on one image is reported, the rest go on."""
    from hpi.errors import BackendError

    detector = ocr_pipeline.predictor("text_detection")
    real = detector.predict
    calls = {"n": 0}

    def flaky(image, params, times):
        calls["n"] += 1
        if calls["n"] == 2:
            raise BackendError("simulated: the det backend failed on this image")
        if calls["n"] == 3:
            raise RuntimeError("simulated bug")
        return real(image, params, times)

    monkeypatch.setattr(detector, "predict", flaky)
    results = list(ocr_pipeline.predict([text_image.image] * 4))
    assert [r.ok for r in results] == [True, False, False, True]
    assert "simulated: the det backend failed" in str(results[1].error)
    assert "RuntimeError: simulated bug" in str(results[2].error)
    calls["n"] = 2  # alone, with on_error="raise" (the default for one input), the error propagates
    with pytest.raises(RuntimeError):
        list(ocr_pipeline.predict(text_image.image))
