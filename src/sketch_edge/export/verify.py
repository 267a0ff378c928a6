"""Parity of an artifact with the Keras model, and the gate it must pass (every miss reported, with its tolerance)."""

from __future__ import annotations

import numpy as np

from sketch_edge.export.recipes import Gate
from sketch_edge.manifest import Parity


def parity(reference: np.ndarray, candidate: np.ndarray) -> Parity:
    finite = np.isfinite(candidate)
    shape_ok = candidate.shape == reference.shape
    return Parity(
        top1_agreement=float((reference.argmax(axis=1) == candidate.argmax(axis=1)).mean()) if shape_ok else 0.0,
        max_abs_diff=float(np.abs(reference - candidate).max()) if shape_ok else float("inf"),
        samples=len(reference),
        output_shape=tuple(int(d) for d in candidate.shape),
        non_finite=int(candidate.size - finite.sum()),
    )


def gate_failures(p: Parity, gate: Gate, *, classes: int, test_top1: float | None, keras_top1: float) -> list[str]:
    """Every way the artifact misses `gate`, so one message says all that is wrong.

    Comparisons are written so that NaN fails them: `not (x <= tol)`, never `x > tol`."""
    failures = []
    expected = (p.samples, classes)
    if p.output_shape != expected:
        failures.append(f"output shape {p.output_shape} != {expected}")
    if p.non_finite:
        failures.append(f"{p.non_finite} NaN or infinite output values")
    if not p.top1_agreement >= gate.min_agreement:
        failures.append(f"top-1 agreement {p.top1_agreement:.4f} < {gate.min_agreement}")
    if gate.max_abs_diff is not None and not p.max_abs_diff <= gate.max_abs_diff:
        failures.append(f"max abs diff {p.max_abs_diff:.2e} > {gate.max_abs_diff:.0e}")
    if test_top1 is None or not keras_top1 - test_top1 <= gate.max_top1_drop:
        shown = "unknown" if test_top1 is None else f"{test_top1:.4f}"
        failures.append(f"test top-1 {shown} is more than {100 * gate.max_top1_drop:g} point(s) below Keras {keras_top1:.4f}")
    return failures
