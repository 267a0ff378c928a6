"""The tuner's records: a candidate's job and result (across its process), the rows, and tune/results.json.

A candidate's `tune_result.json` is read back when a tune resumes; the reader
checks it like any other record, so a result of another version or a
hand-edited one runs the candidate again rather than breaking the table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sketch_edge.bench.results import Environment
from sketch_edge.isolation import Job
from sketch_edge.records import Count, Figure, Fraction, Record
from sketch_edge.train.distill import Teaching


@dataclass(frozen=True)
class CandidateJob(Job):
    """What the tune asks of one candidate's process."""

    WORKER = "sketch_edge.tune.candidate"

    model: str  # the canonical name of the candidate's model
    key: str  # digest of (model, data request, target): its folder and its identity on resume
    data: dict[str, Any]  # the DataRequest as JSON
    out: str  # the candidate's artifacts folder
    target: str  # the runtime its int8 files are benched on
    recipes: tuple[str, ...]
    teaching: Teaching | None = None  # every candidate distils from these teachers


@dataclass(frozen=True)
class TunedArtifact(Record):
    """One benched int8 file of a candidate, with its floor: MACs x 2 / the target's int8 GEMM peak, one thread."""

    recipe: str
    runtime: str
    status: str
    error: str | None = None
    top1: Fraction | None = None
    bytes: Count | None = None
    p50_us: Figure | None = None
    peak_gops: Figure | None = None
    floor_us: Figure | None = None
    floor_ratio: Figure | None = None


@dataclass(frozen=True)
class CandidateResult(Record):
    """What a candidate's process wrote last (`tune_result.json`): its presence means it finished, ok or failed."""

    FILE = "tune_result.json"
    SCHEMA_VERSION = 1

    model: str
    key: str
    status: str  # ok | failed
    reason: str | None = None  # failed: "stage: why"
    val_top1: Fraction | None = None
    test_top1: Fraction | None = None
    parameters: Count | None = None
    epochs_run: Count | None = None
    train_seconds: Figure | None = None
    macs: Count | None = None
    artifacts: tuple[TunedArtifact, ...] = ()
    export_failed: dict[str, str | None] = field(default_factory=dict)
    best: TunedArtifact | None = None  # the fastest benched artifact
    seconds: dict[str, Figure] = field(default_factory=dict)  # per stage, and `total`
    cpu_flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class TuneRow(Record):
    """A candidate of the space, as the tune saw it: its result when it finished, or why it has none."""

    number: Count
    model: str
    values: dict[str, Any]  # the space's parameters for it
    status: str  # ok | failed | invalid | stopped | not run
    key: str | None = None
    reason: str | None = None
    resumed: bool = False  # finished by an earlier run and read back
    pareto: bool = False
    result: CandidateResult | None = None

    @property
    def p50_us(self) -> float | None:
        return self.result.best.p50_us if self.result and self.result.best else None

    @property
    def val_top1(self) -> float:
        """What the front and the recommendation go by (0 for a candidate that measured none)."""
        return self.result.val_top1 or 0.0 if self.result else 0.0


@dataclass(frozen=True)
class Recommendation(Record):
    number: Count | None = None
    reason: str | None = None  # why there is none
    model: str | None = None
    val_top1: Fraction | None = None
    test_top1: Fraction | None = None
    p50_us: Figure | None = None
    recipe: str | None = None
    floor_ratio: Figure | None = None


@dataclass(frozen=True)
class TuneResults(Record):
    """tune/results.json."""

    FILE = "results.json"
    SCHEMA_VERSION = 1

    environment: Environment
    settings: dict[str, Any]  # data request, target, budget, limit, max_p50_us, the space
    seconds: Figure
    counts: dict[str, Count]
    recommended: Recommendation
    candidates: tuple[TuneRow, ...]
