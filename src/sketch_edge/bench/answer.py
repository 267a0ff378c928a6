"""Which file to ship, per target: the answer report.md opens with and `bench` ends on (pure; no runtime is run).

A target is where the file will run: this CPU one drawing at a time, this CPU for throughput, MediaPipe Tasks, ONNX
Runtime Mobile, the browser page, a Python app through the predictor. Its candidates are the cells that stand for it
on this machine. The rule, the same for every target:

1. The most accurate candidate sets the bar. A candidate whose top-1 cannot be told apart from it on these test
   drawings is as accurate: the export gate's paired test (McNemar at two sigma on the drawings one answers right and
   the other wrong), both ways. Two files 3 drawings apart in 4,000 are one accuracy, not a ranking.
2. The file to ship is the fastest of those, by the target's measure.
3. Beside it: its top-1 with a 95% Wilson interval, the candidates whose accuracy cannot be told apart from its own,
   and those whose p50 interval overlaps its own. The interval is the range of the rounds' p50s with `--repeat`
   (the spread across processes, which is the one that matters); with one round it is the median's 95% interval over
   that process's calls, which is narrower than the spread across processes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from sketch_edge.bench.results import Answer, Latency, Row
from sketch_edge.export.recipes import CLIENTS, RECIPES, Client
from sketch_edge.export.verify import beyond_noise, changes
from sketch_edge.metrics import wilson_interval
from sketch_edge.runtime import RUNTIMES

Span = tuple[float, float]
BROWSER = "browser"  # the target the demo page reads its first model from


@dataclass(frozen=True, kw_only=True)
class Target:
    """Where a file runs: which cells stand for it here, and what makes one faster (`measure`: the runtime's own call
    `p50`; the predictor's whole path `e2e`; or `per-drawing`, p50 over the batch, for throughput)."""

    name: str
    description: str
    candidate: Callable[[Row], bool]
    measure: str = "p50"
    stand_in: str = ""  # how this machine stands for the target, when it is not the target itself


def _alone(row: Row) -> bool:
    return row.threads == 1 and row.batch == 1


def _any(row: Row) -> bool:
    return True


def _client_file(client: Client, row: Row) -> bool:
    recipe = RECIPES.get(row.recipe)
    return _alone(row) and recipe is not None and recipe.client == client.name and row.runtime == client.runs_here


def _page_file(row: Row) -> bool:
    spec = RUNTIMES.get(row.runtime)
    return _alone(row) and spec is not None and spec.browser is not None and row.format in spec.browser_formats


def _predictor_file(row: Row) -> bool:
    spec = RUNTIMES.get(row.runtime)
    return _alone(row) and spec is not None and not spec.needs_tensorflow


def _browsers() -> str:
    return ", ".join(f"{name} for {spec.browser}" for name, spec in RUNTIMES.items() if spec.browser)


TARGETS: tuple[Target, ...] = (
    Target(name="cpu-latency", description="this CPU, one drawing at a time (batch 1, one thread)", candidate=_alone),
    Target(
        name="cpu-throughput",
        description="this CPU, the most drawings per second (any batch and thread count benched)",
        candidate=_any,
        measure="per-drawing",
    ),
    *(
        Target(
            name=c.name,
            description=c.target,
            candidate=partial(_client_file, c),
            stand_in=f"its files in {c.runs_here} on this CPU, one thread: a stand-in for a phone's core, not its figure",
        )
        for c in CLIENTS.values()
    ),
    Target(
        name=BROWSER,
        description="the browser page (`sketch-edge web`)",
        candidate=_page_file,
        stand_in=f"the page's files in the native runtime ({_browsers()}): the same graph, not the browser's figure",
    ),
    Target(
        name="python-app",
        description="a Python app through the predictor (`sketch_edge.runtime.Predictor`)",
        candidate=_predictor_file,
        measure="e2e",
    ),
)
"""Every target the answer names: a new one is a line here."""


def _latency(row: Row, measure: str) -> Latency | None:
    return row.e2e_latency_us if measure == "e2e" else row.latency_us


def _span(row: Row, measure: str) -> tuple[float, Span] | None:
    """The cell's figure for the measure and its 95% interval, in microseconds per drawing. The predictor's path is
    timed in the first round only: its interval is the runtime call's, in proportion (the call is what varies)."""
    latency, call = _latency(row, measure), row.latency_us
    if latency is None or call is None:
        return None
    per = (row.batch or 1) if measure == "per-drawing" else 1
    low, high = (call.p50_low or call.p50) / call.p50, (call.p50_high or call.p50) / call.p50
    return latency.p50 / per, (latency.p50 * low / per, latency.p50 * high / per)


def _apart(a: np.ndarray, b: np.ndarray, y: np.ndarray) -> bool:
    """Whether two cells' top-1 differ beyond chance on these drawings (either way round)."""
    lost, gained = changes(a, b, y)
    return beyond_noise(lost, gained) or beyond_noise(gained, lost)


def _field(
    target: Target, rows: list[Row], answers: dict[str, np.ndarray], y: np.ndarray
) -> tuple[list[Row], list[Row], dict[str, tuple[float, Span]]]:
    """The target's candidates, those as accurate as the most accurate of them (fastest first), and each cell's
    figure and interval for the target's measure."""
    timed = {r.key: span for r in rows if (span := _span(r, target.measure)) is not None}
    candidates = [r for r in rows if r.status == "ok" and target.candidate(r) and r.key in answers and r.key in timed]
    if not candidates:
        return [], [], timed
    best = max(candidates, key=lambda r: r.top1 or 0.0)
    as_accurate = [r for r in candidates if not _apart(answers[best.key], answers[r.key], y)]
    return candidates, sorted(as_accurate, key=lambda r: timed[r.key][0]), timed


def answer(target: Target, rows: list[Row], answers: dict[str, np.ndarray], y: np.ndarray) -> Answer:
    """The file to ship for one target, from the cells' rows and their argmax answers on the test drawings `y`."""
    candidates, as_accurate, timed = _field(target, rows, answers, y)
    if not candidates:
        return Answer(target=target.name, description=target.description, note="no cell of it was benched")
    ship = as_accurate[0]
    figure, (low, high) = timed[ship.key]
    others = [r for r in candidates if r.key != ship.key]
    correct = int((answers[ship.key] == y).sum())
    return Answer(
        target=target.name,
        description=target.description,
        cell=ship.key,
        recipe=ship.recipe,
        runtime=ship.runtime,
        measure=target.measure,
        us=figure,
        us_interval=(low, high),
        per_s=ship.throughput_per_s,
        top1=correct / len(y),
        top1_interval=wilson_interval(correct, len(y)),
        same_accuracy=tuple(r.key for r in others if not _apart(answers[ship.key], answers[r.key], y)),
        same_latency=tuple(r.key for r in others if _overlap(timed[r.key][1], (low, high))),
        candidates=len(candidates),
        noisy=bool(ship.noisy),
        note=target.stand_in,
    )


CONTENDERS_WITHIN = 0.15
"""A cell this close to a target's answer (as accurate, and at most 15% slower) is timed in two more rounds when the
bench ran one: its interval, and the answer's, are then the spread across processes, which one round cannot show
(a cell's p50 moved by up to 6% between processes here, while one round's interval spans well under 1%)."""


def contenders(rows: list[Row], probs: dict[str, np.ndarray], y: np.ndarray) -> set[str]:
    """The cells whose latency could decide some target's answer: its answer, and the cells as accurate as its most
    accurate that are within CONTENDERS_WITHIN of it."""
    top1 = {key: p.argmax(axis=1) for key, p in probs.items()}
    found: set[str] = set()
    for target in TARGETS:
        _, as_accurate, timed = _field(target, rows, top1, y)
        if as_accurate:
            fastest = timed[as_accurate[0].key][0]
            found |= {r.key for r in as_accurate if timed[r.key][0] <= fastest * (1 + CONTENDERS_WITHIN)}
    return found


def _overlap(a: Span, b: Span) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def answers_for(rows: list[Row], probs: dict[str, np.ndarray], y: np.ndarray) -> tuple[Answer, ...]:
    """Every target's answer, from the cells' test-split probabilities."""
    top1 = {key: p.argmax(axis=1) for key, p in probs.items()}
    return tuple(answer(t, rows, top1, y) for t in TARGETS)
