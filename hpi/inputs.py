"""Reading pipeline inputs: paths, directories, lists, numpy arrays and PDFs.

Every problem with one input becomes an :class:`InputError` that names the
input and says what to do; the pipeline decides whether that stops the call
(a single input) or is reported while the batch goes on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from ._deps import import_cv2
from .errors import InputError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".jp2", ".pbm", ".pgm", ".ppm"}
PDF_SUFFIXES = {".pdf"}
PDF_RENDER_SCALE = 2.0  # 144 dpi, as PaddleX renders PDF pages


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
        if self.input_path is None:
            base = f"image_{self.index}"
        else:
            base = Path(self.input_path).stem
        return base if self.page_index is None else f"{base}_{self.page_index}"


def expand_inputs(inputs) -> tuple[list, bool]:
    """Flatten ``inputs`` to a list of paths/arrays; the flag says whether it is a batch."""
    if isinstance(inputs, np.ndarray):
        return [inputs], False
    if isinstance(inputs, (str, Path)):
        path = Path(inputs).expanduser()
        if path.is_dir():
            return _list_dir(path), True
        return [str(inputs)], path.suffix.lower() in PDF_SUFFIXES
    if isinstance(inputs, (list, tuple)):
        items: list = []
        for entry in inputs:
            if isinstance(entry, (str, Path)) and Path(entry).expanduser().is_dir():
                items.extend(_list_dir(Path(entry).expanduser()))
            elif isinstance(entry, (str, Path, np.ndarray)):
                items.append(entry if isinstance(entry, np.ndarray) else str(entry))
            else:
                items.append(InputError(f"Unsupported input of type {type(entry).__name__}; give a path or a numpy array."))
        return items, True
    raise InputError(
        f"Unsupported input of type {type(inputs).__name__}. Give an image/PDF path, a directory, "
        "a numpy array (H×W×3 BGR uint8) or a list of those."
    )


def _list_dir(path: Path) -> list:
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES | PDF_SUFFIXES)
    if not files:
        return [InputError(
            f"Directory {str(path)!r} has no images or PDFs (looked for "
            f"{', '.join(sorted(IMAGE_SUFFIXES | PDF_SUFFIXES))})."
        )]
    return [str(p) for p in files]


def iter_items(inputs) -> tuple[Iterator[InputItem], bool]:
    """Items to process (images decoded lazily, PDF pages one by one) and whether this is a batch."""
    entries, is_batch = expand_inputs(inputs)

    def generate() -> Iterator[InputItem]:
        index = 0
        for entry in entries:
            if isinstance(entry, InputError):
                yield InputItem(None, None, error=entry, index=index)
                index += 1
            elif isinstance(entry, np.ndarray):
                try:
                    yield InputItem(None, None, image=to_bgr(entry, "the numpy array"), index=index)
                except InputError as exc:
                    yield InputItem(None, None, error=exc, index=index)
                index += 1
            elif Path(entry).suffix.lower() in PDF_SUFFIXES:
                for item in _iter_pdf(entry):
                    item.index = index
                    index += 1
                    yield item
            else:
                try:
                    yield InputItem(entry, None, image=read_image(entry), index=index)
                except InputError as exc:
                    yield InputItem(entry, None, error=exc, index=index)
                index += 1

    return generate(), is_batch


def _check_complete(path: str, data: bytes) -> None:
    """Catch truncated PNG/JPEG files, which OpenCV would decode partially with only a warning."""
    head = data[:8]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        if b"IEND" not in data[-32:]:
            raise InputError(f"{path}: the PNG file is truncated (no IEND chunk at its end). Re-export or re-download it.")
    elif head.startswith(b"\xff\xd8"):
        if b"\xff\xd9" not in data[-16:]:
            raise InputError(f"{path}: the JPEG file is truncated (no end-of-image marker). Re-export or re-download it.")


def read_image(path: str) -> np.ndarray:
    """Decode an image file to BGR uint8 (grayscale, RGBA and 16-bit inputs are converted)."""
    cv2 = import_cv2()
    file = Path(path).expanduser()
    if not file.exists():
        raise InputError(f"{path}: no such file. Check the path.")
    if file.is_dir():
        raise InputError(f"{path}: is a directory with no images.")
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc}).") from exc
    if not data:
        raise InputError(f"{path}: the file is empty (0 bytes).")
    _check_complete(path, data)
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise InputError(
            f"{path}: not a readable image (OpenCV cannot decode it). Supported: "
            f"{', '.join(sorted(IMAGE_SUFFIXES))} and .pdf."
        )
    return to_bgr(image, path)


def to_bgr(image: np.ndarray, what: str) -> np.ndarray:
    """Any 2-D/3-D image array → H×W×3 BGR uint8 (arrays are taken as BGR, like PaddleX)."""
    cv2 = import_cv2()
    if not isinstance(image, np.ndarray):
        raise InputError(f"{what}: expected a numpy array, got {type(image).__name__}.")
    if image.ndim not in (2, 3) or image.size == 0 or (image.ndim == 3 and image.shape[2] not in (1, 3, 4)):
        raise InputError(f"{what}: shape {image.shape} is not an image; expected H×W, H×W×3 (BGR) or H×W×4.")
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
    if image.ndim == 2 or image.shape[2] == 1:
        image = cv2.cvtColor(image.reshape(image.shape[:2]), cv2.COLOR_GRAY2BGR)
    elif image.shape[2] == 4:
        # Composite on white: transparent regions of scanned/rendered text are background.
        alpha = image[:, :, 3:4].astype(np.float32) / 255.0
        image = (image[:, :, :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
    return np.ascontiguousarray(image)


def _iter_pdf(path: str) -> Iterator[InputItem]:
    from ._deps import import_pypdfium2

    file = Path(path).expanduser()
    if not file.is_file():
        yield InputItem(path, None, error=InputError(f"{path}: no such file. Check the path."))
        return
    if file.stat().st_size == 0:
        yield InputItem(path, None, error=InputError(f"{path}: the file is empty (0 bytes)."))
        return
    pdfium = import_pypdfium2()
    try:
        document = pdfium.PdfDocument(str(file))
    except Exception as exc:  # pypdfium2 raises PdfiumError
        yield InputItem(path, None, error=InputError(f"{path}: not a readable PDF ({exc})."))
        return
    try:
        for page_index in range(len(document)):
            try:
                page = document[page_index]
                bitmap = page.render(scale=PDF_RENDER_SCALE)
                pixels = bitmap.to_numpy()
                if bitmap.mode in ("RGB", "RGBA", "RGBX") and pixels.ndim == 3:
                    pixels = pixels[:, :, [2, 1, 0]]  # pdfium renders BGR by default; RGB only if asked
                elif pixels.ndim == 3 and pixels.shape[2] == 4:
                    pixels = pixels[:, :, :3]
                image = to_bgr(np.ascontiguousarray(pixels), f"{path} page {page_index}")
                yield InputItem(path, page_index, image=image)
            except InputError as exc:
                yield InputItem(path, page_index, error=exc)
            except Exception as exc:
                yield InputItem(path, page_index, error=InputError(f"{path} page {page_index}: cannot be rendered ({exc})."))
    finally:
        document.close()
