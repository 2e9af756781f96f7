"""Inputs as users have them, and inputs that used to end a batch (issues 12 and 16).

Every bad input here is made by the test. Each case checks that the good inputs around it are read
correctly: a failure stays with its own input.
"""

from __future__ import annotations

import io
import logging
import math
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from rendering import latin_fonts, render_lines

EXPECTED = ["Hellohpiworld", "Secondline123"]


@pytest.fixture(scope="module")
def text_image():
    fonts = latin_fonts()
    if not fonts:
        pytest.skip("no DejaVu fonts to render test images")
    return render_lines(["Hellohpiworld", "Secondline123"], fonts[0], size=30).image


def _texts(result):
    assert result.ok, result
    return ["".join(t.split()) for t in result.rec_texts]


def _pil(image: np.ndarray):
    from PIL import Image

    return Image.fromarray(np.ascontiguousarray(image[:, :, ::-1]))


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header says width×height (a few hundred bytes; a decoder would need GBs)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


# -- what used to end a batch with a traceback ---------------------------------------------------------


def test_oversized_image_long_name_and_unlistable_directory_do_not_end_the_batch(
        ocr_pipeline, text_image, tmp_path, monkeypatch):
    import cv2

    good = tmp_path / "good.png"
    cv2.imwrite(str(good), text_image)
    huge = tmp_path / "huge.png"
    huge.write_bytes(_png_header_only(50000, 50000))
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "a.png").write_bytes(good.read_bytes())
    real_iterdir = Path.iterdir

    def iterdir(self):
        if self == locked:
            raise PermissionError(13, "Permission denied")
        return real_iterdir(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)  # as root, chmod 000 would not stop the listing
    long_name = str(tmp_path / ("x" * 5000 + ".png"))
    results = list(ocr_pipeline.predict([str(good), str(huge), str(locked), long_name, str(good)]))
    assert [r.ok for r in results] == [True, False, False, False, True]
    assert "2,500,000,000 pixels is over the limit of 178,956,970" in str(results[1].error)
    assert "cannot be listed" in str(results[2].error) and results[2].input_path == str(locked)
    assert "cannot be read (File name too long)" in str(results[3].error) and "characters)" in str(results[3].error)
    assert _texts(results[0]) == _texts(results[4]) == EXPECTED


def test_pixel_limit_is_configurable(ocr_pipeline, text_image, tmp_path, monkeypatch):
    from hpi.errors import InputError
    import cv2

    path = tmp_path / "page.png"
    cv2.imwrite(str(path), text_image)
    monkeypatch.setenv("HPI_MAX_IMAGE_PIXELS", "1000")
    with pytest.raises(InputError, match="HPI_MAX_IMAGE_PIXELS"):
        list(ocr_pipeline.predict(str(path)))


def test_empty_and_zero_page_inputs_name_themselves(ocr_pipeline, tmp_path):
    import pypdfium2 as pdfium

    empty = tmp_path / "empty"
    empty.mkdir()
    [result] = ocr_pipeline.predict(str(empty))
    assert not result.ok and result.input_path == str(empty) and result.stem == "empty"
    pdf = tmp_path / "nothing.pdf"
    pdfium.PdfDocument.new().save(str(pdf))
    [result] = ocr_pipeline.predict(str(pdf))
    # PDFium refuses a page-less PDF outright; the message says so without PDFium's stale "(PDFium: Success)".
    assert "not a readable PDF" in str(result.error) and "Success" not in str(result.error)


# -- formats ---------------------------------------------------------------------------------------------


def test_multi_page_tiff_and_animated_gif_give_one_result_per_page(ocr_pipeline, text_image, tmp_path):
    blank = np.full_like(text_image, 255)
    frames = [_pil(text_image), _pil(blank), _pil(text_image)]
    tiff = tmp_path / "scan.tiff"
    frames[0].save(tiff, save_all=True, append_images=frames[1:])
    gif = tmp_path / "anim.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:2], duration=100)
    results = list(ocr_pipeline.predict(str(tiff)))
    assert [r.page_index for r in results] == [0, 1, 2] and [r.stem for r in results] == ["scan_0", "scan_1", "scan_2"]
    assert _texts(results[0]) == _texts(results[2]) == EXPECTED and results[1].rec_texts == []
    results = list(ocr_pipeline.predict(str(gif)))
    assert [r.page_index for r in results] == [0, 1] and _texts(results[0]) == EXPECTED


def test_directory_lists_by_content_and_reports_what_it_skips(ocr_pipeline, text_image, tmp_path, caplog):
    import cv2

    ok, data = cv2.imencode(".png", text_image)
    (tmp_path / "a.GIF").write_bytes(b"")  # listed by name (and reported empty)
    _pil(text_image).save(tmp_path / "b.gif")
    _pil(text_image).save(tmp_path / "c.TIF")
    (tmp_path / "d_no_extension").write_bytes(data.tobytes())
    (tmp_path / "notes.txt").write_text("not an image")
    with caplog.at_level(logging.WARNING, logger="hpi.inputs"):
        results = list(ocr_pipeline.predict(str(tmp_path)))
    assert [Path(r.input_path).name for r in results] == ["a.GIF", "b.gif", "c.TIF", "d_no_extension"]
    assert [r.ok for r in results] == [False, True, True, True]
    assert all(_texts(r) == EXPECTED for r in results[1:])
    assert "skipped 1 file(s) that are neither images nor PDFs: notes.txt" in caplog.text


@pytest.mark.parametrize("suffix", ["jpg", "png"])
def test_exif_orientation_of_a_png_too(text_image, tmp_path, suffix):
    """A PNG may carry EXIF (an eXIf chunk) like a JPEG: the reader turns it upright; a PNG without one is
    read as stored (its EXIF is not looked for by decoding the whole image first)."""
    from PIL import Image

    from hpi.inputs import decode_image_pages, probe_image

    img = _pil(text_image).transpose(Image.Transpose.ROTATE_90)
    exif = img.getexif()
    exif[0x0112] = 6
    path = tmp_path / f"photo.{suffix}"
    img.save(path, exif=exif, **({"quality": 95} if suffix == "jpg" else {}))
    data = path.read_bytes()
    assert probe_image(data).orientation == 6
    [page] = decode_image_pages(data, path.name)
    assert page.shape[:2] == text_image.shape[:2]
    img.save(tmp_path / "plain.png")
    plain = (tmp_path / "plain.png").read_bytes()
    assert probe_image(plain).orientation == 1
    assert decode_image_pages(plain, "plain.png")[0].shape[:2] == text_image.shape[::-1][1:3]


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_is_applied(ocr_pipeline, text_image, tmp_path, orientation):
    """A phone photo is stored sideways with an EXIF tag saying how to turn it; viewers and PaddleX
    (cv2.imread) show it upright, so hpi reads it upright."""
    from PIL import Image

    stored = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90, 8: Image.Transpose.ROTATE_270}
    img = _pil(text_image).transpose(stored[orientation])
    exif = img.getexif()
    exif[0x0112] = orientation
    path = tmp_path / f"photo{orientation}.jpg"
    img.save(path, exif=exif, quality=95)
    result = next(ocr_pipeline.predict(str(path), use_textline_orientation=False))
    assert _texts(result) == EXPECTED
    assert result.image.shape[:2] == text_image.shape[:2]


def test_gray_alpha_palette_and_cmyk(ocr_pipeline, text_image, tmp_path):
    from PIL import Image

    gray = np.asarray(_pil(text_image).convert("L"))
    la = Image.fromarray(np.dstack([gray, np.full_like(gray, 255)]), "LA")
    la.save(tmp_path / "la.png")
    _pil(text_image).convert("P", palette=Image.Palette.ADAPTIVE, colors=16).save(tmp_path / "palette.png")
    _pil(text_image).convert("CMYK").save(tmp_path / "cmyk.jpg", quality=95)
    for name in ("la.png", "palette.png", "cmyk.jpg"):
        assert _texts(next(ocr_pipeline.predict(str(tmp_path / name)))) == EXPECTED, name
    array = np.dstack([gray, np.full_like(gray, 255)])  # H×W×2 arrays too
    assert _texts(next(ocr_pipeline.predict(array))) == EXPECTED


@pytest.mark.parametrize("ink, paper", [(0, 255), (255, 0)])
def test_transparent_png_keeps_its_text_dark_or_light(ocr_pipeline, text_image, tmp_path, ink, paper):
    """Text drawn on a transparent sheet: white text must not vanish when composited."""
    gray = np.asarray(_pil(text_image).convert("L")).astype(np.float32)
    coverage = 1.0 - gray / 255.0  # 1 where the glyphs are
    rgba = np.zeros(gray.shape + (4,), np.uint8)
    rgba[:, :, :3] = ink
    rgba[:, :, 3] = np.round(coverage * 255).astype(np.uint8)
    path = tmp_path / f"ink{ink}.png"
    from PIL import Image

    Image.fromarray(rgba, "RGBA").save(path)
    assert _texts(next(ocr_pipeline.predict(str(path)))) == EXPECTED


# -- limits -----------------------------------------------------------------------------------------------


def test_very_wide_image_warns(ocr_pipeline, caplog):
    strip = np.full((200, 20000, 3), 255, np.uint8)
    with caplog.at_level(logging.WARNING, logger="hpi.predictors.text_detection"):
        result = next(ocr_pipeline.predict(strip))
    assert result.ok
    assert "A 20000×200 image is detected at" in caplog.text and "text_det_max_side_limit" in caplog.text


def test_huge_pdf_page_renders_within_the_pixel_cap(ocr_pipeline, text_image, tmp_path, caplog, monkeypatch):
    # 200 px at 1 dpi: a 200 in × 200 in page (PaddleX's scale 2.0 would render 28800×28800 pixels).
    from PIL import Image

    from hpi.inputs import DEFAULT_PDF_MAX_PIXELS
    from hpi.pdf import render_scale

    pdf = tmp_path / "poster.pdf"
    Image.new("RGB", (200, 200), (255, 255, 255)).save(pdf, resolution=1)
    # The default cap (64 M pixels) by the rule alone: rendering and reading such a page costs gigabytes,
    # which the allocator keeps for the rest of the test run; the rendering itself under a smaller cap.
    scale = render_scale(14400, 14400, DEFAULT_PDF_MAX_PIXELS)
    assert math.ceil(14400 * scale) ** 2 <= DEFAULT_PDF_MAX_PIXELS and 14400 * scale > 7000
    monkeypatch.setenv("HPI_PDF_MAX_PIXELS", "4000000")
    with caplog.at_level(logging.WARNING, logger="hpi.inputs"):
        [result] = list(ocr_pipeline.predict(str(pdf)))
    height, width = result.image.shape[:2]
    assert result.ok and height * width <= 4_000_000 and height > 1900
    assert "HPI_PDF_MAX_PIXELS" in caplog.text


def test_result_picture_is_bounded(tmp_path):
    from PIL import Image

    from hpi.results import OCRResult

    polys = np.array([[[1000, 1000], [11000, 1000], [11000, 2000], [1000, 2000]]], np.int32)
    result = OCRResult(
        input_path=None, page_index=None, image=np.full((9000, 12000, 3), 255, np.uint8), model_settings={},
        dt_polys=polys, text_det_params={}, text_type="general", textline_orientation_angles=[-1],
        text_rec_score_thresh=0.0, rec_texts=["big"], rec_scores=[0.9], rec_polys=polys, stem="big",
    )
    with Image.open(result.save_to_img(tmp_path)) as img:
        assert img.size == (8000, 3000)


def test_pdfs_read_from_many_threads_at_once_render_identically(text_image, tmp_path):
    # PDFium is not thread-safe; hpi.pdf serialises every call into it (a pipeline and a server thread may
    # both read PDFs). Without the lock this crashes or garbles pages.
    from concurrent.futures import ThreadPoolExecutor

    from hpi.inputs import iter_items

    pdf = tmp_path / "pages.pdf"
    pages = [_pil(text_image), _pil(text_image[:, ::-1].copy()), _pil(text_image[::-1].copy())]
    pages[0].save(pdf, save_all=True, append_images=pages[1:], resolution=72.0)

    def read(_):
        items, _ = iter_items(str(pdf))
        return [item.image for item in items]

    expected = read(0)
    assert len(expected) == 3 and all(image is not None for image in expected)
    with ThreadPoolExecutor(8) as pool:
        for images in pool.map(read, range(24)):
            assert all(np.array_equal(a, b) for a, b in zip(images, expected, strict=True))


# -- one reader for the library and the server ---------------------------------------------------------------


def test_the_server_reads_the_pixels_predict_reads(text_image, tmp_path):
    """Every format above, sent as a request's bytes, yields the arrays ``predict`` gets from the file
    (the server once dropped alpha, so text on a transparent sheet read nothing, and a GIF's second frame)."""
    from PIL import Image

    from hpi.inputs import iter_items
    from hpi.serving.files import decode_file

    gray = np.asarray(_pil(text_image).convert("L"))
    coverage = np.round((1.0 - gray / 255.0) * 255).astype(np.uint8)
    frames = [_pil(text_image), _pil(np.full_like(text_image, 255))]
    files = {}
    for ink in (0, 255):
        rgba = np.zeros(gray.shape + (4,), np.uint8)
        rgba[:, :, :3], rgba[:, :, 3] = ink, coverage
        files[f"ink{ink}.png"] = lambda p, a=rgba: Image.fromarray(a, "RGBA").save(p)
    files.update({
        "plain.png": lambda p: _pil(text_image).save(p),
        "la.png": lambda p: Image.fromarray(np.dstack([gray, coverage]), "LA").save(p),
        "palette.png": lambda p: _pil(text_image).convert("P", palette=Image.Palette.ADAPTIVE, colors=16).save(p),
        "cmyk.jpg": lambda p: _pil(text_image).convert("CMYK").save(p, quality=95),
        "scan.tiff": lambda p: frames[0].save(p, save_all=True, append_images=frames[1:]),
        "anim.gif": lambda p: frames[0].save(p, save_all=True, append_images=frames[1:], duration=100),
        "page.bmp": lambda p: _pil(text_image).save(p),
        "page.webp": lambda p: _pil(text_image).save(p, lossless=True),
    })
    rotated = _pil(text_image).transpose(Image.Transpose.ROTATE_90)
    exif = rotated.getexif()
    exif[0x0112] = 6
    files["photo.jpg"] = lambda p: rotated.save(p, exif=exif, quality=95)
    for name, write in files.items():
        path = tmp_path / name
        write(path)
        library = [item.image for item in iter_items(str(path))[0]]
        served, info = decode_file(path.read_bytes(), "IMAGE", max_pixels=10**9, max_pages=10)
        assert len(served) == len(library) and all(a.shape == b.shape and np.array_equal(a, b)
                                                   for a, b in zip(served, library)), name
        assert (info.get("numPages") or 1) == len(library), name
    assert decode_file((tmp_path / "scan.tiff").read_bytes(), "IMAGE", max_pixels=10**9, max_pages=10)[1][
        "type"] == "tiff"
    # PDFs: the same renderer and scale rule (hpi.pdf.render_scale) with the same pixel cap give the same pages.
    pdf = tmp_path / "doc.pdf"
    frames[0].save(pdf, save_all=True, append_images=frames[1:], resolution=72)
    library = [item.image for item in iter_items(str(pdf))[0]]
    served, info = decode_file(pdf.read_bytes(), "PDF", max_pixels=64_000_000, max_pages=10)
    assert info["numPages"] == len(library) == 2
    assert all(np.array_equal(a, b) for a, b in zip(served, library))


def test_batch_jobs_and_input_dirs_count_the_same_files_as_inputs(text_image, tmp_path):
    """``hpi batch`` (a tree, mirrored into its output) and ``--input DIR`` (one directory) take a file as an
    input by the same rule: an image or PDF suffix, or an image's content without one."""
    import cv2

    from hpi.inputs import iter_items
    from hpi.serving.ray_batch import list_inputs

    png = cv2.imencode(".png", text_image)[1].tobytes()
    (tmp_path / "a.png").write_bytes(png)
    (tmp_path / "scan_without_suffix").write_bytes(png)
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.bin").write_bytes(png)
    assert list_inputs(tmp_path) == ["a.png", "scan_without_suffix", "sub/b.bin"]
    assert [Path(item.input_path).name for item in iter_items(str(tmp_path))[0]] == ["a.png", "scan_without_suffix"]
