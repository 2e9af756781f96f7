"""Seal recognition results: PaddleX's ``SealRecognitionResult`` keys, pictures and files."""

from __future__ import annotations

import numpy as np

from .base import ResultBase, picture_scale
from .doc_preprocessor import DocPreprocessorResult
from .fonts import find_font
from .ocr import OCRResult


class SealOCRResult(OCRResult):
    """One seal region's OCR (PaddleX's ``OCRResult`` with ``text_type: seal``): ``dt_polys`` and
    ``rec_polys`` are curved polygons (N_i×2 each), ``rec_boxes`` is empty as in PaddleX.
    ``seal_region_id`` numbers the seal regions of a page from 1."""

    def __init__(self, *, seal_region_id: int = 1, **kwargs) -> None:
        super().__init__(**kwargs)
        self.seal_region_id = seal_region_id

    @property
    def rec_boxes(self) -> np.ndarray:
        return np.array([])

    @property
    def json(self) -> dict:
        data = super().json
        data["res"]["seal_region_id"] = self.seal_region_id
        return data

    @property
    def img(self) -> dict:
        """``{"ocr_res_img": PIL.Image}`` as for OCR, each label at the polygon point nearest its box's top-left
        (a curved polygon's first point can be anywhere along the arc)."""
        import copy

        view = copy.copy(self)
        view.rec_polys = [np.roll(p, -int(np.argmin(((p - p.min(axis=0)) ** 2).sum(axis=1))), axis=0)
                          for p in (np.asarray(q) for q in self.rec_polys)]
        return {"ocr_res_img": view._render()}

    def __repr__(self) -> str:
        return f"<SealOCRResult region={self.seal_region_id} texts={self.rec_texts!r}>"


class SealRegionsResult(ResultBase):
    """The seal regions of a page in PaddleX's layout result form: ``boxes`` of ``{cls_id, label, score,
    coordinate}``; its picture is PaddleX's ``layout_det_res``."""

    def __init__(self, *, input_path: str | None, page_index: int | None, image: np.ndarray, boxes: list[dict],
                 stem: str = "result") -> None:
        self.input_path = input_path
        self.page_index = page_index
        self.image = image
        self.boxes = boxes
        self.stem = stem

    @property
    def json(self) -> dict:
        return {"res": {"input_path": self.input_path, "page_index": self.page_index, "boxes": self.boxes}}

    @property
    def img(self) -> dict:
        from PIL import Image, ImageDraw, ImageFont

        scale = picture_scale(*self.image.shape[:2])
        picture = Image.fromarray(np.ascontiguousarray(self.image[:, :, ::-1]))
        if scale < 1.0:
            picture = picture.resize((max(1, round(picture.width * scale)), max(1, round(picture.height * scale))))
        draw = ImageDraw.Draw(picture)
        font_path = find_font()
        font = ImageFont.truetype(font_path, 16) if font_path else ImageFont.load_default()
        for box in self.boxes:
            x1, y1, x2, y2 = (v * scale for v in box["coordinate"])
            draw.rectangle((x1, y1, x2, y2), outline=(0, 160, 255), width=3)
            draw.text((x1 + 3, y1 + 2), f"{box['label']} {box['score']:.2f}", fill=(0, 120, 255), font=font)
        return {"res": picture}


class SealRecognitionResult(ResultBase):
    """One page's seal recognition (PaddleX's keys, in PaddleX's order)::

        input_path, page_index, model_settings, doc_preprocessor_res (when it ran),
        layout_det_res (when layout detection ran), seal_res_list (one OCR result per seal region)

    ``save_to_json`` writes ``<stem>_res.json``; ``save_to_img`` writes PaddleX's pictures:
    ``<stem>_layout_det_res.png``, ``<stem>_preprocessed_img.png`` and ``<stem>_seal_res_region<N>.png``.
    """

    def __init__(self, *, input_path: str | None, page_index: int | None, model_settings: dict,
                 doc_preprocessor_res: DocPreprocessorResult | None, layout_det_res: SealRegionsResult | None,
                 seal_res_list: list[SealOCRResult], stem: str = "result", timings_ms: dict | None = None) -> None:
        self.input_path = input_path
        self.page_index = page_index
        self.model_settings = model_settings
        self.doc_preprocessor_res = doc_preprocessor_res
        self.layout_det_res = layout_det_res
        self.seal_res_list = seal_res_list
        self.stem = stem
        self.timings_ms = timings_ms or {}

    @property
    def json(self) -> dict:
        res: dict = {"input_path": self.input_path, "page_index": self.page_index,
                     "model_settings": self.model_settings}
        if self.doc_preprocessor_res is not None:
            res["doc_preprocessor_res"] = self.doc_preprocessor_res.json["res"]
        if self.layout_det_res is not None:
            res["layout_det_res"] = self.layout_det_res.json["res"]
        res["seal_res_list"] = [seal.json["res"] for seal in self.seal_res_list]
        return {"res": res}

    def texts(self) -> list[str]:
        return [text for seal in self.seal_res_list for text in seal.rec_texts]

    @property
    def img(self) -> dict:
        pictures: dict = {}
        if self.layout_det_res is not None:
            pictures["layout_det_res"] = self.layout_det_res.img["res"]
        if self.doc_preprocessor_res is not None:
            pictures.update(self.doc_preprocessor_res.img)
        for seal in self.seal_res_list:
            pictures[f"seal_res_region{seal.seal_region_id}"] = seal.img["ocr_res_img"]
        return pictures

    def __repr__(self) -> str:
        return (f"<SealRecognitionResult {self.input_path or self.stem!r} page={self.page_index} "
                f"seals={len(self.seal_res_list)} texts={self.texts()!r}>")


__all__ = ["SealOCRResult", "SealRecognitionResult", "SealRegionsResult"]
