"""The OCR result: PaddleX's keys, ``print``, ``save_to_json`` and ``save_to_img``."""

from __future__ import annotations

import logging

import numpy as np

from .base import ResultBase, picture_scale
from .fonts import find_font

log = logging.getLogger(__name__)


class OCRResult(ResultBase):
    """One image's OCR result. ``.json["res"]`` holds PaddleX's keys in PaddleX's order."""

    def __init__(
        self,
        *,
        input_path: str | None,
        page_index: int | None,
        image: np.ndarray,
        model_settings: dict,
        dt_polys: np.ndarray,
        text_det_params: dict,
        text_type: str,
        textline_orientation_angles: list[int],
        text_rec_score_thresh: float,
        rec_texts: list[str],
        rec_scores: list[float],
        rec_polys: np.ndarray,
        stem: str,
        timings_ms: dict | None = None,
        doc_preprocessor_res: dict | None = None,
    ) -> None:
        self.input_path = input_path
        self.page_index = page_index
        self.image = image
        self.model_settings = model_settings
        self.dt_polys = dt_polys
        self.text_det_params = text_det_params
        self.text_type = text_type
        self.textline_orientation_angles = textline_orientation_angles
        self.text_rec_score_thresh = text_rec_score_thresh
        self.rec_texts = rec_texts
        self.rec_scores = rec_scores
        self.rec_polys = rec_polys
        self.stem = stem
        self.timings_ms = timings_ms or {}
        # PaddleX's DocPreprocessor result ({input_path, page_index, model_settings, angle}), only
        # when it ran; ``image`` and the polygons then refer to the page after its rotation.
        self.doc_preprocessor_res = doc_preprocessor_res

    @property
    def rec_boxes(self) -> np.ndarray:
        """Axis-aligned (x1, y1, x2, y2) of each kept polygon."""
        if len(self.rec_polys) == 0:
            return np.zeros((0, 4), np.int32)
        polys = np.asarray(self.rec_polys)
        return np.stack(
            [polys[:, :, 0].min(1), polys[:, :, 1].min(1), polys[:, :, 0].max(1), polys[:, :, 1].max(1)], axis=1
        ).astype(np.int32)

    @property
    def json(self) -> dict:
        res = {
            "input_path": self.input_path,
            "page_index": self.page_index,
            "model_settings": self.model_settings,
        }
        if self.doc_preprocessor_res is not None:
            res["doc_preprocessor_res"] = self.doc_preprocessor_res
        return {
            "res": {
                **res,
                "dt_polys": self.dt_polys,
                "text_det_params": self.text_det_params,
                "text_type": self.text_type,
                "textline_orientation_angles": self.textline_orientation_angles,
                "text_rec_score_thresh": self.text_rec_score_thresh,
                "return_word_box": False,
                "rec_texts": self.rec_texts,
                "rec_scores": self.rec_scores,
                "rec_polys": self.rec_polys,
                "rec_boxes": self.rec_boxes,
            }
        }

    def texts(self) -> list[str]:
        return list(self.rec_texts)

    @property
    def img(self) -> dict:
        """``{"ocr_res_img": PIL.Image}``: boxes on the left, recognised text on the right (``save_to_img``
        writes it as ``<stem>_ocr_res_img.png``)."""
        return {"ocr_res_img": self._render()}

    def _render(self):
        from PIL import Image, ImageDraw, ImageFont

        image, polys = self.image, list(self.rec_polys)
        scale = picture_scale(*image.shape[:2])
        if scale < 1.0:  # bounded picture: scale the page and the boxes down together
            import cv2

            size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
            polys = [np.asarray(p, np.float64) * scale for p in polys]
        height, width = image.shape[:2]
        left = Image.fromarray(np.ascontiguousarray(image[:, :, ::-1]))
        overlay = left.copy()
        right = Image.new("RGB", (width, height), (255, 255, 255))
        draw_left = ImageDraw.Draw(overlay)
        draw_right = ImageDraw.Draw(right)
        font_path = find_font()
        rng = np.random.default_rng(0)
        for number, (poly, text) in enumerate(zip(polys, self.rec_texts), start=1):
            color = tuple(int(c) for c in rng.integers(0, 200, 3))
            points = [tuple(map(int, p)) for p in np.asarray(poly)]
            draw_left.polygon(points, fill=color)
            draw_right.polygon(points, outline=color, width=2)
            box_h = max(1, int(np.ptp(np.asarray(poly)[:, 1])))
            box_w = max(1, int(np.ptp(np.asarray(poly)[:, 0])))
            size = max(8, min(int(box_h * 0.8), 64))
            font = ImageFont.truetype(font_path, size) if font_path else ImageFont.load_default()
            label = f"{number}. {text}" if text else f"{number}."
            if font_path:
                length = font.getlength(label)
                if length > box_w * 1.2 and length > 0:
                    size = max(8, int(size * box_w * 1.2 / length))
                    font = ImageFont.truetype(font_path, size)
            x0, y0 = points[0]
            draw_right.text((x0 + 3, y0), label, fill=(0, 0, 0), font=font)
        blended = Image.blend(left, overlay, 0.5)
        canvas = Image.new("RGB", (width * 2, height), (255, 255, 255))
        canvas.paste(blended, (0, 0))
        canvas.paste(right, (width, 0))
        return canvas

    def __repr__(self) -> str:
        return f"<OCRResult {self.input_path or self.stem!r} page={self.page_index} lines={len(self.rec_texts)}>"
