"""Registered sketch classifiers. Importing this package registers every model."""

from sketch_edge.models import cnn, edge, sequence  # noqa: F401  (registers the CNNs, the edge-cnn family and the stroke models)
from sketch_edge.models.registry import ModelSpec, get_model_spec, list_families, list_models, register, short_name

DEFAULT_MODEL = "edge-cnn"

__all__ = ["DEFAULT_MODEL", "ModelSpec", "get_model_spec", "list_families", "list_models", "register", "short_name"]
