"""Keras under TensorFlow: the reference row of the bench (and the only adapter that needs TensorFlow)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sketch_edge.errors import ModelError
from sketch_edge.runtime.base import TensorInfo


class KerasRunner:
    name = "keras"
    metadata = None  # the export stage embeds metadata in deployable files only
    thread_safe = False

    def __init__(self, model: object) -> None:
        self._model = model
        shape = tuple(None if d is None else int(d) for d in model.input_shape)
        self.input_spec = TensorInfo(model.inputs[0].name, shape, "float32")
        self.output_spec = TensorInfo("probabilities", tuple(model.output_shape), "float32")

    @classmethod
    def load(cls, path: Path, threads: int) -> KerasRunner:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        import keras

        try:
            model = keras.saving.load_model(path, safe_mode=True)
        except (OSError, ValueError) as exc:
            raise ModelError(f"{path}: Keras cannot load it ({str(exc).strip().splitlines()[0]})") from None
        return cls(model)

    def predict(self, batch: np.ndarray) -> np.ndarray:
        # Calling the model directly: `predict()` builds a tf.data pipeline per call, which would dominate small batches.
        return np.asarray(self._model(batch.astype(np.float32, copy=False), training=False))

    def close(self) -> None:
        self._model = None
