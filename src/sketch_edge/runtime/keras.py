"""Keras under TensorFlow: the bench's reference row, run the way a TensorFlow app runs a model.

An app calls a compiled `tf.function` with a fixed signature, not the model
eagerly (10x slower at batch 1) nor `model.predict` (a tf.data pipeline per
call). This is the only adapter that loads TensorFlow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from sketch_edge.runtime.base import Runner, RuntimeSpec, TensorInfo

RUNTIME = RuntimeSpec(
    name="keras",
    formats=("keras",),
    adapter="sketch_edge.runtime.keras:KerasRunner",
    thread_safe=False,
    compute_kinds=("fp32",),
    package="keras",
    libraries=("keras", "tensorflow"),
    extra="train",
    needs_tensorflow=True,
    marker="s",
    no_profiler="not profiled (the reference row)",
)


class KerasRunner(Runner):
    name = RUNTIME.name
    metadata = None  # the export stage embeds metadata in deployable files only
    thread_safe = False

    def __init__(self, model: Any) -> None:
        import tensorflow as tf

        shape = tuple(None if d is None else int(d) for d in model.input_shape)
        self.input_spec = TensorInfo(model.inputs[0].name, shape, "float32")
        self.output_spec = TensorInfo("probabilities", tuple(model.output_shape), "float32")
        self._tf = tf
        self._model = model
        self._serve = tf.function(lambda x: model(x, training=False), input_signature=[tf.TensorSpec(shape, tf.float32)])

    @classmethod
    def load(cls, path: Path, threads: int) -> KerasRunner:
        import tensorflow as tf

        from sketch_edge.models.saved import load_trained

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        return cls(load_trained(path))

    def prepare(self, batch: np.ndarray) -> Any:
        return self._tf.constant(batch, dtype=self._tf.float32)

    def run(self, prepared: Any) -> np.ndarray:
        return self._serve(prepared).numpy()

    def close(self) -> None:
        self._model = self._serve = None
