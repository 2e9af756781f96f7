"""The document preprocessor's result: PaddleX's ``DocPreprocessorResult`` keys and picture."""

from __future__ import annotations


import numpy as np

from .base import ResultBase, picture_scale
from .fonts import find_font


class DocPreprocessorResult(ResultBase):
    """One page after orientation classification and (when asked) unwarping.

    ``.json["res"]``: ``input_path, page_index, model_settings, angle`` (-1 when
    orientation was not classified). ``input_img``, ``rot_img`` (turned upright)
    and ``output_img`` (what later stages use) are BGR arrays, as in PaddleX.
    """

    def __init__(self, *, input_path: str | None, page_index: int | None, input_img: np.ndarray,
                 model_settings: dict, angle: int, rot_img: np.ndarray, output_img: np.ndarray,
                 stem: str = "result", timings_ms: dict | None = None) -> None:
        self.input_path = input_path
        self.page_index = page_index
        self.input_img = input_img
        self.model_settings = model_settings
        self.angle = angle
        self.rot_img = rot_img
        self.output_img = output_img
        self.stem = stem
        self.timings_ms = timings_ms or {}

    @property
    def json(self) -> dict:
        return {"res": {"input_path": self.input_path, "page_index": self.page_index,
                        "model_settings": self.model_settings, "angle": self.angle}}

    def texts(self) -> list[str]:
        return [f"angle: {self.angle}"]

    @property
    def img(self) -> dict:
        """``{"preprocessed_img": PIL.Image}``: original | rotated | unwarped, captioned (PaddleX's picture;
        ``save_to_img`` writes it as ``<stem>_preprocessed_img.png``)."""
        return {"preprocessed_img": self._render()}

    def _render(self):
        from PIL import Image, ImageDraw, ImageFont

        panels = [self.input_img, self.rot_img, self.output_img]
        scale = picture_scale(max(p.shape[0] for p in panels), max(p.shape[1] for p in panels))
        if scale < 1.0:  # bounded picture
            import cv2

            panels = [cv2.resize(p, (max(1, round(p.shape[1] * scale)), max(1, round(p.shape[0] * scale))),
                                 interpolation=cv2.INTER_AREA) for p in panels]
        captions = [
            "Original Image",
            f"Rotated Image ({self.model_settings.get('use_doc_orientation_classify')}, {self.angle})",
            f"Unwarping Image ({self.model_settings.get('use_doc_unwarping')})",
        ]
        height = max(p.shape[0] for p in panels)
        canvas = Image.new("RGB", (sum(p.shape[1] for p in panels), height + 25), (255, 255, 255))
        draw = ImageDraw.Draw(canvas)
        font_path = find_font()
        font = ImageFont.truetype(font_path, 16) if font_path else ImageFont.load_default()
        left = 0
        for panel, caption in zip(panels, captions):
            canvas.paste(Image.fromarray(np.ascontiguousarray(panel[:, :, ::-1])), (left, 0))
            draw.text((left + 10, height + 2), caption, fill=(0, 0, 0), font=font)
            left += panel.shape[1]
        return canvas

    def __repr__(self) -> str:
        return f"<DocPreprocessorResult {self.input_path or self.stem!r} page={self.page_index} angle={self.angle}>"
