"""Training stage: a source streamed through tf.data into a custom loop under a tf.distribute strategy.

stage.py runs it and writes the outputs, input.py builds the input stream, loop.py
is the training loop (one process or several workers), cluster.py reads TF_CONFIG
and launches local workers. `TrainConfig` and `run` are imported on first use, so
the CLI can check a cluster's configuration before TensorFlow loads.
"""

from __future__ import annotations

from typing import Any

__all__ = ["TrainConfig", "run"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from sketch_edge.train import stage

        return getattr(stage, name)
    raise AttributeError(f"module 'sketch_edge.train' has no attribute {name!r}")
