"""hpi: a high-performance inference engine for PaddleX-style vision pipelines.

``from hpi import create_pipeline`` is the entry point; nothing heavy is
imported until a pipeline is created.
"""

from __future__ import annotations

import logging

__version__ = "0.1.0"

logging.getLogger("hpi").addHandler(logging.NullHandler())


def create_pipeline(pipeline: str = "OCR", device: str | None = None, **kwargs):
    """Create a pipeline by name (``"OCR"``) or from a PaddleX-style YAML path.

    See :func:`hpi.pipelines.create_pipeline` for the arguments.
    """
    from .pipelines import create_pipeline as _create

    return _create(pipeline, device=device, **kwargs)


def create_model(model_name: str | None = None, model_dir=None, device: str | None = None, **kwargs):
    """PaddleX's single-model API: one module's model by name (``"PP-OCRv6_small_det"``) or ``model_dir``.

    See :func:`hpi.pipelines.single_model.create_model` for the arguments.
    """
    from .pipelines.single_model import create_model as _create

    return _create(model_name, model_dir, device=device, **kwargs)


__all__ = ["create_model", "create_pipeline", "__version__"]
