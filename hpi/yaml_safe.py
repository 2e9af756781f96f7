"""YAML from outside, read with a bound on what its aliases expand to.

``yaml.safe_load`` runs no code, but it builds a "billion laughs" file (aliases
of aliases, nine levels deep, 2 KB on disk) instantly as shared references;
whatever later walks the result (config checks, ``json.dumps``, deep copies)
then walks 10⁹ nodes and hangs. PaddleX's own files use a few aliases (PP-OCRv6's
``inference.yml`` repeats its TensorRT shapes with ``&id001``), so aliases
cannot simply be refused: :func:`load` composes the node graph, counts the
nodes the document would have with every alias expanded (linear in the file,
shared nodes counted once per use), and refuses more than
:data:`MAX_EXPANDED_NODES` or a recursive alias, before anything is built.
"""

from __future__ import annotations

from typing import Any

# A PaddleX inference.yml with an inline 18,710-character dictionary has ~19,000 nodes; 50× that is room
# for any real config and still walks in well under a second.
MAX_EXPANDED_NODES = 1_000_000


class YAMLBombError(ValueError):
    """The document's aliases expand past the bound, or refer to themselves."""


def _children(node) -> list:
    import yaml

    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _expanded_size(root, limit: int) -> int:
    """Nodes in the document with every alias expanded (each shared node counted once per reference).

    Iterative post-order walk with one size per distinct node, so a deep or wide file costs its own size."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            total = 1 + sum(sizes[id(child)] for child in _children(node))
            if total > limit:
                raise YAMLBombError(f"its aliases expand to more than {limit:,} nodes")
            sizes[key] = total
            open_nodes.discard(key)
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise YAMLBombError("an alias refers to a node that contains it (a recursive structure)")
        open_nodes.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in open_nodes:
                raise YAMLBombError("an alias refers to a node that contains it (a recursive structure)")
            if id(child) not in sizes:
                stack.append((child, False))
    return sizes[id(root)]


def load(text: str, limit: int = MAX_EXPANDED_NODES) -> Any:
    """The document in ``text`` (safe types only), or :class:`YAMLBombError` / ``yaml.YAMLError``."""
    import yaml

    # libyaml's parser where PyYAML has it (5× faster on PaddleX's 18,710-character rec inference.yml), with
    # the same safe constructor.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        try:
            root = loader.get_single_node()
            if root is None:
                return None
            _expanded_size(root, limit)
            return loader.construct_document(root)
        except RecursionError:  # PyYAML composes and builds recursively: thousands of nesting levels
            raise YAMLBombError("it nests deeper than any config does") from None
    finally:
        loader.dispose()


__all__ = ["MAX_EXPANDED_NODES", "YAMLBombError", "load"]
