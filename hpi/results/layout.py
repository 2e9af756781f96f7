"""The layout detection result: PaddleX's ``DetResult`` keys (``input_path, page_index, boxes``) and picture."""

from __future__ import annotations

import numpy as np

from .base import ResultBase, picture_scale
from .fonts import find_font

# PaddleX's detection colour map (utils/color_map.get_colormap), first entries: one colour per label in
# the order labels first appear.
_COLORS = (
    (0xFF, 0x00, 0x00), (0xCC, 0xFF, 0x00), (0x00, 0xFF, 0x66), (0x00, 0x66, 0xFF), (0xCC, 0x00, 0xFF),
    (0xFF, 0x4C, 0x00), (0x80, 0xFF, 0x00), (0x00, 0xFF, 0xB2), (0x00, 0x1A, 0xFF), (0xFF, 0x00, 0xE5),
    (0xFF, 0x99, 0x00), (0x33, 0xFF, 0x00), (0x00, 0xFF, 0xFF), (0x33, 0x00, 0xFF), (0xFF, 0x00, 0x99),
)


def draw_layout_boxes(image_bgr: np.ndarray, boxes: list[dict]):
    """The page (RGB PIL image) with each box outlined and labelled ``"<label> <score:.2f>"``, as PaddleX draws
    detection results (line width 0.2% of the long side, font 1.8% of the width)."""
    from PIL import Image, ImageDraw, ImageFont

    scale = picture_scale(*image_bgr.shape[:2])
    picture = Image.fromarray(np.ascontiguousarray(image_bgr[:, :, ::-1]))
    if scale < 1.0:
        picture = picture.resize((max(1, round(picture.width * scale)), max(1, round(picture.height * scale))))
    draw = ImageDraw.Draw(picture)
    font_path = find_font()
    size = int(0.018 * picture.width) + 2
    font = ImageFont.truetype(font_path, size) if font_path else ImageFont.load_default()
    thickness = max(1, int(max(picture.size) * 0.002))
    colors: dict[str, tuple[int, int, int]] = {}
    for i, box in enumerate(boxes):
        color = colors.setdefault(box["label"], _COLORS[i % len(_COLORS)])
        coordinate = [v * scale for v in box["coordinate"]]
        if len(coordinate) == 8:  # a rotated box: its four corners (PaddleX draws the polygon)
            corners = list(zip(coordinate[0::2], coordinate[1::2]))
            draw.line([*corners, corners[0]], width=thickness, fill=color)
            x1, y1 = min(coordinate[0::2]), min(coordinate[1::2])
        else:
            x1, y1, x2, y2 = coordinate[:4]
            draw.line([(x1, y1), (x1, y2), (x2, y2), (x2, y1), (x1, y1)], width=thickness, fill=color)
        text = f"{box['label']} {box['score']:.2f}"
        left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
        tw, th = right - left, bottom - top + 4
        ty = y1 if y1 < th else y1 - th
        draw.rectangle([(x1, ty), (x1 + tw + 4, ty + th + 1)], fill=color)
        draw.text((x1 + 2, ty - 2), text, fill=(255, 255, 255), font=font)
    return picture


class LayoutDetectionResult(ResultBase):
    """One page's layout boxes.

    ``.json["res"]``: ``input_path, page_index, boxes`` with boxes
    ``[{"cls_id", "label", "score", "coordinate": [x1, y1, x2, y2]}]`` (PaddleX's DetResult).
    ``save_to_img`` writes ``<stem>_res.png`` (PaddleX's name for a detection picture).
    """

    def __init__(self, *, input_path: str | None, page_index: int | None, input_img: np.ndarray, boxes: list[dict],
                 stem: str = "result", timings_ms: dict | None = None) -> None:
        self.input_path = input_path
        self.page_index = page_index
        self.input_img = input_img
        self.boxes = boxes
        self.stem = stem
        self.timings_ms = timings_ms or {}

    @property
    def json(self) -> dict:
        return {"res": {"input_path": self.input_path, "page_index": self.page_index, "boxes": self.boxes}}

    def texts(self) -> list[str]:
        return [f"{b['label']} {b['score']:.2f} {[round(v, 1) for v in b['coordinate']]}" for b in self.boxes]

    @property
    def img(self) -> dict:
        """``{"res": PIL.Image}``: the page with its boxes drawn."""
        return {"res": draw_layout_boxes(self.input_img, self.boxes)}

    def __repr__(self) -> str:
        return (f"<LayoutDetectionResult {self.input_path or self.stem!r} page={self.page_index} "
                f"boxes={len(self.boxes)}>")


def _lighter(colour: tuple[int, int, int]) -> np.ndarray:
    return np.array([c * 0.6 + 0.4 * 255 for c in colour], np.float32)


class InstanceSegResult(LayoutDetectionResult):
    """One image's instances (PaddleX's InstanceSegResult): ``boxes`` as in detection and ``masks``, per box its
    ``int32`` 0/1 mask cut to the box's rounded coordinates. ``print()`` shows the masks as ``"..."``, as PaddleX
    does; ``save_to_img`` draws each mask (its class's colour, lightened, at 70%) under the boxes."""

    def __init__(self, *, masks: list[np.ndarray], **common) -> None:
        super().__init__(**common)
        self.masks = masks

    @property
    def json(self) -> dict:
        return {"res": {"input_path": self.input_path, "page_index": self.page_index, "boxes": self.boxes,
                        "masks": self.masks}}

    def print(self, indent: int = 4, ensure_ascii: bool = False) -> None:
        import json

        from .base import to_jsonable

        res = {"input_path": self.input_path, "page_index": self.page_index, "boxes": self.boxes, "masks": "..."}
        print(json.dumps(to_jsonable({"res": res}), indent=indent, ensure_ascii=ensure_ascii))

    @property
    def img(self) -> dict:
        """``{"res": PIL.Image}``: the masks blended into the image, the boxes on top."""
        picture = self.input_img.astype(np.float32)
        colours: dict[int, np.ndarray] = {}
        for index, (box, mask) in enumerate(zip(self.boxes, self.masks)):
            colour = colours.setdefault(box["cls_id"], _lighter(_COLORS[index % len(_COLORS)])[::-1])  # BGR
            left, top = (int(round(v)) for v in box["coordinate"][:2])
            region = picture[top:top + mask.shape[0], left:left + mask.shape[1]]
            on = mask[:region.shape[0], :region.shape[1]] != 0
            region[on] = region[on] * 0.3 + 0.7 * colour
        blended = np.clip(picture, 0, 255).astype(np.uint8)
        return {"res": draw_layout_boxes(blended, self.boxes)}

    def __repr__(self) -> str:
        return f"<InstanceSegResult {self.input_path or self.stem!r} page={self.page_index} instances={len(self.boxes)}>"
