"""Model registry, fetching, export and resolution of user-given model paths."""

from .registry import MODELS, ModelSpec, get_model_spec

__all__ = ["MODELS", "ModelSpec", "get_model_spec"]
