"""The server's settings: limits, admission control and batching, with their defaults.

They come from ``hpi --serve`` flags, or from a pipeline YAML's ``Serving``
section (PaddleX's key: ``Serving: {visualize: false, extra:
{max_num_input_imgs: 10}}``), flags winning over the YAML.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import Any, Mapping

from ..env import bool_word
from ..errors import ConfigError, did_you_mean

# PaddleX's caps: 178,956,970 pixels per image or page; 10 PDF pages; output pictures fit 2000×2000.
DEFAULT_MAX_PIXELS = 178_956_970
DEFAULT_MAX_PDF_PAGES = 10
DEFAULT_MAX_OUTPUT_IMAGE_SIZE = (2000, 2000)


@dataclass(frozen=True)
class ServingSettings:
    """What the server allows and how it schedules work.

    Admission: at most ``concurrency`` requests run the pipeline at once (each
    in its own thread, their model calls batched together); up to
    ``max_queue`` more wait for a turn; a request beyond that is answered 503 at
    once, and one not done within ``timeout_s`` (queue + work) is answered 503
    and its remaining model calls dropped.
    """

    visualize: bool = True  # PaddleX's default when a request leaves ``visualize`` out
    allow_url: bool = False  # ``file`` may be an http(s) URL (fetched by the server)
    max_body_bytes: int = 64 * 1024 * 1024
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_pdf_pages: int = DEFAULT_MAX_PDF_PAGES  # pages beyond are not rendered (PaddleX's rule)
    max_output_image_size: tuple[int, int] = DEFAULT_MAX_OUTPUT_IMAGE_SIZE
    max_csv_rows: int = 1_000_000  # rows of a time-series request's CSV (more is a 422)
    concurrency: int = 8
    max_queue: int = 32
    timeout_s: float = 60.0
    batching: bool = True
    max_batch_size: int = 16
    max_wait_ms: float = 5.0
    # Text lines of different widths may share a recognition call, the narrower zero-padded by at most
    # this many columns (0: only equal widths). Texts stay unchanged up to 512 (hpi/serving/batching.py),
    # but on CPU a padded column costs as much as a real one and merged rows bring no per-row gain:
    # 256 measured 0.62 req/s vs 0.71 for equal widths at concurrency 8 on 2 cores (README, "Serving").
    # Worth trying on GPUs, where bigger batches are cheaper per row.
    max_pad_columns: int = 0
    url_timeout_s: float = 10.0
    graceful_shutdown_s: float = 30.0

    def __post_init__(self) -> None:
        for name in ("max_body_bytes", "max_pixels", "max_pdf_pages", "max_csv_rows", "concurrency", "max_batch_size"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"Serving setting {name} is {getattr(self, name)!r}; it must be at least 1.")
        for name in ("max_queue", "max_pad_columns"):
            if int(getattr(self, name)) < 0:
                raise ConfigError(f"Serving setting {name} is {getattr(self, name)!r}; it must be 0 or more.")
        for name in ("timeout_s", "url_timeout_s", "graceful_shutdown_s"):
            if not float(getattr(self, name)) > 0:
                raise ConfigError(f"Serving setting {name} is {getattr(self, name)!r}; it must be positive.")
        if float(self.max_wait_ms) < 0:
            raise ConfigError(f"Serving setting max_wait_ms is {self.max_wait_ms!r}; it must be 0 or more.")

    def replace(self, **changes: Any) -> "ServingSettings":
        """These settings with ``changes`` (None values ignored: not given)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    @classmethod
    def from_text(cls, values: Mapping[str, str]) -> "ServingSettings":
        """Settings from text (``serve run ... concurrency=8 visualize=false max_output_image_size=1000,800``):
        each value parsed by its field's type, a bad one an error naming the setting."""
        kinds = {f.name: f.type for f in fields(cls)}
        parsed: dict[str, Any] = {}
        for key, text in values.items():
            if key not in kinds:
                raise ConfigError(f"Unknown serving setting {key!r}{did_you_mean(key, kinds)}. "
                                  f"Valid: {', '.join(sorted(kinds))}.")
            parsed[key] = _parse(key, str(text), str(kinds[key]))
        return cls(**parsed)

    @classmethod
    def from_paddlex(cls, section: Mapping[str, Any] | None) -> "ServingSettings":
        """Settings from a YAML ``Serving`` section: PaddleX's keys (``visualize``,
        ``extra.max_num_input_imgs``, ``extra.max_output_img_size``) and hpi's own (the field names above,
        at the top level or under ``extra``). An unknown key is an error."""
        section = dict(section or {})
        extra = dict(section.pop("extra", None) or {})
        values: dict[str, Any] = {}
        if "max_num_input_imgs" in extra:
            values["max_pdf_pages"] = extra.pop("max_num_input_imgs")
        if "max_output_img_size" in extra:
            values["max_output_image_size"] = extra.pop("max_output_img_size")
        section.pop("return_urls", None)  # PaddleX's file storage: hpi returns base64 only
        for key in ("file_storage", "url_expires_in", "return_img_urls"):
            extra.pop(key, None)
        valid = {f.name for f in fields(cls)}
        for key, value in {**extra, **section}.items():
            if key not in valid:
                raise ConfigError(f"Unknown Serving key {key!r}{did_you_mean(key, valid)}. Valid: {', '.join(sorted(valid))}.")
            values[key] = value
        kinds = {f.name: str(f.type) for f in fields(cls)}
        return cls(**{key: _typed(key, value, kinds[key]) for key, value in values.items()})


def _typed(key: str, value: Any, kind: str) -> Any:
    """A YAML value as its field's type: text parsed as the command line's is, numbers and booleans checked."""
    if isinstance(value, str):
        return _parse(key, value, kind)
    if kind == "bool" and isinstance(value, bool):
        return value
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "float" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if kind.startswith("tuple") and isinstance(value, (list, tuple)) and len(value) == 2 \
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return int(value[0]), int(value[1])
    return _parse(key, repr(value), kind)  # the error, worded as for text


def _parse(key: str, text: str, kind: str) -> Any:
    """One setting's text as its field's type (``bool``, ``int``, ``float``, ``tuple[int, int]``)."""
    value = text.strip()
    try:
        if kind == "bool":
            flag = bool_word(value)
            if flag is None:
                raise ValueError(value)
            return flag
        if kind.startswith("tuple"):
            width, height = (int(part) for part in value.replace("x", ",").split(","))
            return width, height
        return int(value) if kind == "int" else float(value)
    except (KeyError, ValueError):
        expected = {"bool": "true or false", "int": "a whole number", "float": "a number"}.get(
            kind, "two whole numbers, e.g. 1000,800")
        raise ConfigError(f"Serving setting {key} is {text!r}; it must be {expected}.") from None


__all__ = ["DEFAULT_MAX_PDF_PAGES", "DEFAULT_MAX_PIXELS", "ServingSettings"]
