"""Parity of an artifact with the Keras model, and the gate it must pass (every miss reported, with its tolerance).

A drop in top-1 counts only when it is beyond chance on the drawings it was
measured on, by McNemar's test at two sigma: the drawings only Keras gets right
(lost) and those only the artifact gets right (gained) differ by more than
2 sqrt(lost + gained). On 80 test drawings one point is less than one drawing,
and two drawings an int8 file flips on one CPU's kernels and not on another's
say nothing about the file; on 10,000 a real one-point drop is far beyond it.
"""

from __future__ import annotations

import math

import numpy as np

from sketch_edge.export.recipes import Gate
from sketch_edge.manifest import Details, Parity


def parity(reference: np.ndarray, candidate: np.ndarray) -> Parity:
    finite = np.isfinite(candidate)
    shape_ok = candidate.shape == reference.shape
    flips = (reference.argmax(axis=1) != candidate.argmax(axis=1)) if shape_ok else np.ones(len(reference), bool)
    top2 = np.sort(reference, axis=1)[:, -2:] if reference.shape[1] > 1 else np.zeros((len(reference), 2))
    margins = top2[:, 1] - top2[:, 0]
    noise = None
    if shape_ok and finite.all() and len(reference):
        noise = float(np.percentile(np.abs(reference - candidate).max(axis=1), NOISE_PERCENTILE))
    return Parity(
        top1_agreement=float(1 - flips.mean()) if shape_ok else 0.0,
        max_abs_diff=float(np.abs(reference - candidate).max()) if shape_ok else float("inf"),
        samples=len(reference),
        output_shape=tuple(int(d) for d in candidate.shape),
        non_finite=int(candidate.size - finite.sum()),
        flip_margins=tuple(float(m) for m in margins[flips][:MAX_FLIPS_KEPT]) if shape_ok else (),
        noise=noise,
        near_ties=int((margins <= 2 * noise).sum()) if noise is not None else 0,
    )


def unexplained_agreement(p: Parity, max_abs_diff: float | None) -> float:
    """Top-1 agreement, not counting the drawings a file within `max_abs_diff` of Keras may answer otherwise: where
    Keras's top two are within 2 x max_abs_diff, moving each by that much can swap them, and the diff gate speaks
    for those. (fp16 weights flip a near-tie or two in 1,750 drawings: 99.88% against a 99.9% gate.) Without a diff
    tolerance (the quantized gate), `clear_agreement`."""
    if max_abs_diff is None:
        return clear_agreement(p)
    if not _margins_kept(p):
        return p.top1_agreement
    explained = sum(m <= 2 * max_abs_diff for m in p.flip_margins)
    return p.top1_agreement + explained / p.samples


def clear_agreement(p: Parity) -> float:
    """Top-1 agreement on the drawings Keras is clear about: those whose top two are further apart than twice the
    file's own noise (`Parity.noise`), which int8 rounding cannot swap. A model of many classes is unsure of many
    drawings, and an int8 file flips near-ties there that say nothing of the file: on the 344-class model every int8
    file agreed on 93.8-94.9% while its test top-1 fell 0.24 points. The near-ties are left out of the count, not
    called agreeing; the test top-1 drop (noise-aware) still judges every drawing. A file so noisy that most drawings
    are near-ties is judged on all of them."""
    clear = p.samples - p.near_ties
    if p.noise is None or not _margins_kept(p) or clear < p.samples * MIN_CLEAR:
        return p.top1_agreement
    return 1 - sum(m > 2 * p.noise for m in p.flip_margins) / clear


NOISE_SIGMAS = 2.0
MAX_FLIPS_KEPT = 1000


def _margins_kept(p: Parity) -> bool:
    """Whether the parity kept the margin of every drawing answered otherwise (it keeps MAX_FLIPS_KEPT): a near-tie
    can be excused only where it is known to be one."""
    return len(p.flip_margins) >= round((1 - p.top1_agreement) * p.samples)


NOISE_PERCENTILE = 95
"""A file's noise is what it does to nearly every drawing: the 95th percentile of each drawing's largest change."""
MIN_CLEAR = 0.5
"""Near-ties are left out of the quantized agreement only while at least half of the drawings are clear of them."""


def beyond_noise(lost: int, gained: int) -> bool:
    """Whether losing `lost` drawings and gaining `gained` is a real drop, not chance (McNemar, two sigma)."""
    return lost - gained > NOISE_SIGMAS * math.sqrt(lost + gained)


def changes(keras_answers: np.ndarray, answers: np.ndarray, labels: np.ndarray) -> tuple[int, int]:
    """(lost, gained): drawings Keras gets right and the artifact wrong, and the other way round."""
    keras_correct, correct = keras_answers == labels, answers == labels
    return int((keras_correct & ~correct).sum()), int((~keras_correct & correct).sum())


def gate_failures(
    p: Parity, gate: Gate, *, classes: int, test_top1: float | None, keras_top1: float, test_changes: tuple[int, int] | None = None
) -> list[str]:
    """Every way the artifact misses `gate`, so one message says all that is wrong. `test_changes` (lost, gained) on
    the test drawings: a top-1 drop within noise is not a miss (None: every drop past the gate is).

    Comparisons are written so that NaN fails them: `not (x <= tol)`, never `x > tol`."""
    failures = []
    expected = (p.samples, classes)
    if p.output_shape != expected:
        failures.append(f"output shape {p.output_shape} != {expected}")
    if p.non_finite:
        failures.append(f"{p.non_finite} NaN or infinite output values")
    agreement = unexplained_agreement(p, gate.max_abs_diff)
    if not agreement >= gate.min_agreement:
        excused = agreement != p.top1_agreement
        if gate.max_abs_diff is None and excused:
            ties = f" on the drawings Keras is clear about ({p.near_ties} near-ties left out; {p.top1_agreement:.4f} with them)"
        else:
            ties = f" (near-ties within the diff tolerance not counted: {p.top1_agreement:.4f} with them)" if excused else ""
        failures.append(f"top-1 agreement {agreement:.4f} < {gate.min_agreement}{ties}")
    if gate.max_abs_diff is not None and (p.max_abs_diff is None or not p.max_abs_diff <= gate.max_abs_diff):
        shown = "not a number" if p.max_abs_diff is None else f"{p.max_abs_diff:.2e}"  # None: read back from a NaN
        failures.append(f"max abs diff {shown} > {gate.max_abs_diff:.0e}")
    if test_top1 is None or not keras_top1 - test_top1 <= gate.max_top1_drop:
        shown = "unknown" if test_top1 is None else f"{test_top1:.4f}"
        # Indistinguishable from Keras meets any allowance of a drop, not a demand to beat Keras (a negative one).
        if test_changes is None or gate.max_top1_drop < 0 or beyond_noise(*test_changes):
            why = "" if test_changes is None else " ({} drawings lost, {} gained)".format(*test_changes)
            failures.append(f"test top-1 {shown} is more than {100 * gate.max_top1_drop:g} point(s) below Keras {keras_top1:.4f}{why}")
    return failures


TWIN_MAX_ABS_DIFF = 1e-5
"""A converted file (.ort) against its twin: the same graph in another container, so the same outputs to rounding."""


def mobile_failures(details: Details) -> list[str]:
    """What a mobile client or a converted file's twin says is wrong (a client not installed is `skipped`, no failure)."""
    failures = []
    if details.client is not None and details.client.status == "failed":
        failures.append(f"{details.client.client}: {details.client.reason}")
    twin = details.twin
    if twin is not None and (twin.max_abs_diff is None or not twin.max_abs_diff <= TWIN_MAX_ABS_DIFF):
        shown = "not a number" if twin.max_abs_diff is None else f"{twin.max_abs_diff:.2e}"
        failures.append(f"its outputs differ from its twin {twin.twin}'s by {shown} (> {TWIN_MAX_ABS_DIFF:.0e})")
    return failures
