"""``hpi info``: the device, installed backends with versions, and what the cache holds.

``--json`` prints the same as one JSON object. Nothing is fetched, built or measured.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys

from ..errors import HPIError
from .common import EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hpi info", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    return parser


def collect() -> dict:
    """Everything ``hpi info`` reports, as plain data."""
    from .. import __version__, _deps
    from ..backends import BACKENDS, is_installed
    from ..device import cpu_identity

    info: dict = {
        "hpi": __version__,
        "python": f"{platform.python_version()} ({sys.executable})",
        "platform": platform.platform(),
        "cpu": cpu_identity(),
        "gpus": _gpus(),
        "backends": {},
        "packages": {},
    }
    for name, backend in BACKENDS.items():
        installed = is_installed(name)
        info["backends"][name] = {
            "installed": installed,
            "version": _deps.version_of(backend.packages[0]) if installed else None,
            "devices": list(backend.devices),
            "install": None if installed else backend.install_hint,
        }
    for package in ("paddle2onnx", "onnx", "cuda"):
        info["packages"][package] = _deps.version_of(package)
    if not _deps.is_available("tensorrt"):
        info["backends"]["tensorrt"]["note"] = "not installable from PyPI alone; see docs/GPU.md"
    info["cache"] = _cache()
    return info


def _gpus() -> dict:
    try:
        from .. import device

        probe = getattr(device, "probe_gpus", None)
        if probe is None:
            return {"gpus": [], "note": "GPU probing is not available in this build"}
        gpus = probe()
        return {"gpus": [g.describe() if hasattr(g, "describe") else str(g) for g in gpus],
                "note": "" if gpus else "no CUDA device visible"}
    except Exception as exc:  # no cuda-python, no driver: say so, do not fail `hpi info`
        return {"gpus": [], "note": str(exc).splitlines()[0] if str(exc) else type(exc).__name__}


def _cache() -> dict:
    from ..cache import hpi_home, read_json
    from ..models.fetch import is_cached
    from ..models.registry import MODELS

    try:
        home = hpi_home()
    except HPIError as exc:
        return {"dir": None, "error": str(exc)}
    models = [name for name in MODELS if (home / "models" / name).is_dir() and is_cached(name)]
    exports = []
    for directory in sorted((home / "onnx").glob("*")):
        meta = read_json(directory / "meta.json") if directory.is_dir() else None
        if meta:
            exports.append({
                "model": meta.get("model"), "dir": str(directory),
                "paddle2onnx": meta.get("paddle2onnx"),
                "parity": (meta.get("parity") or {}).get("summary", "not checked"),
            })
    decisions = []
    for path in sorted((home / "decisions").glob("*.json")):
        record = read_json(path)
        if record:
            decisions.append({
                "model": record.get("model"), "device": record.get("device"),
                "backend": record.get("backend"), "created": record.get("created"),
                "timings_ms": record.get("timings_ms"), "precision": record.get("precision"),
                "threads": record.get("threads"), "fallback_precision": record.get("fallback_precision"),
            })
    engines = sorted(p.name for p in (home / "engines").glob("*")) if (home / "engines").is_dir() else []
    return {"dir": str(home), "models": models, "exports": exports, "decisions": decisions, "engines": engines}


def _print_text(info: dict) -> None:
    cpu = info["cpu"]
    print(f"hpi {info['hpi']}")
    print(f"python {info['python']}")
    print(f"platform {info['platform']}")
    print(f"cpu: {cpu['model']} ({cpu['machine']}, {cpu['cores']} cores; {' '.join(cpu['flags']) or 'no AVX2/AVX-512'})")
    gpus = info["gpus"]
    if gpus["gpus"]:
        for gpu in gpus["gpus"]:
            print(f"gpu: {gpu}")
    else:
        print(f"gpu: none ({gpus['note']})")
    print("backends:")
    for name, backend in info["backends"].items():
        if backend["installed"]:
            print(f"  {name:<12} {backend['version'] or '?':<12} devices: {', '.join(backend['devices'])}")
        else:
            print(f"  {name:<12} {'not installed':<12} ({backend['install']})")
    print("packages: " + ", ".join(f"{k} {v or 'not installed'}" for k, v in info["packages"].items()))
    cache = info["cache"]
    if cache.get("dir") is None:
        print(f"cache: unusable: {cache['error']}")
        return
    print(f"cache: {cache['dir']}")
    print(f"  models ({len(cache['models'])}): {', '.join(cache['models']) or 'none (hpi models pull all)'}")
    print(f"  ONNX exports ({len(cache['exports'])}):")
    for export in cache["exports"]:
        print(f"    {export['model']}: paddle2onnx {export['paddle2onnx']}; {export['parity']}")
    print(f"  backend decisions ({len(cache['decisions'])}):")
    for decision in cache["decisions"]:
        timings = ", ".join(f"{k} {v:.1f} ms" for k, v in sorted(
            (decision.get("timings_ms") or {}).items(), key=lambda kv: kv[1]))
        fallback = " (failed its accuracy check: runs at fp32)" if decision.get("fallback_precision") else ""
        print(f"    {decision['model']} on {decision['device']} ({decision['precision']}, "
              f"{decision['threads']} threads): {decision['backend']}{fallback} [{timings}] {decision['created']}")
    if cache["engines"]:
        print(f"  engines ({len(cache['engines'])}): {', '.join(cache['engines'])}")


def main(argv: list[str]) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    info = collect()
    if args.json:
        print(json.dumps(info, indent=2, default=str))
    else:
        _print_text(info)
    return EXIT_OK


__all__ = ["collect", "main"]
