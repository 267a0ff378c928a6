"""Parity of an artifact with the Keras model, and the gate it must pass."""

from __future__ import annotations

import numpy as np

from sketch_edge.export.artifact import Parity
from sketch_edge.export.recipes import Gate


def parity(reference: np.ndarray, candidate: np.ndarray) -> Parity:
    return Parity(
        top1_agreement=float((reference.argmax(axis=1) == candidate.argmax(axis=1)).mean()),
        max_abs_diff=float(np.abs(reference - candidate).max()),
        samples=len(reference),
    )


def gate_failures(p: Parity, gate: Gate) -> list[str]:
    """Every way `p` misses `gate`, each with the tolerance, so one message says all that is wrong."""
    failures = []
    if p.top1_agreement < gate.min_agreement:
        failures.append(f"top-1 agreement {p.top1_agreement:.4f} < {gate.min_agreement}")
    if gate.max_abs_diff is not None and p.max_abs_diff > gate.max_abs_diff:
        failures.append(f"max abs diff {p.max_abs_diff:.2e} > {gate.max_abs_diff:.0e}")
    return failures
