"""Turn what the user names (a registry name, a PaddleX model name or dir, an .onnx file) into ModelArtifacts.

:func:`locate_model` finds the files and their facts; it never exports. The
verified export of a Paddle-only model needs the backends that run it:
:func:`hpi.backends.export_check.prepare_model` is locate + export + check.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ..cache import combine_digests, sha256_file, sha256_files
from ..errors import ModelError, ModelUnavailableError
from . import inference_yml, onnx_fp32, store
from .artifacts import ModelArtifacts
from .fetch import model_digests, model_files
from .registry import MODELS, ModelSpec, get_model_spec
from .tasks import get_task

log = logging.getLogger(__name__)

_PADDLE_MODEL_FILES = ("inference.json", "inference.pdmodel")


def _read_model_name(directory: Path) -> str | None:
    yml = directory / "inference.yml"
    return inference_yml.model_name(yml) if yml.is_file() else None


def _with_yml_facts(spec: ModelSpec | None, yml: Path, name: str, user_model: bool) -> ModelSpec | None:
    """``spec`` with the facts of the model's own inference.yml (said in the log for a user's model)."""
    facts = inference_yml.read_facts(yml)
    if spec is None:
        return None
    inference_yml.check_preprocess_ops(yml, get_task(spec.task).preprocess_ops, spec.task)
    if user_model:
        log.info("Model %s: from %s: %s", name, yml, inference_yml.describe_facts(facts))
    return inference_yml.apply_facts(spec, facts)


def locate_model(ref: str | Path, default_spec: ModelSpec | None = None) -> ModelArtifacts:
    """The model ``ref`` names, as found: Paddle files, ONNX file, or both (no export).

    ``ref`` is a registry name (fetched on first use), any PaddleX model name (PaddleX's cache,
    hpi's cache or fetched: :mod:`hpi.models.store`), a PaddleX model directory
    (``inference.json`` or ``inference.pdmodel`` + ``inference.pdiparams``,
    optional ``inference.yml``) or an ``.onnx`` file. ``default_spec`` supplies
    the model facts (mean/std, shapes) for user-given files whose name is not
    in the registry.
    """
    if isinstance(ref, str) and ref in MODELS:
        spec = get_model_spec(ref)
        files = model_files(ref)  # verifies every file's sha256 against source.json
        # The content hash comes from those verified digests: hashing the files again would double
        # the start-up I/O for the same answer.
        digests = model_digests(ref)
        extra = {role: path for role, path in files.items() if role not in ("pdmodel", "pdiparams", "onnx")}
        if "yml" in files:  # PaddleX's own inference.yml shipped with the weights (PP-OCRv6)
            spec = _with_yml_facts(spec, files["yml"], ref, user_model=False)
        if spec.format == "onnx":
            onnx_path, content_hash = _runnable_onnx(files["onnx"], digests["onnx"], extra, spec.onnx_fp16)
            return ModelArtifacts(ref, content_hash, spec, onnx_path=onnx_path, extra_files=extra)
        paddle = (files["pdmodel"], files["pdiparams"])
        content_hash = combine_digests([digests["pdmodel"], digests["pdiparams"]])
        return ModelArtifacts(ref, content_hash, spec, paddle_files=paddle, extra_files=extra)

    path = Path(ref).expanduser()
    if not path.exists() and isinstance(ref, str) and store.is_model_name(ref):
        # Any PaddleX model by name: PaddleX's cache, hpi's cache, or fetched.
        try:
            path = store.official_model_dir(ref)
        except ModelError as exc:
            known = ", ".join(name for name, s in MODELS.items() if s.status != "reference")
            raise ModelUnavailableError(f"Model {ref!r} is neither a known model name nor an existing path. {exc}\n"
                             f"hpi ships: {known}.") from None
    if not path.exists():
        raise ModelError(f"Model {str(ref)!r} is neither a known model name nor an existing path; give a model "
                         "name, a PaddleX model directory or an .onnx file.")
    if path.is_file():
        if path.suffix.lower() != ".onnx":
            raise ModelError(f"{path} is a file but not an .onnx model; give an .onnx file or a model directory.")
        spec = default_spec
        extra: dict[str, Path] = {}
        onnx_path, content_hash = _runnable_onnx(path, sha256_file(path), extra)
        return ModelArtifacts(path.stem, content_hash, spec, onnx_path=onnx_path, extra_files=extra)

    model_name = _read_model_name(path)
    spec = MODELS.get(model_name) if model_name else None
    spec = spec or default_spec
    name = model_name or path.name
    if (path / "inference.yml").is_file():
        spec = _with_yml_facts(spec, path / "inference.yml", name, user_model=True)
    # PaddleX's high-performance plugin leaves inference.onnx; any single .onnx beside an inference.yml works too.
    onnx_candidates = [p for p in (path / "inference.onnx", path / "model.onnx") if p.is_file()]
    if not onnx_candidates:
        found_onnx = sorted(path.glob("*.onnx"))
        onnx_candidates = found_onnx if len(found_onnx) == 1 else []
    model_file = next((path / f for f in _PADDLE_MODEL_FILES if (path / f).is_file()), None)
    params_file = path / "inference.pdiparams"
    yml_extra = {"yml": path / "inference.yml"} if (path / "inference.yml").is_file() else {}
    if model_file is not None and params_file.is_file():
        paddle = (model_file, params_file)
        content_hash = sha256_files(list(paddle))
        onnx_path = onnx_candidates[0] if onnx_candidates else None
        return ModelArtifacts(name, content_hash, spec, onnx_path=onnx_path, paddle_files=paddle,
                              extra_files=dict(yml_extra))
    if onnx_candidates:
        extra = dict(yml_extra)
        onnx_path, content_hash = _runnable_onnx(onnx_candidates[0], sha256_file(onnx_candidates[0]), extra)
        return ModelArtifacts(name, content_hash, spec, onnx_path=onnx_path, extra_files=extra)
    found = sorted(p.name for p in path.iterdir())[:12]
    raise ModelError(
        f"{path} is not a model directory: it needs inference.json or inference.pdmodel, plus "
        f"inference.pdiparams (or an inference.onnx). Found: {found or 'nothing'}."
    )


def _runnable_onnx(path: Path, digest: str, extra: dict, fp16: bool | None = None) -> tuple[Path, str]:
    """(the ONNX file to run, its content hash): an fp16 model's cached fp32 copy (the original then in
    ``extra["onnx_fp16"]``, for the conversion check), else ``path`` itself. ``fp16`` None: read the graph."""
    if fp16 is None:
        fp16 = onnx_fp32.has_fp16_inputs(path)
    if not fp16:
        return path, digest
    extra["onnx_fp16"] = path
    return onnx_fp32.fp32_copy(path, digest), combine_digests([digest, "fp32"])


def needs_export(artifacts: ModelArtifacts) -> bool:
    """Whether the model exists only as Paddle files (an ONNX export is needed to run it on ONNX backends)."""
    return artifacts.onnx_path is None and artifacts.paddle_files is not None
