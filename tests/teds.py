"""TEDS (tree-edit-distance similarity, PubTabNet's table metric), written for the tests.

``teds(pred_html, true_html)`` = 1 − TED(pred, true) / max(|pred|, |true|)
over the trees of ``table → tr → td`` nodes. Insert and delete cost 1;
renaming costs 1 when the tags, colspans or rowspans differ, else (``td``
with content) the normalised Levenshtein distance of the two texts (0 with
``structure_only``). ``<thead>``/``<tbody>`` wrappers are dropped first: a
rendered picture carries no header semantics, and the models add them
differently (SLANet writes a ``<thead>``, SLANet_plus does not). The tree
edit distance is Zhang–Shasha's algorithm (exact; tables of a few hundred
nodes take milliseconds).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape


@dataclass
class Node:
    tag: str
    colspan: int = 1
    rowspan: int = 1
    text: str = ""
    children: list["Node"] = field(default_factory=list)


_TOKEN = re.compile(r"<(/?)(table|tr|td|th|thead|tbody)\b([^>]*)>|([^<]+)", re.I)
_SPAN = re.compile(r'(colspan|rowspan)\s*=\s*"?(\d+)', re.I)


def parse_table(html: str) -> Node:
    """The ``table`` tree of the first table in ``html`` (texts of a cell joined, inner tags dropped)."""
    html = re.sub(r"</?(b|i|sup|sub|span|br|html|body)[^>]*>", "", html, flags=re.I)
    root = Node("table")
    row: Node | None = None
    cell: Node | None = None
    for closing, tag, attrs, text in _TOKEN.findall(html):
        tag = tag.lower()
        if text:
            if cell is not None:
                cell.text += unescape(text)
            continue
        if tag in ("table", "thead", "tbody"):
            continue
        if tag == "tr":
            if closing:
                row = None
            else:
                row = Node("tr")
                root.children.append(row)
        elif tag in ("td", "th"):
            if closing:
                cell = None
                continue
            if row is None:
                row = Node("tr")
                root.children.append(row)
            spans = {k.lower(): int(v) for k, v in _SPAN.findall(attrs)}
            cell = Node("td", spans.get("colspan", 1), spans.get("rowspan", 1))
            row.children.append(cell)
    for r in root.children:
        for c in r.children:
            c.text = " ".join(c.text.split())
    return root


def _levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _rename_cost(a: Node, b: Node, structure_only: bool) -> float:
    if a.tag != b.tag or a.colspan != b.colspan or a.rowspan != b.rowspan:
        return 1.0
    if structure_only or a.tag != "td" or (not a.text and not b.text):
        return 0.0
    return _levenshtein(a.text, b.text) / max(len(a.text), len(b.text))


def _postorder(root: Node) -> tuple[list[Node], list[int]]:
    """Nodes in post-order and, per node, the post-order index of its leftmost leaf."""
    nodes: list[Node] = []
    leftmost: list[int] = []

    def visit(node: Node) -> int:
        first = None
        for child in node.children:
            leaf = visit(child)
            first = leaf if first is None else first
        nodes.append(node)
        leftmost.append(len(nodes) - 1 if first is None else first)
        return leftmost[-1]

    visit(root)
    return nodes, leftmost


def tree_edit_distance(a: Node, b: Node, structure_only: bool = False) -> float:
    """Zhang–Shasha tree edit distance with unit insert/delete and :func:`_rename_cost`."""
    na, la = _postorder(a)
    nb, lb = _postorder(b)
    keyroots_a = [i for i in range(len(na)) if all(la[j] != la[i] for j in range(i + 1, len(na)))]
    keyroots_b = [j for j in range(len(nb)) if all(lb[k] != lb[j] for k in range(j + 1, len(nb)))]
    dist = [[0.0] * len(nb) for _ in range(len(na))]
    for i in keyroots_a:
        for j in keyroots_b:
            li, lj = la[i], lb[j]
            rows, cols = i - li + 2, j - lj + 2
            fd = [[0.0] * cols for _ in range(rows)]
            for x in range(1, rows):
                fd[x][0] = fd[x - 1][0] + 1
            for y in range(1, cols):
                fd[0][y] = fd[0][y - 1] + 1
            for x in range(1, rows):
                for y in range(1, cols):
                    ai, bj = li + x - 1, lj + y - 1
                    if la[ai] == li and lb[bj] == lj:
                        fd[x][y] = min(fd[x - 1][y] + 1, fd[x][y - 1] + 1,
                                       fd[x - 1][y - 1] + _rename_cost(na[ai], nb[bj], structure_only))
                        dist[ai][bj] = fd[x][y]
                    else:
                        px, py = la[ai] - li, lb[bj] - lj
                        fd[x][y] = min(fd[x - 1][y] + 1, fd[x][y - 1] + 1, fd[px][py] + dist[ai][bj])
    return dist[-1][-1]


def teds(pred_html: str, true_html: str, structure_only: bool = False) -> float:
    """Tree-edit-distance similarity in [0, 1] of two tables' HTML (1: identical)."""
    pred, true = parse_table(pred_html), parse_table(true_html)
    size = max(len(_postorder(pred)[0]), len(_postorder(true)[0]))
    return max(0.0, 1.0 - tree_edit_distance(pred, true, structure_only) / size)
