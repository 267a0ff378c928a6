"""The project's own Keras layers. Registered with Keras, so `model.keras` files load them in safe mode."""

from __future__ import annotations

from typing import Any

import keras

from sketch_edge.data.sequence import PRESENT


@keras.saving.register_keras_serializable(package="sketch_edge")
class PaddingMask(keras.layers.Layer):
    """`features * present`, with `points` scaled to 0-1: zeroes a sequence's padded rows, so what follows sees only the drawing.

    Applied after every layer of a stroke model, the zeros left in padded rows are
    exactly what `same` padding would add, and ReLU features (>= 0) max-pool to the
    same value with or without them: the answer does not depend on the padding.
    """

    def call(self, features: Any, points: Any) -> Any:
        return features * points[..., PRESENT : PRESENT + 1]

    def compute_output_shape(self, features_shape: Any, points_shape: Any) -> Any:
        return features_shape
