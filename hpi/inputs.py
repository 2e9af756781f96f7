"""Reading pipeline inputs: paths, directories, lists, numpy arrays, PDFs and multi-page images.

Every problem with one input becomes an :class:`InputError` that names the
input and says what to do; the pipeline decides whether that stops the call
(a single input) or is reported while the batch goes on. Nothing raised while
reading one input (a permission error, an OpenCV limit, a path the OS
refuses) can end a batch.

Limits (documented in the README, "Inputs"): an image may have at most
``HPI_MAX_IMAGE_PIXELS`` pixels (default 178,956,970, PaddleX's serving cap);
PDF pages render at PaddleX's scale 2.0 unless that would exceed
``HPI_PDF_MAX_PIXELS`` (default 64 M pixels), when the scale is lowered.

An ``http://`` or ``https://`` URL is an input too: its body is fetched with
urllib (the user's proxy settings apply) within ``HPI_URL_TIMEOUT_S`` seconds
(default 30) and ``HPI_URL_MAX_BYTES`` bytes (default 100 MB), then decoded like
a file (a PDF by its content type or signature). The result's ``input_path`` is
the URL, its stem the URL path's file stem. Other schemes are refused.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, NamedTuple

import numpy as np

from ._deps import import_cv2
from .errors import InputError
from .pdf import PDF_MIN_RENDER_SCALE, PDF_RENDER_SCALE, PDFDocument, PDFError, render_scale
from .urls import env_number, fetch_url, is_url, url_stem, url_suffix

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {
    ".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".bmp", ".dib", ".tif", ".tiff", ".webp", ".jp2", ".gif",
    ".pbm", ".pgm", ".ppm", ".pnm",
}
PDF_SUFFIXES = {".pdf"}
DEFAULT_MAX_IMAGE_PIXELS = 178_956_970  # PaddleX's serving cap
DEFAULT_PDF_MAX_PIXELS = 64_000_000
# File signatures: a directory listing includes files whose content is an image or PDF, whatever their name.
_SIGNATURES = (
    b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*", b"%PDF-",
    b"\x00\x00\x00\x0cjP  ",
)


def _limit(name: str, default: int) -> int:
    return env_number(name, default, int, "a positive whole number of pixels")


@dataclass
class InputItem:
    """One image to process, or the error that stopped it from being read."""

    input_path: str | None
    page_index: int | None
    image: np.ndarray | None = None
    error: InputError | None = None
    index: int = 0  # position in the stream, for naming array inputs

    @property
    def stem(self) -> str:
        return input_stem(self.input_path, self.page_index, f"image_{self.index}", "input")


def input_stem(input_path: str | None, page_index: int | None, unnamed: str, fallback: str) -> str:
    """The name results of an input are saved under: its file's stem (a URL's last part), ``_<page>`` for a
    page or group; ``unnamed`` for an input without a path (an array, a DataFrame), ``fallback`` for a path
    without a stem."""
    if input_path is None:
        base = unnamed
    elif is_url(input_path):
        base = url_stem(input_path)
    else:
        base = Path(input_path).stem or fallback  # an empty stem means an empty name too
    return base if page_index is None else f"{base}_{page_index}"


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # a name the OS refuses (too long, ...): not a directory; reading it says why
        return False


def expand_inputs(inputs) -> tuple[list, bool]:
    """Flatten ``inputs`` to a list of paths/arrays (or InputErrors); the flag says whether it is a batch."""
    if isinstance(inputs, np.ndarray):
        return [inputs], False
    if isinstance(inputs, str) and is_url(inputs):
        return [inputs], url_suffix(inputs) in PDF_SUFFIXES  # a PDF's pages are a batch, as for a file
    if isinstance(inputs, (str, Path)):
        path = Path(inputs).expanduser()
        if _is_dir(path):
            return _list_dir(path), True
        # A PDF is a batch of pages; a single image (a multi-page TIFF too) raises its error.
        return [str(inputs)], path.suffix.lower() in PDF_SUFFIXES
    if isinstance(inputs, (list, tuple)):
        items: list = []
        for entry in inputs:
            if isinstance(entry, str) and is_url(entry):
                items.append(entry)
            elif isinstance(entry, (str, Path)) and _is_dir(Path(entry).expanduser()):
                items.extend(_list_dir(Path(entry).expanduser()))
            elif isinstance(entry, (str, Path, np.ndarray)):
                items.append(entry if isinstance(entry, np.ndarray) else str(entry))
            elif isinstance(entry, InputError):  # an already expanded list (the CLI's) keeps its errors
                items.append(entry)
            else:
                items.append(InputError(f"Unsupported input of type {type(entry).__name__}; give a path or a numpy array."))
        return items, True
    raise InputError(
        f"Unsupported input of type {type(inputs).__name__}. Give an image/PDF path, a directory, "
        "a numpy array (H×W×3 BGR uint8) or a list of those."
    )


class _DirectoryError(InputError):
    """A directory that cannot be listed or holds nothing to read: its path is the input."""

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.path = str(path)


def _list_dir(path: Path) -> list:
    try:
        files = sorted(p for p in path.iterdir() if p.is_file())
    except OSError as exc:
        return [_DirectoryError(f"{path}: the directory cannot be listed ({exc.strerror or exc}).", path)]
    chosen, skipped = [], []
    for file in files:
        if is_input_file(file):
            chosen.append(str(file))
        else:
            skipped.append(file.name)
    if skipped:
        shown = ", ".join(skipped[:5]) + (f" and {len(skipped) - 5} more" if len(skipped) > 5 else "")
        log.warning("%s: skipped %d file(s) that are neither images nor PDFs: %s", path, len(skipped), shown)
    if not chosen:
        return [_DirectoryError(
            f"Directory {str(path)!r} has no images or PDFs (looked for "
            f"{', '.join(sorted(IMAGE_SUFFIXES | PDF_SUFFIXES))}, and at each file's content).", path
        )]
    return chosen


def is_input_file(file: Path) -> bool:
    """Whether a file in a directory is an input: an image or PDF by its suffix, or by its content."""
    return file.suffix.lower() in IMAGE_SUFFIXES | PDF_SUFFIXES or _has_image_signature(file)


def _has_image_signature(file: Path) -> bool:
    try:
        with open(file, "rb") as handle:
            head = handle.read(16)
    except OSError:
        return False
    return head.startswith(_SIGNATURES) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


def iter_items(inputs) -> tuple[Iterator[InputItem], bool]:
    """Items to process (images decoded lazily, pages one by one) and whether this is a batch."""
    entries, is_batch = expand_inputs(inputs)

    def generate() -> Iterator[InputItem]:
        index = 0
        for entry in entries:
            for item in _items_of(entry):
                item.index = index
                index += 1
                yield item

    return generate(), is_batch


def _items_of(entry) -> Iterator[InputItem]:
    """The items of one entry; whatever goes wrong reading it becomes that entry's InputError."""
    if isinstance(entry, _DirectoryError):
        yield InputItem(entry.path, None, error=entry)
    elif isinstance(entry, InputError):
        yield InputItem(None, None, error=entry)
    elif isinstance(entry, np.ndarray):
        try:
            yield InputItem(None, None, image=to_bgr(entry, "the numpy array"))
        except InputError as exc:
            yield InputItem(None, None, error=exc)
    else:
        try:
            yield from (_iter_url(entry) if is_url(entry) else _iter_file(entry))
        except InputError as exc:
            yield InputItem(entry, None, error=exc)
        except Exception as exc:  # an OS or library error on one file must not end a batch
            yield InputItem(entry, None, error=InputError(f"{entry}: cannot be read ({type(exc).__name__}: {exc})."))


def _iter_file(path: str) -> Iterator[InputItem]:
    if Path(path).suffix.lower() in PDF_SUFFIXES:
        yield from _iter_pdf(path)
        return
    data = _read_bytes(path)
    if data.startswith(b"%PDF-"):
        yield from _iter_pdf(path)
        return
    yield from _image_items(path, data)


def _image_items(source: str, data: bytes) -> Iterator[InputItem]:
    """The items of an encoded image: one, or one per page (``page_index``) of a multi-page file."""
    pages = decode_image_pages(data, source)
    if len(pages) == 1:
        yield InputItem(source, None, image=pages[0])
    else:
        for page_index, page in enumerate(pages):
            yield InputItem(source, page_index, image=page)


def _read_bytes(path: str) -> bytes:
    file = Path(path).expanduser()
    try:
        if not file.exists():
            raise InputError(f"{path}: no such file. Check the path.")
        if file.is_dir():
            raise InputError(f"{path}: is a directory with no images.")
        data = file.read_bytes()
    except InputError:
        raise
    except OSError as exc:
        name = path if len(path) <= 200 else f"{path[:80]}…({len(path)} characters)"
        raise InputError(f"{name}: cannot be read ({exc.strerror or exc}).") from None
    if not data:
        raise InputError(f"{path}: the file is empty (0 bytes).")
    return data


def _check_complete(path: str, data: bytes) -> None:
    """Catch truncated PNG/JPEG files, which OpenCV would decode partially with only a warning."""
    head = data[:8]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        if b"IEND" not in data[-32:]:
            raise InputError(f"{path}: the PNG file is truncated (no IEND chunk at its end). Re-export or re-download it.")
    elif head.startswith(b"\xff\xd8"):
        if b"\xff\xd9" not in data[-16:]:
            raise InputError(f"{path}: the JPEG file is truncated (no end-of-image marker). Re-export or re-download it.")


def decode_image_pages(data: bytes, what: str, max_pages: int | None = None) -> list[np.ndarray]:
    """Encoded image bytes → one BGR uint8 array per page (TIFF pages, GIF frames; the first ``max_pages``),
    EXIF orientation applied, transparency composited. The one image decoder: ``predict`` and the server
    (:mod:`hpi.serving.files`) read the same pixels from the same bytes."""
    _check_complete(what, data)
    size, frames, orientation, _ = probe_image(data)
    if size is not None:
        _check_pixels(what, *size)
    if frames > 1:
        pages = []
        for i, frame in enumerate(_pil_frames(data, what)):
            if max_pages is not None and i >= max_pages:
                break
            pages.append(to_bgr(frame, f"{what} page {i}"))
        return pages
    cv2 = import_cv2()
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error as exc:  # e.g. OpenCV's own pixel limit
        raise InputError(f"{what}: OpenCV cannot decode it ({str(exc).strip().splitlines()[-1][:200]}).") from None
    if image is None and size is not None:
        image = next(iter(_pil_frames(data, what)))  # formats OpenCV lacks (GIF on some builds)
    if image is None:
        raise InputError(
            f"{what}: not a readable image (OpenCV cannot decode it). Supported: "
            f"{', '.join(sorted(IMAGE_SUFFIXES))} and .pdf."
        )
    return [_apply_orientation(to_bgr(image, what), orientation)]


class ImageHeader(NamedTuple):
    """What an image file's header says: (width, height) or None, frame count, EXIF orientation, format."""

    size: tuple[int, int] | None
    frames: int
    orientation: int
    format: str | None


def probe_image(data: bytes) -> ImageHeader:
    """The header of encoded image bytes, without decoding the pixels (the server's pixel cap reads it too)."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            orientation = 1
            # PIL reads a PNG's EXIF by decoding the whole image when the header chunks have none (doubling
            # the decode of every PNG: 4.7 ms of 9 on a 640×480 photo); a PNG without an eXIf chunk has none.
            has_exif = img.format != "PNG" or b"eXIf" in data
            if img.format in ("JPEG", "TIFF", "WEBP", "PNG") and has_exif:
                orientation = int(img.getexif().get(0x0112, 1) or 1)
            return ImageHeader(img.size, int(getattr(img, "n_frames", 1) or 1), orientation, img.format)
    except Image.DecompressionBombError as exc:
        # PIL refuses to open past 2 × its MAX_IMAGE_PIXELS (178,956,970, PaddleX's cap too); its message
        # has the pixel count.
        found = re.search(r"\((\d+) pixels\)", str(exc))
        return ImageHeader((int(found.group(1)), 1) if found else None, 1, 1, None)
    except Exception:  # not something PIL reads: OpenCV decides
        return ImageHeader(None, 1, 1, None)


def _check_pixels(what: str, width: int, height: int) -> None:
    cap = _limit("HPI_MAX_IMAGE_PIXELS", DEFAULT_MAX_IMAGE_PIXELS)
    if width * height > cap:
        size = f"{width}×{height} = " if height > 1 else ""
        raise InputError(
            f"{what}: {size}{width * height:,} pixels is over the limit of {cap:,} "
            "(HPI_MAX_IMAGE_PIXELS). Downscale the image, or raise the limit if the memory is there."
        )


def _pil_frames(data: bytes, what: str) -> Iterator[np.ndarray]:
    from PIL import Image, ImageSequence

    with Image.open(io.BytesIO(data)) as img:
        for frame in ImageSequence.Iterator(img):
            mode = "RGBA" if frame.mode in ("RGBA", "LA", "PA") or "transparency" in frame.info else "RGB"
            array = np.asarray(frame.convert(mode))
            yield np.ascontiguousarray(array[:, :, [2, 1, 0, 3][: array.shape[2]]])  # RGB(A) → BGR(A)


# EXIF orientation → the transform that makes the photo upright (the EXIF spec; PIL's exif_transpose).
_ORIENTATIONS = {
    2: lambda a: a[:, ::-1],                      # mirrored
    3: lambda a: a[::-1, ::-1],                   # 180°
    4: lambda a: a[::-1],                         # mirrored vertically
    5: lambda a: a.transpose(1, 0, 2),            # transpose
    6: lambda a: np.rot90(a, 3),                  # taken turned 90° clockwise
    7: lambda a: a[::-1, ::-1].transpose(1, 0, 2),  # transverse
    8: lambda a: np.rot90(a, 1),                  # taken turned 90° counter-clockwise
}


def _apply_orientation(image: np.ndarray, orientation: int) -> np.ndarray:
    """Turn a photo upright as its EXIF orientation says (what viewers and PIL's exif_transpose do)."""
    transform = _ORIENTATIONS.get(orientation)
    return image if transform is None else np.ascontiguousarray(transform(image))


def to_bgr(image: np.ndarray, what: str) -> np.ndarray:
    """Any 2-D/3-D image array → H×W×3 BGR uint8 (arrays are taken as BGR, like PaddleX).

    H×W×2 is gray + alpha, H×W×4 is BGRA. Transparency is composited onto a
    background that contrasts with the visible pixels: white under dark
    content, black under light content (white text on a transparent PNG stays
    readable).
    """
    cv2 = import_cv2()
    if not isinstance(image, np.ndarray):
        raise InputError(f"{what}: expected a numpy array, got {type(image).__name__}.")
    if image.ndim not in (2, 3) or image.size == 0 or (image.ndim == 3 and image.shape[2] not in (1, 2, 3, 4)):
        raise InputError(
            f"{what}: shape {image.shape} is not an image; expected H×W, H×W×2 (gray + alpha), H×W×3 (BGR) or H×W×4."
        )
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype in (np.float32, np.float64):
        if not np.all(np.isfinite(image)):
            raise InputError(f"{what}: the float image has NaN/Inf values.")
        peak = float(image.max()) if image.size else 0.0
        image = np.clip(image * (255.0 if peak <= 1.0 else 1.0), 0, 255).astype(np.uint8)
    elif image.dtype == np.bool_:
        image = image.astype(np.uint8) * 255
    elif image.dtype != np.uint8:
        raise InputError(f"{what}: dtype {image.dtype} is not supported; use uint8 (or uint16/float).")
    if image.ndim == 3 and image.shape[2] == 2:
        gray = np.ascontiguousarray(image[:, :, 0])
        image = np.dstack([cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR), image[:, :, 1]])
    if image.ndim == 2 or image.shape[2] == 1:
        image = cv2.cvtColor(image.reshape(image.shape[:2]), cv2.COLOR_GRAY2BGR)
    elif image.shape[2] == 4:
        image = _composite(image)
    return np.ascontiguousarray(image)


def _composite(bgra: np.ndarray) -> np.ndarray:
    alpha = bgra[:, :, 3:4].astype(np.float32) / 255.0
    color = bgra[:, :, :3].astype(np.float32)
    if float(alpha.min()) >= 1.0:
        return np.ascontiguousarray(bgra[:, :, :3])
    weight = float(alpha.sum())
    # Luminance of what is visible; light content (white text on a transparent sheet) goes on black.
    visible = float((color.mean(axis=2, keepdims=True) * alpha).sum() / weight) if weight > 0 else 0.0
    background = 0.0 if visible > 160.0 else 255.0
    return (color * alpha + background * (1.0 - alpha)).astype(np.uint8)


def _pdf_scale(what: str, width_pt: float, height_pt: float) -> float:
    """PaddleX's render scale, lowered when the page would exceed HPI_PDF_MAX_PIXELS (the server's rule too)."""
    cap = _limit("HPI_PDF_MAX_PIXELS", DEFAULT_PDF_MAX_PIXELS)
    scale = render_scale(width_pt, height_pt, cap)
    if scale is None:
        raise InputError(f"{what}: a page of {width_pt:g}×{height_pt:g} pt does not fit {cap:,} pixels even at "
                         f"scale {PDF_MIN_RENDER_SCALE} (HPI_PDF_MAX_PIXELS).")
    return scale


def _iter_pdf(path: str, data: bytes | None = None) -> Iterator[InputItem]:
    """The pages of the PDF file ``path``, or of ``data`` (a downloaded PDF; ``path`` is then its URL)."""
    if data is None:
        file = Path(path).expanduser()
        if not file.is_file():
            yield InputItem(path, None, error=InputError(f"{path}: no such file. Check the path."))
            return
        if file.stat().st_size == 0:
            yield InputItem(path, None, error=InputError(f"{path}: the file is empty (0 bytes)."))
            return
    try:
        document = PDFDocument(str(file) if data is None else data)
    except PDFError as exc:
        yield InputItem(path, None, error=InputError(f"{path}: {exc}."))
        return
    with document:
        if document.num_pages == 0:
            yield InputItem(path, None, error=InputError(f"{path}: the PDF has no pages."))
            return
        for page_index in range(document.num_pages):
            try:
                width_pt, height_pt = document.page_size(page_index)
                scale = _pdf_scale(f"{path} page {page_index}", width_pt, height_pt)
                if scale < PDF_RENDER_SCALE:
                    log.warning("%s page %d: %.0f×%.0f pt; rendered at scale %.2f instead of %.1f to stay within "
                                "HPI_PDF_MAX_PIXELS", path, page_index, width_pt, height_pt, scale, PDF_RENDER_SCALE)
                image = document.render(page_index, scale, f"{path} page {page_index}")
                yield InputItem(path, page_index, image=image)
            except InputError as exc:
                yield InputItem(path, page_index, error=exc)
            except PDFError as exc:
                yield InputItem(path, page_index, error=InputError(f"{path} page {page_index}: {exc}."))
            except Exception as exc:
                yield InputItem(path, page_index, error=InputError(f"{path} page {page_index}: cannot be rendered ({exc})."))


def _iter_url(url: str) -> Iterator[InputItem]:
    data, content_type = fetch_url(url)
    if content_type == "application/pdf" or data.startswith(b"%PDF-"):
        yield from _iter_pdf(url, data)
        return
    if content_type.startswith("text/") and not data.startswith(_SIGNATURES):
        raise InputError(f"{url}: the server sent {content_type} ({len(data):,} bytes), not an image or a PDF.")
    yield from _image_items(url, data)
