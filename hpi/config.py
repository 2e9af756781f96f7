"""Pipeline configs: frozen dataclasses, loaded from and dumped to PaddleX-style YAML.

Unknown keys are an error that names the key and the valid ones, so a typo
never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError

PIPELINE_DIR_IN_PACKAGE = Path(__file__).parent / "pipelines" / "configs"
PIPELINE_DIR_IN_SOURCE = Path(__file__).parent.parent / "pipelines"


@dataclass(frozen=True)
class TextDetectionConfig:
    module_name: str = "text_detection"
    model_name: str = "PP-OCRv4_mobile_det"
    model_dir: str | None = None
    limit_side_len: int = 64
    limit_type: str = "min"
    max_side_limit: int = 4000
    thresh: float = 0.3
    box_thresh: float = 0.6
    unclip_ratio: float = 2.0
    box_type: str = "quad"
    score_mode: str = "fast"
    batch_size: int = 1  # PaddleX accepts it; detection runs one image at a time

    def validate(self, where: str) -> None:
        _check_choice(where, "limit_type", self.limit_type, ("min", "max"))
        if self.box_type != "quad":
            raise ConfigError(
                f"{where}.box_type is {self.box_type!r}; the OCR pipeline supports 'quad' only "
                "(curved-text polygons are decoded by hpi.kernels.db_decode but not cropped yet)."
            )
        _check_choice(where, "score_mode", self.score_mode, ("fast", "slow"))
        _check_positive(where, "limit_side_len", self.limit_side_len)
        _check_positive(where, "max_side_limit", self.max_side_limit)
        _check_range(where, "thresh", self.thresh, 0.0, 1.0)
        _check_range(where, "box_thresh", self.box_thresh, 0.0, 1.0)
        _check_positive(where, "unclip_ratio", self.unclip_ratio)


@dataclass(frozen=True)
class TextLineOrientationConfig:
    module_name: str = "textline_orientation"
    model_name: str = "PP-OCRv2_mobile_textline_ori"
    model_dir: str | None = None
    batch_size: int = 6

    def validate(self, where: str) -> None:
        _check_positive(where, "batch_size", self.batch_size)


@dataclass(frozen=True)
class TextRecognitionConfig:
    module_name: str = "text_recognition"
    model_name: str = "PP-OCRv4_mobile_rec"
    model_dir: str | None = None
    batch_size: int = 6
    score_thresh: float = 0.0

    def validate(self, where: str) -> None:
        _check_positive(where, "batch_size", self.batch_size)
        _check_range(where, "score_thresh", self.score_thresh, 0.0, 1.0)


@dataclass(frozen=True)
class DocOrientationClassifyConfig:
    module_name: str = "doc_text_orientation"
    model_name: str = "PP-LCNet_x1_0_doc_ori"
    model_dir: str | None = None
    batch_size: int = 1  # PaddleX accepts it; one page is classified at a time

    def validate(self, where: str) -> None:
        _check_positive(where, "batch_size", self.batch_size)


@dataclass(frozen=True)
class DocUnwarpingConfig:
    """Kept for PaddleX round trips only: hpi has no unwarping model (UVDoc has no weights on PyPI)."""

    module_name: str = "image_unwarping"
    model_name: str = "UVDoc"
    model_dir: str | None = None
    batch_size: int = 1

    def validate(self, where: str) -> None:
        _check_positive(where, "batch_size", self.batch_size)


@dataclass(frozen=True)
class DocPreprocessorConfig:
    """PaddleX's ``SubPipelines.DocPreprocessor``: whole-page orientation (and unwarping, refused).

    ``use_doc_unwarping`` defaults to False here (PaddleX: True) because hpi
    cannot run it; True is an error wherever the doc preprocessor would run.
    """

    pipeline_name: str = "doc_preprocessor"
    batch_size: int = 1
    use_doc_orientation_classify: bool = True
    use_doc_unwarping: bool = False
    doc_orientation_classify: DocOrientationClassifyConfig = field(default_factory=DocOrientationClassifyConfig)
    doc_unwarping: DocUnwarpingConfig | None = None  # written back only when the YAML had it

    def validate(self, where: str) -> None:
        if self.pipeline_name != "doc_preprocessor":
            raise ConfigError(f"{where}.pipeline_name is {self.pipeline_name!r}; it must be 'doc_preprocessor'.")
        _check_positive(where, "batch_size", self.batch_size)
        self.doc_orientation_classify.validate(f"{where}.SubModules.DocOrientationClassify")
        if self.doc_unwarping is not None:
            self.doc_unwarping.validate(f"{where}.SubModules.DocUnwarping")


UNWARPING_REFUSED = (
    "document unwarping (UVDoc) is not supported by hpi: no UVDoc weights are available to it. "
    "Set use_doc_unwarping to False"
)


@dataclass(frozen=True)
class HPIConfig:
    """hpi's own settings (PaddleX calls its high-performance-inference section ``hpi_config``)."""

    backend: str = "auto"
    precision: str = "fp32"
    threads: int | None = None
    measure: bool = True

    def validate(self, where: str) -> None:
        from .backends import BACKENDS

        _check_choice(where, "backend", self.backend, ("auto", *BACKENDS))
        _check_choice(where, "precision", self.precision, ("fp32", "fp16", "bf16"))
        if self.threads is not None:
            _check_positive(where, "threads", self.threads)


@dataclass(frozen=True)
class OCRConfig:
    pipeline_name: str = "OCR"
    text_type: str = "general"
    use_doc_preprocessor: bool = False
    use_textline_orientation: bool = False
    hpi_config: HPIConfig = field(default_factory=HPIConfig)
    text_detection: TextDetectionConfig = field(default_factory=TextDetectionConfig)
    textline_orientation: TextLineOrientationConfig = field(default_factory=TextLineOrientationConfig)
    text_recognition: TextRecognitionConfig = field(default_factory=TextRecognitionConfig)
    # PaddleX's SubPipelines.DocPreprocessor; used when use_doc_preprocessor is True (or per call)
    doc_preprocessor: DocPreprocessorConfig = field(default_factory=DocPreprocessorConfig)

    def validate(self) -> "OCRConfig":
        if self.pipeline_name != "OCR":
            raise ConfigError(f"pipeline_name is {self.pipeline_name!r}; this config class is for 'OCR'.")
        _check_choice("OCR", "text_type", self.text_type, ("general",))
        self.doc_preprocessor.validate("SubPipelines.DocPreprocessor")
        if self.use_doc_preprocessor and self.doc_preprocessor.use_doc_unwarping:
            raise ConfigError(
                f"use_doc_preprocessor is True and SubPipelines.DocPreprocessor.use_doc_unwarping is True, but "
                f"{UNWARPING_REFUSED} (orientation classification works), or use_doc_preprocessor: False."
            )
        self.hpi_config.validate("hpi_config")
        self.text_detection.validate("SubModules.TextDetection")
        self.textline_orientation.validate("SubModules.TextLineOrientation")
        self.text_recognition.validate("SubModules.TextRecognition")
        return self


# YAML section name -> dataclass field name, for the OCR pipeline's SubModules.
_OCR_SUBMODULES = {
    "TextDetection": ("text_detection", TextDetectionConfig),
    "TextLineOrientation": ("textline_orientation", TextLineOrientationConfig),
    "TextRecognition": ("text_recognition", TextRecognitionConfig),
}
_DOC_PREPROCESSOR_SUBMODULES = {
    "DocOrientationClassify": ("doc_orientation_classify", DocOrientationClassifyConfig),
    "DocUnwarping": ("doc_unwarping", DocUnwarpingConfig),
}
_OCR_TOP_LEVEL = {
    "pipeline_name", "text_type", "use_doc_preprocessor", "use_textline_orientation",
    "hpi_config", "use_hpip", "SubModules", "SubPipelines",
}


def _check_choice(where: str, key: str, value: Any, choices: tuple) -> None:
    if value not in choices:
        raise ConfigError(f"{where}.{key} is {value!r}; valid values: {', '.join(map(str, choices))}.")


def _check_positive(where: str, key: str, value: Any) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
        raise ConfigError(f"{where}.{key} is {value!r}; it must be a positive number.")


def _check_range(where: str, key: str, value: Any, low: float, high: float) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not low <= value <= high:
        raise ConfigError(f"{where}.{key} is {value!r}; it must be a number in [{low}, {high}].")


def _build(cls, data: Any, where: str):
    if data is None:
        return cls()
    if not isinstance(data, dict):
        raise ConfigError(f"{where} must be a mapping, got {type(data).__name__}.")
    valid = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(valid))
    if unknown:
        raise ConfigError(
            f"Unknown key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} in {where}. "
            f"Valid keys: {', '.join(sorted(valid))}."
        )
    values = {}
    for key, value in data.items():
        default = valid[key].default
        if isinstance(default, bool) and not isinstance(value, bool):
            raise ConfigError(f"{where}.{key} is {value!r}; it must be True or False.")
        if isinstance(default, (int, float)) and not isinstance(default, bool) and value is not None:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f"{where}.{key} is {value!r}; it must be a number.")
            value = type(default)(value) if isinstance(default, float) else value
        values[key] = value
    return cls(**values)


def ocr_config_from_dict(data: dict, source: str = "config") -> OCRConfig:
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: a pipeline config must be a YAML mapping.")
    unknown = sorted(set(data) - _OCR_TOP_LEVEL)
    if unknown:
        raise ConfigError(
            f"{source}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}. "
            f"Valid top-level keys: {', '.join(sorted(_OCR_TOP_LEVEL))}."
        )
    submodules = data.get("SubModules") or {}
    if not isinstance(submodules, dict):
        raise ConfigError(f"{source}: SubModules must be a mapping.")
    unknown = sorted(set(submodules) - set(_OCR_SUBMODULES))
    if unknown:
        raise ConfigError(
            f"{source}: unknown SubModules {', '.join(map(repr, unknown))}. "
            f"Valid: {', '.join(_OCR_SUBMODULES)}."
        )
    kwargs: dict[str, Any] = {}
    for key in ("pipeline_name", "text_type", "use_doc_preprocessor", "use_textline_orientation"):
        if key in data:
            kwargs[key] = data[key]
    for key in ("use_doc_preprocessor", "use_textline_orientation"):
        if key in kwargs and not isinstance(kwargs[key], bool):
            raise ConfigError(f"{source}: {key} is {kwargs[key]!r}; it must be True or False.")
    kwargs["hpi_config"] = _build(HPIConfig, data.get("hpi_config"), "hpi_config")
    for section, (name, cls) in _OCR_SUBMODULES.items():
        kwargs[name] = _build(cls, submodules.get(section), f"SubModules.{section}")
    sub_pipelines = data.get("SubPipelines") or {}
    if sub_pipelines:
        unknown = sorted(set(sub_pipelines) - {"DocPreprocessor"})
        if unknown:
            raise ConfigError(f"{source}: unknown SubPipelines {unknown}. Valid: DocPreprocessor.")
        kwargs["doc_preprocessor"] = _build_doc_preprocessor(sub_pipelines.get("DocPreprocessor"))
    return OCRConfig(**kwargs).validate()


def _build_doc_preprocessor(data: Any) -> DocPreprocessorConfig:
    where = "SubPipelines.DocPreprocessor"
    if data is None:
        return DocPreprocessorConfig()
    if not isinstance(data, dict):
        raise ConfigError(f"{where} must be a mapping, got {type(data).__name__}.")
    data = dict(data)
    submodules = data.pop("SubModules", None) or {}
    if not isinstance(submodules, dict):
        raise ConfigError(f"{where}.SubModules must be a mapping.")
    unknown = sorted(set(submodules) - set(_DOC_PREPROCESSOR_SUBMODULES))
    if unknown:
        raise ConfigError(
            f"Unknown SubModules {', '.join(map(repr, unknown))} in {where}. "
            f"Valid: {', '.join(_DOC_PREPROCESSOR_SUBMODULES)}."
        )
    scalar_keys = {"pipeline_name", "batch_size", "use_doc_orientation_classify", "use_doc_unwarping"}
    unknown = sorted(set(data) - scalar_keys)
    if unknown:
        raise ConfigError(
            f"Unknown key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} in {where}. "
            f"Valid keys: {', '.join(sorted(scalar_keys | {'SubModules'}))}."
        )
    config = _build(DocPreprocessorConfig, data, where)
    sections = {}
    for section, (name, cls) in _DOC_PREPROCESSOR_SUBMODULES.items():
        if section in submodules:
            sections[name] = _build(cls, submodules[section], f"{where}.SubModules.{section}")
    return replace(config, **sections)


def ocr_config_to_dict(config: OCRConfig) -> dict:
    out: dict[str, Any] = {
        "pipeline_name": config.pipeline_name,
        "text_type": config.text_type,
        "use_doc_preprocessor": config.use_doc_preprocessor,
        "use_textline_orientation": config.use_textline_orientation,
        "hpi_config": dataclasses.asdict(config.hpi_config),
        "SubModules": {
            section: dataclasses.asdict(getattr(config, name))
            for section, (name, _) in _OCR_SUBMODULES.items()
        },
    }
    doc = config.doc_preprocessor
    doc_submodules = {"DocOrientationClassify": dataclasses.asdict(doc.doc_orientation_classify)}
    if doc.doc_unwarping is not None:
        doc_submodules["DocUnwarping"] = dataclasses.asdict(doc.doc_unwarping)
    out["SubPipelines"] = {
        "DocPreprocessor": {
            "pipeline_name": doc.pipeline_name,
            "batch_size": doc.batch_size,
            "use_doc_orientation_classify": doc.use_doc_orientation_classify,
            "use_doc_unwarping": doc.use_doc_unwarping,
            "SubModules": doc_submodules,
        }
    }
    return out


def default_config_path(pipeline_name: str) -> Path:
    """The shipped YAML for a pipeline name (installed package data, or the source tree)."""
    for directory in (PIPELINE_DIR_IN_PACKAGE, PIPELINE_DIR_IN_SOURCE):
        candidate = directory / f"{pipeline_name}.yaml"
        if candidate.is_file():
            return candidate
    available = sorted(
        {p.stem for d in (PIPELINE_DIR_IN_PACKAGE, PIPELINE_DIR_IN_SOURCE) if d.is_dir() for p in d.glob("*.yaml")}
    )
    raise ConfigError(
        f"Unknown pipeline {pipeline_name!r}. Available pipelines: {', '.join(available) or 'none found'}; "
        "or give the path of a pipeline YAML (e.g. one written by hpi --get_pipeline_config OCR)."
    )


def load_yaml(path: str | Path) -> dict:
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot read pipeline config {str(path)!r}: {exc.strerror or exc}.") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must contain a YAML mapping (pipeline_name: ..., SubModules: ...).")
    return data


def load_pipeline_config(pipeline: str | Path) -> dict:
    """The raw dict of a pipeline name's default config or of a YAML path."""
    text = str(pipeline)
    if text.endswith((".yaml", ".yml")) or Path(text).is_file():
        if not Path(text).is_file():
            raise ConfigError(f"Pipeline config {text!r} does not exist.")
        return load_yaml(text)
    return load_yaml(default_config_path(text))


def dump_yaml(data: dict) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


__all__ = [
    "DocOrientationClassifyConfig", "DocPreprocessorConfig", "DocUnwarpingConfig", "HPIConfig", "OCRConfig",
    "TextDetectionConfig", "TextLineOrientationConfig", "TextRecognitionConfig",
    "default_config_path", "dump_yaml", "load_pipeline_config", "ocr_config_from_dict", "ocr_config_to_dict",
    "replace",
]
