"""The table recognition results: PaddleX's keys, ``save_to_html``, ``save_to_xlsx``, ``save_to_img``, ``save_to_json``."""

from __future__ import annotations

import io
import re
from html import unescape
from pathlib import Path

import numpy as np

from ..errors import OutputError
from .base import ResultBase, output_file, picture_scale, write_atomically


class SingleTableRecognitionResult(ResultBase):
    """One table: ``.json["res"]`` = PaddleX's ``cell_box_list``, ``pred_html``, ``table_ocr_pred``.

    ``cell_box_list``: one (x1, y1, x2, y2) per cell token, in page pixels;
    ``table_ocr_pred``: the OCR lines inside the table (``rec_polys``,
    ``rec_texts``, ``rec_scores``, ``rec_boxes``); ``table_region_id`` counts
    tables from 1 on the page; ``neighbor_texts`` the lines just above it
    (layout path), as PaddleX keeps them (not in its JSON).
    """

    def __init__(self, *, cell_box_list: np.ndarray, pred_html: str, table_ocr_pred: dict, table_region_id: int = 1,
                 neighbor_texts: str = "", structure: list[str] | None = None, structure_score: float = 0.0,
                 stem: str = "result") -> None:
        self.cell_box_list = cell_box_list
        self.pred_html = pred_html
        self.table_ocr_pred = table_ocr_pred
        self.table_region_id = table_region_id
        self.neighbor_texts = neighbor_texts
        self.structure = structure or []
        self.structure_score = structure_score
        self.stem = stem

    @property
    def json(self) -> dict:
        return {"res": {"cell_box_list": self.cell_box_list, "pred_html": self.pred_html,
                        "table_ocr_pred": self.table_ocr_pred}}

    @property
    def html(self) -> dict[str, str]:
        return {"pred": self.pred_html}

    def texts(self) -> list[str]:
        return [self.pred_html]

    def __repr__(self) -> str:
        return f"<SingleTableRecognitionResult table {self.table_region_id}: {len(self.cell_box_list)} cells>"


class TableRecognitionResult(ResultBase):
    """One page's tables. ``.json["res"]``: ``input_path, page_index, model_settings``,
    ``doc_preprocessor_res`` (when it ran), ``layout_det_res`` (when layout detection ran),
    ``overall_ocr_res``, ``table_res_list`` — PaddleX's keys and order."""

    def __init__(self, *, input_path: str | None, page_index: int | None, image: np.ndarray, model_settings: dict,
                 doc_preprocessor_res, layout_det_res, overall_ocr_res, table_res_list: list,
                 stem: str = "result", timings_ms: dict | None = None) -> None:
        self.input_path = input_path
        self.page_index = page_index
        self.image = image  # the page the tables were found on (after the doc preprocessor)
        self.model_settings = model_settings
        self.doc_preprocessor_res = doc_preprocessor_res
        self.layout_det_res = layout_det_res  # a LayoutDetectionResult when layout detection ran
        self.overall_ocr_res = overall_ocr_res
        self.table_res_list = table_res_list
        self.stem = stem
        self.timings_ms = timings_ms or {}

    @property
    def json(self) -> dict:
        res = {"input_path": self.input_path, "page_index": self.page_index, "model_settings": self.model_settings}
        if self.model_settings.get("use_doc_preprocessor") and self.doc_preprocessor_res is not None:
            res["doc_preprocessor_res"] = self.doc_preprocessor_res.json["res"]
        if self.layout_det_res is not None:
            res["layout_det_res"] = self.layout_det_res.json["res"]
        res["overall_ocr_res"] = self.overall_ocr_res.json["res"]
        res["table_res_list"] = [table.json["res"] for table in self.table_res_list]
        return {"res": res}

    def texts(self) -> list[str]:
        return [table.pred_html for table in self.table_res_list]

    @property
    def html(self) -> dict[str, str]:
        """``table_<n>`` → the table's HTML with ``border="1"`` (PaddleX)."""
        return {f"table_{t.table_region_id}": t.pred_html.replace("<table>", '<table border="1">')
                for t in self.table_res_list}

    def save_to_html(self, save_path: str | Path) -> list[Path]:
        """Write ``<stem>_table_<n>.html`` per table (a path ending in .html: the only table)."""
        return self._save_each(save_path, ".html", lambda html: html.encode("utf-8"), self.html)

    def save_to_xlsx(self, save_path: str | Path) -> list[Path]:
        """Write ``<stem>_table_<n>.xlsx`` per table: one sheet, merged cells for row/col spans (openpyxl)."""
        return self._save_each(save_path, ".xlsx", html_to_xlsx,
                               {f"table_{t.table_region_id}": t.pred_html for t in self.table_res_list})

    def _save_each(self, save_path, ext: str, encode, documents: dict[str, str]) -> list[Path]:
        if Path(save_path).suffix.lower() == ext and len(documents) > 1:
            raise OutputError(f"{save_path}: the page has {len(documents)} tables; give a directory instead.")
        written = []
        for key, document in documents.items():
            target = output_file(save_path, self.stem, f"_{key}", ext)
            written.append(write_atomically(target, encode(document)))
        return written

    @property
    def img(self) -> dict:
        """PaddleX's pictures: ``layout_det_res`` (layout path), the preprocessor's, ``ocr_res_img`` and
        ``table_cell_img`` (cell boxes in red on the page)."""
        pictures = {}
        if self.layout_det_res is not None:
            pictures["layout_det_res"] = self.layout_det_res.img["res"]
        if self.model_settings.get("use_doc_preprocessor") and self.doc_preprocessor_res is not None:
            pictures.update(self.doc_preprocessor_res.img)
        pictures.update(self.overall_ocr_res.img)
        if self.table_res_list:
            boxes = [box for table in self.table_res_list for box in np.asarray(table.cell_box_list).tolist()]
            pictures["table_cell_img"] = _draw_boxes(self.image, boxes)
        return pictures

    def __repr__(self) -> str:
        return f"<TableRecognitionResult {self.input_path or self.stem!r} page={self.page_index} " \
               f"tables={len(self.table_res_list)}>"


def _draw_boxes(image: np.ndarray, boxes: list):
    from PIL import Image, ImageDraw

    scale = picture_scale(*image.shape[:2])
    if scale < 1.0:
        import cv2

        image = cv2.resize(image, (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale))),
                           interpolation=cv2.INTER_AREA)
    picture = Image.fromarray(np.ascontiguousarray(image[:, :, ::-1]))
    draw = ImageDraw.Draw(picture)
    for box in boxes:
        x1, y1, x2, y2 = [int(v * scale) for v in box[:4]]
        draw.rectangle([x1, y1, max(x1, x2), max(y1, y2)], outline=(255, 0, 0), width=2)
    return picture


_CELL = re.compile(r"<(tr|td|th)\b([^>]*)>(.*?)(?=<td\b|<th\b|</tr>|<tr\b|</table>)|</tr>", re.S | re.I)
_SPAN = re.compile(r'(colspan|rowspan)\s*=\s*"?(\d+)', re.I)


def table_grid(html: str) -> list[tuple[int, int, int, int, str]]:
    """(row, col, rowspan, colspan, text) of each cell of an HTML table, placed as HTML does."""
    taken: set[tuple[int, int]] = set()
    cells = []
    row, col = -1, 0
    for match in _CELL.finditer(html):
        tag = (match.group(1) or "").lower()
        if tag == "tr":
            row, col = row + 1, 0
            continue
        if tag not in ("td", "th"):
            continue
        if row < 0:
            row = 0
        spans = {k.lower(): max(1, int(v)) for k, v in _SPAN.findall(match.group(2))}
        rowspan, colspan = spans.get("rowspan", 1), spans.get("colspan", 1)
        while (row, col) in taken:
            col += 1
        text = unescape(re.sub(r"<[^>]+>", "", match.group(3))).strip()
        cells.append((row, col, rowspan, colspan, text))
        for r in range(row, row + rowspan):
            for c in range(col, col + colspan):
                taken.add((r, c))
        col += colspan
    return cells


def html_to_xlsx(html: str) -> bytes:
    """An HTML table as an .xlsx workbook (one sheet; spans merged)."""
    try:
        from openpyxl import Workbook
    except ImportError:
        raise OutputError("save_to_xlsx needs openpyxl: pip install 'hpi[table]' (or pip install openpyxl).") from None
    book = Workbook()
    sheet = book.active
    for row, col, rowspan, colspan, text in table_grid(html):
        sheet.cell(row=row + 1, column=col + 1, value=text)
        if rowspan > 1 or colspan > 1:
            sheet.merge_cells(start_row=row + 1, start_column=col + 1, end_row=row + rowspan,
                              end_column=col + colspan)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


__all__ = ["SingleTableRecognitionResult", "TableRecognitionResult", "html_to_xlsx", "table_grid"]
