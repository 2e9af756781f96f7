"""What a backend loads: a model's files in one or both formats, plus its facts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .registry import ModelSpec


@dataclass(frozen=True)
class ModelArtifacts:
    """A resolved model.

    ``onnx_path`` is set once the model exists as ONNX (shipped or exported);
    ``paddle_files`` (model, params) when a Paddle inference model is available.
    ``content_hash`` identifies the weights: caches of exports, decisions and
    engines are keyed by it, so a changed model never reuses a stale entry.
    """

    name: str
    content_hash: str
    spec: ModelSpec | None = None
    onnx_path: Path | None = None
    paddle_files: tuple[Path, Path] | None = None
    extra_files: dict[str, Path] = field(default_factory=dict)
    export_meta: dict = field(default_factory=dict)

    @property
    def tolerance(self) -> float:
        return self.spec.tolerance if self.spec else 1e-4
