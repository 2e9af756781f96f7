"""The layout parsing result: PaddleX's v1 ``LayoutParsingResult`` keys and pictures, plus Markdown."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .base import ResultBase, output_file, write_atomically

# Blocks left out of the Markdown: page furniture and pictures (their text is OCR noise in the document).
_MARKDOWN_SKIPPED = ("header", "footer", "figure", "image", "chart", "seal", "number")
_TITLES = ("title", "doc_title", "paragraph_title")


class LayoutParsingResult(ResultBase):
    """One page parsed into blocks.

    ``.json["res"]`` (PaddleX's order): ``input_path, page_index, model_settings,
    parsing_res_list`` (``[{block_bbox, block_label, block_content}]`` in reading order),
    ``doc_preprocessor_res`` (when it ran), ``layout_det_res``, ``overall_ocr_res``,
    ``table_res_list`` and ``seal_res_list`` (when not empty). Files: ``save_to_json``
    (``<stem>_res.json``), ``save_to_img`` (``<stem>_layout_det_res.png``,
    ``<stem>_ocr_res_img.png``, ``<stem>_table_cell_img.png``, ``<stem>_seal_res_region<n>.png``, the
    preprocessor's), ``save_to_html`` / ``save_to_xlsx`` (``<stem>_table_<n>``), and
    ``save_to_markdown`` (``<stem>.md``: the blocks in order, tables as HTML).
    """

    def __init__(self, *, input_path: str | None, page_index: int | None, image: np.ndarray, model_settings: dict,
                 parsing_res_list: list[dict], doc_preprocessor_res, layout_det_res, overall_ocr_res,
                 table_res_list: list, seal_res_list: list, stem: str = "result",
                 timings_ms: dict | None = None) -> None:
        self.input_path = input_path
        self.page_index = page_index
        self.image = image  # the page the blocks refer to (after the doc preprocessor)
        self.model_settings = model_settings
        self.parsing_res_list = parsing_res_list
        self.doc_preprocessor_res = doc_preprocessor_res
        self.layout_det_res = layout_det_res
        self.overall_ocr_res = overall_ocr_res
        self.table_res_list = table_res_list
        self.seal_res_list = seal_res_list
        self.stem = stem
        self.timings_ms = timings_ms or {}

    @property
    def json(self) -> dict:
        res = {"input_path": self.input_path, "page_index": self.page_index, "model_settings": self.model_settings,
               "parsing_res_list": self.parsing_res_list}
        if self.model_settings.get("use_doc_preprocessor") and self.doc_preprocessor_res is not None:
            res["doc_preprocessor_res"] = self.doc_preprocessor_res.json["res"]
        res["layout_det_res"] = self.layout_det_res.json["res"]
        res["overall_ocr_res"] = self.overall_ocr_res.json["res"]
        if self.model_settings.get("use_table_recognition") and self.table_res_list:
            res["table_res_list"] = [table.json["res"] for table in self.table_res_list]
        if self.model_settings.get("use_seal_recognition") and self.seal_res_list:
            res["seal_res_list"] = [seal.json["res"] for seal in self.seal_res_list]
        return {"res": res}

    def texts(self) -> list[str]:
        return [f"[{b['block_label']}] {b['block_content']}" for b in self.parsing_res_list]

    # -- Markdown -----------------------------------------------------------------------------------------
    def markdown(self) -> str:
        """The page as Markdown: titles as headings, text blocks as paragraphs in reading order, tables as
        their HTML; headers, footers, figures and seals left out, a block repeating one of the two
        before it (one region detected as two classes) written once."""
        parts: list[str] = []
        seen: list[str] = []
        for block in self.parsing_res_list:
            label, content = block["block_label"], str(block["block_content"]).strip()
            if not content or label in _MARKDOWN_SKIPPED or content in seen[-2:]:
                continue  # a region found twice (as text and as a caption) is written once
            seen.append(content)
            if label in _TITLES:
                parts.append(("## " if label == "paragraph_title" else "# ") + " ".join(content.split("\n")))
            elif label == "table":
                parts.append(content)
            elif label in ("formula", "equation"):
                parts.append(f"$$\n{content}\n$$")
            else:
                parts.append("\n".join(line.strip() for line in content.split("\n")))
        return "\n\n".join(parts) + ("\n" if parts else "")

    def save_to_markdown(self, save_path: str | Path) -> Path:
        """Write ``<stem>.md`` (a path ending in .md is used as it is) and return its path."""
        target = output_file(save_path, self.stem, "", ".md")
        return write_atomically(target, self.markdown().encode("utf-8"))

    # -- tables -------------------------------------------------------------------------------------------
    def _tables(self):
        from .table_recognition import TableRecognitionResult

        return TableRecognitionResult(
            input_path=self.input_path, page_index=self.page_index, image=self.image,
            model_settings={"use_doc_preprocessor": False}, doc_preprocessor_res=None, layout_det_res=None,
            overall_ocr_res=self.overall_ocr_res, table_res_list=self.table_res_list, stem=self.stem)

    @property
    def html(self) -> dict[str, str]:
        """``table_<n>`` → the table's HTML (PaddleX's ``LayoutParsingResult.html``)."""
        return self._tables().html

    def save_to_html(self, save_path: str | Path) -> list[Path]:
        """Write ``<stem>_table_<n>.html`` per table."""
        return self._tables().save_to_html(save_path)

    def save_to_xlsx(self, save_path: str | Path) -> list[Path]:
        """Write ``<stem>_table_<n>.xlsx`` per table."""
        return self._tables().save_to_xlsx(save_path)

    # -- pictures -----------------------------------------------------------------------------------------
    @property
    def img(self) -> dict:
        """PaddleX's pictures: the preprocessor's (when it ran), ``layout_det_res``, ``overall_ocr_res``,
        ``table_cell_img`` (tables' cells), ``seal_res_region<n>``."""
        pictures = {}
        if self.model_settings.get("use_doc_preprocessor") and self.doc_preprocessor_res is not None:
            pictures.update(self.doc_preprocessor_res.img)
        pictures["layout_det_res"] = self.layout_det_res.img["res"]
        pictures["overall_ocr_res"] = self.overall_ocr_res.img["ocr_res_img"]
        if self.table_res_list:
            pictures["table_cell_img"] = self._tables().img["table_cell_img"]
        for seal in self.seal_res_list:
            pictures[f"seal_res_region{seal.seal_region_id}"] = seal.img["ocr_res_img"]
        return pictures

    def __repr__(self) -> str:
        return (f"<LayoutParsingResult {self.input_path or self.stem!r} page={self.page_index} "
                f"blocks={len(self.parsing_res_list)} tables={len(self.table_res_list)}>")
