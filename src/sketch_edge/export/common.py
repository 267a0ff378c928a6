"""Helpers the exporters share: the traced serving function."""

from __future__ import annotations

from typing import Any

from sketch_edge.data import InputSpec

OUTPUT_NAME = "probabilities"


def serving_function(model: Any, input_spec: InputSpec, batch: int | None = None) -> Any:
    """The model as a `tf.function` with a dynamic batch (or a fixed one), the form both converters read reliably
    from Keras 3."""
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec((batch, *input_spec.shape), tf.float32, name=input_spec.name)])
    def serve(x: Any) -> Any:
        return model(x, training=False)

    return serve
