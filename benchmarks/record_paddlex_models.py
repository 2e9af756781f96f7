"""Record PaddleX's official-model facts (hosts, hub list, model -> module) as JSON.

Run with a Python that has PaddleX installed (not the hpi environment):

    /tmp/pdx/bin/python benchmarks/record_paddlex_models.py --out hpi/models/paddlex_models.json

What it reads, all from the installed PaddleX, so the JSON can be regenerated
when PaddleX changes instead of being copied by hand:

* ``paddlex/inference/utils/official_models.py``: ``ALL_MODELS`` (every
  downloadable name), the hoster classes (try order, per-hoster model lists)
  and the format-package tables (``_onnx`` / ``_safetensors`` / ``paddle_dyn``).
  URL and repo templates are not copied: each hoster's ``_download`` is called
  with the placeholder name ``{name}`` while the actual download functions are
  patched to record their arguments and stop, so no network request is made.
* ``paddlex/modules/<module>/model_list.py`` (``MODELS``): which PaddleX module
  (task) a model belongs to.
* the predictor binding registry filled by ``import paddlex.inference.models``
  (model -> predictor class in ``paddlex/inference/models/<package>/``): used
  for models in no ``MODELS`` list (e.g. ``PP-DocLayoutV2``) by mapping their
  predictor package to the module of the other models bound to it.
* ``_ModelManager.get_model_path``: the cache folder name PaddleX uses for a
  registered model (``PaddleOCR-VL-0.9B`` is stored as ``PaddleOCR-VL``), which
  maps such download-only names to a module.

Models with no module after these steps get ``null``.
"""

import argparse
import datetime
import importlib
import json
import os
import pkgutil
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from unittest import mock

# Record defaults, not this shell's overrides; never probe the model hubs;
# keep PaddleX's lock files out of the real cache.
for _var in ("PADDLE_PDX_MODEL_SOURCE", "PADDLE_PDX_HUGGING_FACE_ENDPOINT"):
    os.environ.pop(_var, None)
os.environ["PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK"] = "True"
_CACHE = tempfile.TemporaryDirectory()
os.environ["PADDLE_PDX_CACHE_HOME"] = _CACHE.name

import paddlex  # noqa: E402
import paddlex.inference.models  # noqa: E402,F401  (fills the binding registry)
import paddlex.modules  # noqa: E402
from paddlex.inference.models.bindings import default_registry  # noqa: E402
from paddlex.inference.utils import official_models as om  # noqa: E402

PLACEHOLDER = "{name}"


class _Stop(Exception):
    pass


def _stop(calls):
    def record(*args, **kwargs):
        calls.append((args, kwargs))
        raise _Stop

    return record


def _download_call(hoster_cls, name):
    """Arguments PaddleX's hoster passes to its download function for ``name``."""
    calls = []
    rec = _stop(calls)
    with mock.patch.object(om, "download_and_extract", rec), mock.patch.object(
        om.hf_hub, "snapshot_download", rec
    ), mock.patch.object(om.modelscope, "snapshot_download", rec), mock.patch.object(
        om, "aistudio_download", rec
    ):
        root = Path(_CACHE.name) / "probe"
        try:
            hoster_cls(root)._download(name, root / name)
        except _Stop:
            pass
    args, kwargs = calls[0]
    return args, kwargs


def _cache_names(model_name):
    """Folder names under official_models/ that PaddleX looks up for a model."""
    seen = []

    def fake_download(hosters, names):
        seen.extend(names)
        raise _Stop

    mgr = om._ModelManager()
    with mock.patch.object(mgr, "_get_hosters", return_value=[None]), mock.patch.object(
        mgr, "_download_from_hoster", fake_download
    ):
        try:
            mgr.get_model_path(model_name)
        except _Stop:
            pass
    return seen


def hosts():
    hub_list = sorted(om._HuggingFaceModelHoster.model_list)
    out = {"order": [h.alias for h in om._ModelManager.hoster_candidates]}
    for cls in om._ModelManager.hoster_candidates:
        entry = {
            "healthcheck_url": cls.healthcheck_url,
            "models": "all" if cls.model_list is om.ALL_MODELS else (
                "huggingface_models" if sorted(cls.model_list) == hub_list else None
            ),
        }
        args, kwargs = _download_call(cls, PLACEHOLDER)
        if cls is om._BosModelHoster:
            entry["url"] = args[0]
            entry["special"] = {
                n: _download_call(cls, n)[0][0] for n in sorted(cls.special_model_fn)
            }
        else:
            entry["repo_id"] = kwargs["repo_id"]
            if "endpoint" in kwargs:
                entry["endpoint"] = kwargs["endpoint"]
                entry["endpoint_env"] = "PADDLE_PDX_HUGGING_FACE_ENDPOINT"
            # Per-name exceptions (e.g. AI Studio repos for PaddleOCR-VL).
            special = {}
            for n in sorted(cls.model_list):
                repo = _download_call(cls, n)[1]["repo_id"]
                if repo != entry["repo_id"].replace(PLACEHOLDER, n):
                    special[n] = repo
            if special:
                entry["special"] = special
        out[cls.alias] = entry
    out["source_env"] = "PADDLE_PDX_MODEL_SOURCE"
    out["source_default"] = paddlex.utils.flags.MODEL_SOURCE
    save_dir = Path(om._ModelManager._save_dir)
    out["cache"] = "${PADDLE_PDX_CACHE_HOME:-~/.paddlex}/%s/{name}" % (
        save_dir.relative_to(_CACHE.name).as_posix()
    )
    return out, hub_list


def packages(names):
    """Download-package name per non-default format (``_onnx`` etc.)."""
    out = {}
    for fmt in ("onnx", "safetensors", "paddle_dyn"):
        table = {}
        for n in names:
            try:
                pkg = om._resolve_download_model_names(n, [fmt])[0]
            except ValueError:
                continue
            table[n] = pkg
        out[fmt] = table
    return out


def models():
    module_of = defaultdict(set)
    for info in pkgutil.iter_modules(paddlex.modules.__path__):
        try:
            lst = importlib.import_module(f"paddlex.modules.{info.name}.model_list")
        except ModuleNotFoundError:
            continue
        for n in getattr(lst, "MODELS", []):
            module_of[n].add(info.name)

    registry = default_registry._registry
    package_of = {
        n: {b.predictor.__module__.split(".")[3] for b in engines.values()}
        for n, engines in registry.items()
    }
    package_modules = defaultdict(set)
    for n, pkgs in package_of.items():
        for p in pkgs:
            package_modules[p] |= module_of.get(n, set())

    def module(n):
        mods = set(module_of.get(n, ()))
        if not mods:
            for p in package_of.get(n, ()):
                mods |= package_modules[p]
        return mods.pop() if len(mods) == 1 else None

    # Registered names stored under another cache folder name.
    aliases = {}
    for n in sorted(set(registry) - set(om.ALL_MODELS)):
        folder = _cache_names(n)[0]
        if folder != n:
            aliases[folder] = n

    result = {
        n: module(n) or (module(aliases[n]) if n in aliases else None)
        for n in om.ALL_MODELS
    }
    predictor_packages = {
        sorted(m)[0]: p for p, m in package_modules.items() if len(m) == 1
    }
    return result, aliases, predictor_packages


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="hpi/models/paddlex_models.json")
    out = Path(ap.parse_args().out)

    host_data, hub_list = hosts()
    model_map, aliases, predictor_packages = models()
    data = {
        "paddlex_version": paddlex.__version__,
        "recorded": datetime.date.today().isoformat(),
        "hosts": host_data,
        "huggingface_models": hub_list,
        "cache_aliases": aliases,
        "packages": packages(sorted(set(om.ALL_MODELS) | set(aliases.values()))),
        "module_predictor_packages": predictor_packages,
        "models": model_map,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    nulls = sum(v is None for v in model_map.values())
    print(
        f"{out}: {len(model_map)} models, {len(set(model_map.values()) - {None})} "
        f"modules, {nulls} null",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
