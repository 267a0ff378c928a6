"""Accuracy metrics shared by the train, export and bench stages (numpy only)."""

from __future__ import annotations

import numpy as np


def topk_accuracy(probs: np.ndarray, y: np.ndarray, k: int) -> float:
    """Fraction of rows whose true label is among the `k` highest probabilities. Ties go to the lower class index, as
    `argmax` breaks them (quantized outputs tie often: a uint8 output has 256 values), so top-1 is argmax's."""
    top = np.argsort(-probs, axis=1, kind="stable")[:, :k]
    return float((top == y[:, None]).any(axis=1).mean())
