"""Model registry: a name -> a builder and the training settings that go with it.

Builders import Keras lazily, so listing models (or anything else that only needs
names) never loads TensorFlow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sketch_edge.data.dataset import INPUT_SPECS, InputSpec
from sketch_edge.errors import ModelError, unknown_name

if TYPE_CHECKING:
    import keras


@dataclass(frozen=True)
class ModelSpec:
    name: str
    input_kind: str
    build: Callable[[int], keras.Model]
    description: str
    epochs: int
    batch_size: int
    learning_rate: float
    augment: bool
    label_smoothing: float  # share of each target spread over the other classes: keeps a small model from overconfidence

    @property
    def input_spec(self) -> InputSpec:
        return INPUT_SPECS[self.input_kind]


_REGISTRY: dict[str, ModelSpec] = {}


def register(
    name: str,
    *,
    input_kind: str,
    epochs: int,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    augment: bool = False,
    label_smoothing: float = 0.0,
) -> Callable[[Callable[[int], keras.Model]], Callable[[int], keras.Model]]:
    """Decorator: register `builder(num_classes) -> keras.Model` under `name`."""

    def add(builder: Callable[[int], keras.Model]) -> Callable[[int], keras.Model]:
        if name in _REGISTRY:
            raise ValueError(f"model {name!r} registered twice")
        if input_kind not in INPUT_SPECS:
            raise ValueError(f"model {name!r}: unknown input kind {input_kind!r}")
        doc = (builder.__doc__ or "").strip().splitlines()
        _REGISTRY[name] = ModelSpec(
            name, input_kind, builder, doc[0] if doc else "", epochs, batch_size, learning_rate, augment, label_smoothing
        )
        return builder

    return add


def list_models() -> list[str]:
    return sorted(_REGISTRY)


def get_model_spec(name: str) -> ModelSpec:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ModelError(unknown_name("model", name, _REGISTRY)) from None
