"""train_report.json as a typed record: what training writes, and export, the tuner and the CLI read.

No TensorFlow here: the export stage and the tuner read a report without training.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sketch_edge.data import INPUT_SPECS
from sketch_edge.errors import RecordError
from sketch_edge.records import Count, Figure, Fraction, Record


@dataclass(frozen=True)
class TestScores(Record):
    top1: Fraction
    top3: Fraction
    samples: Count


@dataclass(frozen=True)
class History(Record):
    """Per epoch: the training loss and accuracy, and the validation split's."""

    loss: tuple[float, ...]
    accuracy: tuple[Fraction, ...]
    val_loss: tuple[float, ...]
    val_accuracy: tuple[Fraction, ...]


@dataclass(frozen=True)
class Distribution(Record):
    strategy: str
    workers: Count
    global_batch: Count
    per_worker_batch: Count
    drawings_per_second_per_worker: Figure
    weights_identical_across_workers: bool


@dataclass(frozen=True)
class Teacher(Record):
    """One teacher of a distilled model: where it was, what it is, how good it was, and which file it was."""

    path: str
    model: str
    input_kind: str
    test_top1: Fraction
    sha256: str  # of its model.keras, which matched its own report's record when the student trained


@dataclass(frozen=True)
class Distillation(Record):
    """How the student learnt from its teachers: the loss is (1 - mix) x cross-entropy on the labels plus
    mix x temperature^2 x KL(teachers' averaged softened probabilities || the student's softened probabilities)."""

    temperature: Figure
    mix: Fraction
    teachers: tuple[Teacher, ...]
    targets_seconds: Figure  # computing the teachers' targets for the training drawings (or reading them from the cache)
    cached: bool  # read from the cache beside the split (computed by an earlier run with the same teachers)
    consistent: bool = False  # the teachers answered the student's augmented batch every step (no targets computed before)


@dataclass(frozen=True)
class TrainReport(Record):
    """One training run: the model, its data and split, how it trained, and its test top-1."""

    FILE = "train_report.json"
    SCHEMA_VERSION = 3  # 1: the first with a version; 2: `files` (digests a teacher is checked against), `distillation`, `run_seed`;
    READS_VERSIONS = (2,)  # 3: `distillation.consistent`

    model: str  # the canonical name: `get_model_spec(model)` builds it again
    model_description: str
    parameters: Count
    input: dict[str, Any]  # the input contract (data.InputSpec.to_json())
    data: dict[str, Any]  # the source's description, with the `request` that reads it again
    classes: tuple[str, ...]
    splits: dict[str, Count]
    seed: Count  # the data's: it picks the split
    run_seed: Count  # the weights' initialisation and the shuffling
    epochs_requested: Count
    epochs_run: Count
    steps_per_epoch: Count
    batch_size: Count
    label_smoothing: Fraction
    patience: Count | None
    seconds: Figure
    history: History
    test: TestScores
    distribution: Distribution
    machine: dict[str, Any]
    files: dict[str, str]  # sha256 of model.keras and split.npz as written
    distillation: Distillation | None = None  # None: trained on the labels alone

    @property
    def input_kind(self) -> str:
        return str(self.input.get("kind"))

    def check(self, where: str) -> None:
        """Every reader (export, the tuner) rebuilds the input contract and the data request from these two."""
        if self.input_kind not in INPUT_SPECS:
            raise RecordError(f"input.kind is {self.input.get('kind')!r}, not one of {', '.join(INPUT_SPECS)}")
        if not isinstance(self.data.get("request"), dict):
            raise RecordError("data.request is missing (the data request the model was trained on)")

    @property
    def best_val_top1(self) -> float:
        return max(self.history.val_accuracy, default=0.0)

    @classmethod
    def upgrade_hint(cls) -> str:
        return "train again with this version (`make train`)"
