"""Rendered tables with known structure and HTML (no copyrighted images).

A table is given as rows of cells (text, rowspan, colspan) in reading order;
each cell takes the first free grid slot, as in HTML. The picture is drawn
with Pillow (ruled: every cell border; unruled: a top and bottom rule only),
and the ground truth is PaddleX's HTML form:
``<html><body><table><tr><td colspan="2">text</td>…</tr></table></body></html>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

from rendering import _to_bgr, cjk_font, latin_fonts, load_font


@dataclass(frozen=True)
class Cell:
    text: str
    rowspan: int = 1
    colspan: int = 1


@dataclass
class RenderedTable:
    image: np.ndarray  # BGR uint8
    html: str  # PaddleX's pred_html form, with the texts
    cells: list[tuple[tuple[int, int, int, int], Cell]] = field(default_factory=list)  # box in the image, cell
    n_rows: int = 0
    n_cols: int = 0


def _layout(rows: list[list[Cell]]) -> tuple[list[tuple[int, int, Cell]], int, int]:
    """(row, col, cell) of each cell in the grid, and the grid size."""
    taken: set[tuple[int, int]] = set()
    placed = []
    n_cols = 0
    for r, row in enumerate(rows):
        c = 0
        for cell in row:
            while (r, c) in taken:
                c += 1
            for dr in range(cell.rowspan):
                for dc in range(cell.colspan):
                    taken.add((r + dr, c + dc))
            placed.append((r, c, cell))
            c += cell.colspan
            n_cols = max(n_cols, c)
    n_rows = max(r for r, _ in taken) + 1
    return placed, n_rows, n_cols


def table_html(rows: list[list[Cell]]) -> str:
    """PaddleX's HTML for ``rows`` (spans as ``<td colspan="2">``)."""
    parts = ["<html><body><table>"]
    for row in rows:
        parts.append("<tr>")
        for cell in row:
            attrs = (f' rowspan="{cell.rowspan}"' if cell.rowspan > 1 else "") + (
                f' colspan="{cell.colspan}"' if cell.colspan > 1 else "")
            parts.append(f"<td{attrs}>{cell.text}</td>")
        parts.append("</tr>")
    parts.append("</table></body></html>")
    return "".join(parts)


def render_table(rows: list[list[Cell]], *, ruled: bool = True, font_size: int = 20, pad: int = 10,
                 margin: int = 20, chinese: bool | None = None) -> RenderedTable:
    """Draw ``rows`` as a table picture; non-ASCII text (``chinese``, default: detected) uses
    :func:`rendering.cjk_font`."""
    if chinese is None:
        chinese = any(not cell.text.isascii() for row in rows for cell in row)
    font_path = cjk_font() if chinese else (latin_fonts()[0] if latin_fonts() else None)
    font = load_font(font_path, font_size)
    placed, n_rows, n_cols = _layout(rows)

    def text_width(text: str) -> int:
        return int(font.getlength(text)) if text else 0

    col_w = [40] * n_cols
    for _, c, cell in placed:
        if cell.colspan == 1:
            col_w[c] = max(col_w[c], text_width(cell.text) + 2 * pad)
    for _, c, cell in placed:  # a merged cell wider than its columns widens them evenly
        if cell.colspan > 1:
            need = text_width(cell.text) + 2 * pad - sum(col_w[c:c + cell.colspan])
            for k in range(c, c + cell.colspan):
                col_w[k] += max(0, -(-need // cell.colspan))
    row_h = font_size + 2 * pad + 4
    xs = np.concatenate([[margin], margin + np.cumsum(col_w)]).astype(int)
    ys = margin + np.arange(n_rows + 1) * row_h
    width, height = int(xs[-1] + margin), int(ys[-1] + margin)
    img = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    cells = []
    for r, c, cell in placed:
        x1, x2 = int(xs[c]), int(xs[c + cell.colspan])
        y1, y2 = int(ys[r]), int(ys[r + cell.rowspan])
        if ruled:
            draw.rectangle([x1, y1, x2, y2], outline=(0, 0, 0), width=2)
        if cell.text:
            tw = text_width(cell.text)
            ty = (y1 + y2) // 2 - font_size // 2 - 2
            draw.text(((x1 + x2) // 2 - tw // 2, ty), cell.text, fill=(0, 0, 0), font=font)
        cells.append(((x1, y1, x2, y2), cell))
    if not ruled:  # a booktabs-like table: rules above, below the first row and at the bottom
        for y in (ys[0], ys[1], ys[-1]):
            draw.line([(xs[0], int(y)), (xs[-1], int(y))], fill=(0, 0, 0), width=2)
    return RenderedTable(_to_bgr(img), table_html(rows), cells, n_rows, n_cols)


def grid(n_rows: int, n_cols: int, seed: int = 0, chinese: bool = False) -> list[list[Cell]]:
    """A plain ``n_rows`` × ``n_cols`` table of short words and numbers (a header row first)."""
    rng = np.random.default_rng(seed)
    if chinese:
        words = ["项目", "数量", "单价", "金额", "日期", "备注", "名称", "合计", "北京", "上海", "产品", "客户"]
    else:
        words = ["Item", "Qty", "Price", "Total", "Date", "Note", "Name", "Sum", "Paris", "Berlin", "Alpha", "Delta"]
    header = [Cell(words[(seed + c) % len(words)]) for c in range(n_cols)]
    body = []
    for r in range(1, n_rows):
        row = []
        for c in range(n_cols):
            if c == 0:
                row.append(Cell(words[int(rng.integers(len(words)))]))
            else:
                row.append(Cell(str(int(rng.integers(1, 999)))))
        body.append(row)
    return [header, *body]
