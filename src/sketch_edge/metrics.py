"""Accuracy metrics shared by the train, export and bench stages (numpy only)."""

from __future__ import annotations

import numpy as np


def topk_accuracy(probs: np.ndarray, y: np.ndarray, k: int) -> float:
    """Fraction of rows whose true label is among the `k` highest probabilities. Ties go to the lower class index, as
    `argmax` breaks them (quantized outputs tie often: a uint8 output has 256 values), so top-1 is argmax's."""
    top = np.argsort(-probs, axis=1, kind="stable")[:, :k]
    return float((top == y[:, None]).any(axis=1).mean())


Z95 = 1.959964  # the normal quantile of a two-sided 95% interval


def wilson_interval(correct: int, total: int, z: float = Z95) -> tuple[float, float]:
    """The 95% Wilson score interval of an accuracy of `correct` out of `total`: unlike the normal approximation it
    stays inside 0..1 and is honest near 100%, where a small model's top-1 on a few hundred drawings often is."""
    if total <= 0:
        return 0.0, 1.0
    p = correct / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * np.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))
