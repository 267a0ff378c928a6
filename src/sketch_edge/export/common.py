"""Helpers the exporters share: the traced serving function and file digests."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from sketch_edge.data import InputSpec

INPUT_NAME = "image"
OUTPUT_NAME = "probabilities"


def serving_function(model: Any, input_spec: InputSpec) -> Any:
    """The model as a `tf.function` with a dynamic batch, the form both converters read reliably from Keras 3."""
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec((None, *input_spec.shape), tf.float32, name=INPUT_NAME)])
    def serve(image: Any) -> Any:
        return model(image, training=False)

    return serve


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
