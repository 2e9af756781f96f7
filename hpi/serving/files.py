"""A request's ``file`` → page images and PaddleX's ``dataInfo``; result pictures → base64 JPEG/PNG.

PaddleX's rules: ``file`` is base64 (or an http(s) URL, here only when the
server allows URLs); ``fileType`` 0 is a PDF, 1 an image, and when it is
missing only a URL's extension can tell. PDF pages render at scale 2.0
(lowered when a page would exceed the pixel cap), only the first
``max_pdf_pages``. Images are decoded by the library's own decoder
(:func:`hpi.inputs.decode_image_pages`), so a request yields the pixels
``predict`` gets from the same file: transparency composited, EXIF orientation
applied, one image per TIFF page or GIF frame. ``dataInfo.numPages`` counts the
pages rendered.
"""

from __future__ import annotations

import base64
import binascii
import math
import mimetypes
import urllib.parse
from typing import Any

import numpy as np

from ..pdf import PDF_MIN_RENDER_SCALE, render_scale
from ..urls import is_url



class FileError(Exception):
    """The request's file cannot be used: HTTP ``status`` and PaddleX's message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def file_kind(file: str, file_type: int | None) -> str:
    """``"PDF"`` or ``"IMAGE"``: from ``fileType``, else from a URL's extension (PaddleX's rule)."""
    if file_type is not None:
        return "PDF" if file_type == 0 else "IMAGE"
    if not is_url(file):
        raise FileError(422, "File type cannot be determined")
    guessed = mimetypes.guess_type(urllib.parse.urlparse(file).path.split("/")[-1])[0] or ""
    if guessed == "application/pdf":
        return "PDF"
    if guessed.startswith("image/"):
        return "IMAGE"
    raise FileError(422, "Unsupported file type")


def file_bytes(file: str, *, allow_url: bool, max_bytes: int, url_timeout_s: float) -> bytes:
    """The file's bytes: base64-decoded, or fetched from its URL when the server allows URLs."""
    if is_url(file):
        if not allow_url:
            raise FileError(422, "Invalid input file: this server does not fetch URLs (start it with --allow-url); "
                                 "send the file's bytes as base64")
        from ..errors import InputError
        from ..urls import ResponseTooLarge, fetch_url

        # hpi's own URL reader: http(s) only (redirects too), a deadline on the whole download.
        try:
            data, _ = fetch_url(file, timeout=url_timeout_s, max_bytes=max_bytes)
        except ResponseTooLarge as exc:
            raise FileError(413, f"The file at the URL is too large: {exc}") from None
        except InputError as exc:
            raise FileError(422, f"Invalid input file: the URL could not be fetched ({exc})") from None
        return data
    try:
        # Not validating, like PaddleX (base64.b64decode's default): clients that wrap lines keep working.
        data = base64.b64decode(file)
    except (binascii.Error, ValueError) as exc:
        raise FileError(422, f"Invalid input file: not valid base64 ({exc})") from None
    if not data:
        raise FileError(422, "Invalid input file: the file is empty")
    return data


def pixel_error(width: int, height: int, max_pixels: int, page: int | None = None) -> FileError:
    message = (f"Image pixel count {width * height} (width={width}, height={height}) exceeds maximum allowed "
               f"{max_pixels}.")
    return FileError(422, f"Page {page}: {message}" if page is not None else message)


def decode_file(data: bytes, kind: str, *, max_pixels: int, max_pages: int) -> tuple[list[np.ndarray], dict]:
    """(BGR uint8 page images, PaddleX's ``dataInfo``) of a file's bytes."""
    if kind == "PDF":
        return _decode_pdf(data, max_pixels, max_pages)
    return _decode_image(data, max_pixels, max_pages)


def _decode_image(data: bytes, max_pixels: int, max_pages: int) -> tuple[list[np.ndarray], dict]:
    """The library's decoder (:func:`hpi.inputs.decode_image_pages`: alpha composited, EXIF orientation, every
    page of a TIFF and frame of a GIF), so a request yields the pixels ``predict`` gets from the same file;
    PaddleX's pixel cap and messages."""
    from ..errors import InputError
    from ..inputs import decode_image_pages, probe_image

    size, _, _, image_format = probe_image(data)
    if size is not None and size[0] * size[1] > max_pixels:
        raise pixel_error(size[0], size[1], max_pixels)
    try:
        pages = decode_image_pages(data, "file", max_pages=max_pages)
    except InputError as exc:
        raise FileError(422, f"Invalid input file: {str(exc).removeprefix('file: ')}") from None
    for page, image in enumerate(pages, start=1):
        if image.shape[0] * image.shape[1] > max_pixels:
            raise pixel_error(image.shape[1], image.shape[0], max_pixels, page if len(pages) > 1 else None)
    if len(pages) == 1:
        return pages, {**_size(pages[0]), "type": "image"}
    info = {"numPages": len(pages), "pages": [_size(p) for p in pages]}
    if image_format == "TIFF":
        return pages, {**info, "type": "tiff"}  # PaddleX's multi-page TIFF form
    # Frames of another format (GIF): PaddleX's image form (first frame's size) with the pages besides.
    return pages, {**_size(pages[0]), "type": "image", **info}


def _size(image: np.ndarray) -> dict:
    return {"width": int(image.shape[1]), "height": int(image.shape[0])}


def pdf_scale(width_pt: float, height_pt: float, max_pixels: int, page: int) -> float:
    """PaddleX's render scale (2.0) unless the page would exceed ``max_pixels`` (:func:`hpi.pdf.render_scale`,
    the library's rule too); PaddleX's messages when the page has no size or cannot fit."""
    if not (width_pt > 0 and height_pt > 0):
        raise FileError(422, f"Invalid input file: page {page} has size {width_pt}×{height_pt}")
    scale = render_scale(width_pt, height_pt, max_pixels)
    if scale is None:
        width, height = math.ceil(width_pt * PDF_MIN_RENDER_SCALE), math.ceil(height_pt * PDF_MIN_RENDER_SCALE)
        raise pixel_error(width, height, max_pixels, page)
    return scale


def _decode_pdf(data: bytes, max_pixels: int, max_pages: int) -> tuple[list[np.ndarray], dict]:
    from ..pdf import PDFDocument, PDFError

    images: list[np.ndarray] = []
    try:
        document = PDFDocument(data)
    except PDFError as exc:
        raise FileError(422, f"Invalid input file: {exc}") from None
    with document:
        for index in range(min(document.num_pages, max_pages)):
            try:
                scale = pdf_scale(*document.page_size(index), max_pixels, index + 1)
                images.append(document.render(index, scale, f"page {index + 1}"))
            except FileError:
                raise
            except PDFError as exc:
                raise FileError(422, f"Invalid input file: page {index + 1} {exc}") from None
            except Exception as exc:
                raise FileError(422, f"Invalid input file: page {index + 1} cannot be rendered ({exc})") from None
    if not images:
        raise FileError(422, "Invalid input file: the PDF has no pages")
    return images, {"numPages": len(images), "pages": [_size(i) for i in images], "type": "pdf"}


def encode_image(image: Any, max_size: tuple[int, int] | None, ext: str = ".jpg") -> str:
    """A BGR array or PIL image → base64 JPEG (or PNG), fitted into ``max_size`` (width, height) like PaddleX."""
    from .._deps import import_cv2

    cv2 = import_cv2()
    if not isinstance(image, np.ndarray):  # PIL
        image = np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])
    height, width = image.shape[:2]
    if max_size is not None and (width > max_size[0] or height > max_size[1]):
        factor = min(max_size[0] / width, max_size[1] / height)
        image = cv2.resize(image, (max(1, int(width * factor)), max(1, int(height * factor))),
                           interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(ext, image)
    if not ok:
        raise ValueError(f"OpenCV could not encode a {width}×{height} picture as {ext}")
    return base64.b64encode(encoded.tobytes()).decode("ascii")


__all__ = ["FileError", "decode_file", "encode_image", "file_bytes", "file_kind", "is_url", "pdf_scale"]
