"""Float fallback: move the noisiest layers of an int8 file to float, one at a time, until its top-1 is back near Keras's.

The recipe is first made fully int8. While its validation top-1 is more than
`max_drop` below Keras's on the same drawings, the Keras layer whose ops add the
most quantization noise in the current file (its sensitivity report, measured
again after each change) goes to float, all its ops, and the file is made again.
A Keras layer, not an op: an unrolled LSTM is hundreds of ops, one at a time
would never end. Measured again, not ranked once: a layer whose noise was hidden
behind a noisier input shows once that input is float (a 344-class softmax hid
the last dense layer).
K is chosen on the validation split so the test split, where the manifest and
the bench report top-1, plays no part in the choice.

A drop too small to tell from chance is not chased: on 600 validation drawings,
0.2 points is one drawing, and two drawings that int8 flips can take every layer
to float without moving top-1 at all. So the search also stops when the drop is
within noise by McNemar's test at two sigma: the drawings only Keras gets right
(b) and those only the int8 file gets right (c) differ by at most 2 sqrt(b + c).
Either way the file must also agree with Keras's answers as often as its gate
asks (98% for int8): a near-chance model can keep top-1 while answering
differently on half the drawings.

The search has a time budget: a step (measure, re-export, predict) of a big
unrolled recurrent model takes tens of seconds, and a search that outlives the
export's time-out loses everything it found. When the next step would not fit,
it stops with the best file it made (the gate met first, then validation top-1,
then agreement, then fewer float layers), and says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sketch_edge import fileio
from sketch_edge.export.recipes import Recipe
from sketch_edge.export.sensitivity import Sensitivity, measure
from sketch_edge.export.verify import beyond_noise, changes
from sketch_edge.manifest import Artifact, Fallback, FallbackStep

BUDGET_S = 60.0
"""Default seconds the search may take, its first file included: the whole export of a model stays within two minutes."""


@dataclass(frozen=True)
class Validation:
    """The drawings K is chosen on, and which of them Keras gets right."""

    x: np.ndarray
    labels: np.ndarray
    keras_answers: np.ndarray  # Keras's top-1 class per drawing
    min_agreement: float  # with Keras's answers: the recipe's gate
    calibration: np.ndarray  # what the sensitivity report runs on

    @property
    def keras_correct(self) -> np.ndarray:
        return self.keras_answers == self.labels

    @property
    def keras_top1(self) -> float:
        return float(self.keras_correct.mean())


def _by_keras_layer(ranking: Sensitivity) -> list[tuple[str, list[str]]]:
    """Keras layers whose ops add noise, the noisiest first (by their noisiest op), with all their ops' nodes."""
    noise: dict[str, float] = {}
    nodes: dict[str, list[str]] = {}
    for layer in ranking.layers:
        name = layer.keras_layer
        noise[name] = max(noise.get(name, 0.0), layer.added_noise)
        nodes.setdefault(name, []).extend(layer.nodes)
    return [(name, nodes[name]) for name in sorted(noise, key=lambda n: -noise[n]) if noise[name] > 0]


def _good_enough(validation: Validation, top1: float, agreement: float, aim: float, changed: tuple[int, int]) -> str | None:
    """Why a file that agrees with Keras enough is kept as it is (its top-1 meets the aim, or its drop is within
    noise), or None to go on."""
    if agreement < validation.min_agreement:
        return None
    if top1 >= aim:
        return "aim reached"
    lost, gained = changed
    return None if beyond_noise(lost, gained) else f"drop within noise ({lost} drawings lost, {gained} gained)"


def choose_float_layers(
    recipe: Recipe,
    out: Path,
    float_twin: Path,
    export: Callable[[Path, tuple[str, ...]], Artifact],
    predict: Callable[[Path, np.ndarray], np.ndarray],
    validation: Validation,
    max_drop: float,
    budget_s: float = BUDGET_S,
) -> tuple[Artifact, Fallback]:
    """Export `recipe` to `out`, moving Keras layers to float one at a time, noisiest first, until `max_drop` is met,
    the drop is within noise, no quantized layer adds noise, or another step would overrun `budget_s` (then `out`
    is the best file made); the artifact and what was tried."""
    started = last = time.perf_counter()  # the budget counts the first file too: its export may be most of the time
    artifact = export(out, ())
    aim = validation.keras_top1 - max_drop
    floated: list[str] = []  # Keras layers, in the order they went to float
    nodes: list[str] = []
    tried: list[FallbackStep] = []
    best: tuple[tuple, bytes, Artifact, int, int] | None = None  # (rank, file, artifact, float layers, float ops)
    while True:
        answers = predict(out, validation.x).argmax(axis=1)
        correct = answers == validation.labels
        lost, gained = changes(validation.keras_answers, answers, validation.labels)
        agreement = float((answers == validation.keras_answers).mean())
        tried.append(FallbackStep(len(floated), float(correct.mean()), lost, gained, agreement))
        rank = (agreement >= validation.min_agreement, float(correct.mean()), agreement, -len(floated))
        if best is None or rank > best[0]:
            best = (rank, out.read_bytes(), artifact, len(floated), len(nodes))
        stopped = _good_enough(validation, float(correct.mean()), agreement, aim, (lost, gained))
        if stopped:
            break
        now = time.perf_counter()
        step_s, last = now - last, now  # the last step (export, predict, measure): what the next one will take
        if now - started + step_s > budget_s:
            stopped = f"budget of {budget_s:g} s spent"
            break
        ranking = _by_keras_layer(measure(recipe.format, float_twin, out, validation.calibration))
        worst = next(((name, ops) for name, ops in ranking if name not in floated), None)
        if worst is None:
            stopped = "no quantized layer adds noise"
            break
        floated.append(worst[0])
        nodes += worst[1]
        artifact = export(out, tuple(nodes))
    _, data, artifact, kept, kept_ops = best
    if kept != len(floated):  # an earlier file was the best: it is the one kept
        with fileio.atomic_path(out) as tmp:
            tmp.write_bytes(data)
    return artifact, Fallback(
        k=kept,
        float_layers=tuple(floated[:kept]),
        float_ops=kept_ops,
        max_drop=max_drop,
        keras_validation_top1=validation.keras_top1,
        stopped=stopped if kept == len(floated) else f"{stopped}; the file with {kept} float layer(s) was the best",
        budget_s=budget_s,
        seconds=round(time.perf_counter() - started, 1),
        tried=tuple(tried),
    )
