"""Single-model results (``hpi.create_model``): PaddleX's module result keys and pictures.

Each ``.json["res"]`` holds the keys PaddleX's module predictor of the task
writes (``input_img`` left out, as PaddleX's JSON does); ``img["res"]`` is the
picture ``save_to_img`` writes as ``<stem>_res.png``. Layout detection's result
is :class:`hpi.results.layout.LayoutDetectionResult` (PaddleX's ``DetResult``).
"""

from __future__ import annotations

import numpy as np

from .base import ResultBase, picture_scale
from .fonts import find_font


def _picture(image_bgr: np.ndarray):
    """(RGB PIL image bounded by MAX_PICTURE_SIDE, the scale applied)."""
    from PIL import Image

    scale = picture_scale(*image_bgr.shape[:2])
    picture = Image.fromarray(np.ascontiguousarray(image_bgr[:, :, ::-1]))
    if scale < 1.0:
        picture = picture.resize((max(1, round(picture.width * scale)), max(1, round(picture.height * scale))))
    return picture, scale


def _font(size: int):
    from PIL import ImageFont

    path = find_font()
    return ImageFont.truetype(path, max(8, size)) if path else ImageFont.load_default()


class _ModuleResult(ResultBase):
    def __init__(self, *, input_path: str | None, page_index: int | None, input_img: np.ndarray,
                 stem: str = "result", timings_ms: dict | None = None) -> None:
        self.input_path = input_path
        self.page_index = page_index
        self.input_img = input_img
        self.stem = stem
        self.timings_ms = timings_ms or {}

    def _res(self, **keys) -> dict:
        return {"res": {"input_path": self.input_path, "page_index": self.page_index, **keys}}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.input_path or self.stem!r} page={self.page_index}>"


class TextDetResult(_ModuleResult):
    """Text (or seal text) detection: ``dt_polys`` (quads, or curved polygons for seals) and ``dt_scores``."""

    def __init__(self, *, dt_polys: list, dt_scores: list, **common) -> None:
        super().__init__(**common)
        self.dt_polys = dt_polys
        self.dt_scores = dt_scores

    @property
    def json(self) -> dict:
        return self._res(dt_polys=self.dt_polys, dt_scores=self.dt_scores)

    def texts(self) -> list[str]:
        return [f"{score:.3f} {np.asarray(poly).astype(int).tolist()}" for poly, score in
                zip(self.dt_polys, self.dt_scores)]

    @property
    def img(self) -> dict:
        from PIL import ImageDraw

        picture, scale = _picture(self.input_img)
        draw = ImageDraw.Draw(picture)
        for poly in self.dt_polys:
            points = [(float(x) * scale, float(y) * scale) for x, y in np.asarray(poly).reshape(-1, 2)]
            draw.line([*points, points[0]], fill=(255, 0, 0), width=2)
        return {"res": picture}


class TextRecResult(_ModuleResult):
    """Text recognition of one line image: ``rec_text`` and ``rec_score``."""

    def __init__(self, *, rec_text: str, rec_score: float, **common) -> None:
        super().__init__(**common)
        self.rec_text = rec_text
        self.rec_score = rec_score

    @property
    def json(self) -> dict:
        return self._res(rec_text=self.rec_text, rec_score=self.rec_score)

    def texts(self) -> list[str]:
        return [self.rec_text]

    @property
    def img(self) -> dict:
        """The line with its text and score written under it (PaddleX's picture)."""
        from PIL import Image, ImageDraw

        line, _ = _picture(self.input_img)
        font = _font(max(12, min(40, line.height // 2)))
        label = f"{self.rec_text} ({self.rec_score:.3f})"
        probe = ImageDraw.Draw(line)
        left, top, right, bottom = probe.textbbox((0, 0), label, font=font)
        canvas = Image.new("RGB", (max(line.width, right - left + 8), line.height + bottom - top + 12), "white")
        canvas.paste(line, (0, 0))
        ImageDraw.Draw(canvas).text((4, line.height + 4), label, fill=(0, 0, 0), font=font)
        return {"res": canvas}


class TopkResult(_ModuleResult):
    """Classification (text line or document orientation): ``class_ids``, ``scores``, ``label_names``."""

    def __init__(self, *, class_ids: list[int], scores: list[float], label_names: list[str], **common) -> None:
        super().__init__(**common)
        self.class_ids = class_ids
        self.scores = scores
        self.label_names = label_names

    @property
    def json(self) -> dict:
        return self._res(class_ids=self.class_ids, scores=self.scores, label_names=self.label_names)

    def texts(self) -> list[str]:
        return [f"{label} {score:.3f}" for label, score in zip(self.label_names, self.scores)]

    @property
    def img(self) -> dict:
        """The image with its top label and score in its top-left corner (PaddleX's picture)."""
        from PIL import ImageDraw

        picture, _ = _picture(self.input_img)
        draw = ImageDraw.Draw(picture)
        font = _font(int(picture.width * 0.05))
        label = f"{self.label_names[0]} {self.scores[0]:.2f}"
        left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
        draw.rectangle([0, 0, right - left + 6, bottom - top + 6], fill=(0, 0, 0))
        draw.text((3, 3 - top), label, fill=(255, 255, 255), font=font)
        return {"res": picture}


class TableStructureResult(_ModuleResult):
    """Table structure of one table image: ``bbox`` (8 numbers per cell), ``structure`` (HTML tokens),
    ``structure_score``."""

    def __init__(self, *, bbox: list, structure: list[str], structure_score: float, **common) -> None:
        super().__init__(**common)
        self.bbox = bbox
        self.structure = structure
        self.structure_score = structure_score

    @property
    def json(self) -> dict:
        return self._res(bbox=self.bbox, structure=self.structure, structure_score=self.structure_score)

    def texts(self) -> list[str]:
        return ["".join(self.structure)]

    @property
    def img(self) -> dict:
        from PIL import ImageDraw

        picture, scale = _picture(self.input_img)
        draw = ImageDraw.Draw(picture)
        for cell in self.bbox:
            points = [(float(x) * scale, float(y) * scale) for x, y in np.asarray(cell, np.float64).reshape(-1, 2)]
            draw.line([*points, points[0]], fill=(0, 255, 0), width=2)
        return {"res": picture}


class DocTrResult(_ModuleResult):
    """Document unwarping: ``doctr_img``, the flattened page (BGR), in PaddleX's JSON as it is there."""

    def __init__(self, *, doctr_img: np.ndarray, **common) -> None:
        super().__init__(**common)
        self.doctr_img = doctr_img

    @property
    def json(self) -> dict:
        return self._res(doctr_img=self.doctr_img)

    def texts(self) -> list[str]:
        return [f"doctr_img {self.doctr_img.shape[1]}x{self.doctr_img.shape[0]}"]

    def print(self, indent: int = 4, ensure_ascii: bool = False) -> None:
        """Print ``.json`` with the image as ``"..."``, as PaddleX prints it."""
        import json

        from .base import to_jsonable

        res = dict(self.json["res"], doctr_img="...")
        print(json.dumps(to_jsonable({"res": res}), indent=indent, ensure_ascii=ensure_ascii))

    @property
    def img(self) -> dict:
        return {"res": _picture(self.doctr_img)[0]}


__all__ = ["DocTrResult", "TableStructureResult", "TextDetResult", "TextRecResult", "TopkResult"]


def _seg_palette() -> np.ndarray:
    """PaddleX's SegResult colour map (``_get_color_map_list(256)``: PASCAL VOC's bit pattern for 257 labels,
    the first dropped, so class 0 is (128, 0, 0)): 256 RGB rows."""
    colours = np.zeros((257, 3), np.uint8)
    for index in range(257):
        label, bit = index, 0
        while label:
            for channel in range(3):
                colours[index, channel] |= ((label >> channel) & 1) << (7 - bit)
            bit += 1
            label >>= 3
    return colours[1:]


_SEG_PALETTE = None


class SegResult(_ModuleResult):
    """Semantic segmentation of one image: ``pred``, the ``[1, H, W]`` int32 label map (PaddleX's SegResult).

    ``img["res"]`` is PaddleX's pseudo-colour picture of the map (its palette, class 0 dark red). ``print()``
    shows the map as ``"..."``, as PaddleX does; ``save_to_json`` writes it whole.
    """

    def __init__(self, *, pred: np.ndarray, **common) -> None:
        super().__init__(**common)
        self.pred = pred

    @property
    def json(self) -> dict:
        return self._res(pred=self.pred)

    def print(self, indent: int = 4, ensure_ascii: bool = False) -> None:
        import json

        print(json.dumps({"res": {"input_path": self.input_path, "page_index": self.page_index, "pred": "..."}},
                         indent=indent, ensure_ascii=ensure_ascii))

    def texts(self) -> list[str]:
        counts = np.bincount(self.pred.ravel().clip(0), minlength=1)
        return [f"class {c}: {n} px" for c, n in enumerate(counts) if n]

    @property
    def img(self) -> dict:
        from PIL import Image

        global _SEG_PALETTE
        if self.pred.min(initial=0) < 0 or self.pred.max(initial=0) > 255:
            raise ValueError("The label map has class ids outside 0–255; it cannot be drawn as PaddleX's picture.")
        if _SEG_PALETTE is None:
            _SEG_PALETTE = _seg_palette()
        return {"res": Image.fromarray(_SEG_PALETTE[self.pred[0].astype(np.uint8)], "RGB")}
