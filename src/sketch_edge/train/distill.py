"""Distillation: the teachers' softened probabilities for every training drawing, and the loss that mixes them in.

A teacher is a trained folder (model.keras, train_report.json) on the same drawings:
the same files (by digest), the same classes in the same order, the same split (seed,
eval_per_class, per_class, ...), and a model.keras that still matches the digest its
report recorded. Its input kind may differ from the student's: a stroke teacher reads
each drawing's points while a bitmap student reads its raster, since the split is one
function of (seed, class, position) for every encoding. All of that is checked before
any training starts.

The targets are computed once, before the first step, for the training drawings of
this worker's files (each keyed by its file, class and position, so the shuffled
stream finds its row), and cached beside the split under a name derived from everything
they depend on: a second run with the same teachers, or every candidate of the tuner,
reads them. Softening a probability at temperature T is softmax(log p / T), which is
softmax(logits / T): the models end in a softmax, so their probabilities suffice.

Targets computed once are the teachers' answers for the plain drawing, while the
student sees it mirrored and shifted. `consistent` teaching (Beyer et al., 2022, "a
good teacher is patient and consistent") instead runs the teachers on the student's
own augmented batch at every step (the loop's `teach`): each step pays the teachers'
forward pass, and the teachers must read the student's input kind.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sketch_edge import fileio
from sketch_edge.data import DataRequest, Source
from sketch_edge.data.dataset import TRAIN, assign
from sketch_edge.data.local import fingerprint
from sketch_edge.data.source import Chunk, Shard, Want
from sketch_edge.errors import DataError, ModelError, RecordError, TeacherError
from sketch_edge.layout import Layout
from sketch_edge.records import Figure, Fraction, Record
from sketch_edge.train.report import Distillation, Teacher, TrainReport

DEFAULT_TEMPERATURE = 2.0
DEFAULT_MIX = 0.5
SPLIT_KEYS = ("per_class", "recognized_only", "skip_bad_lines", "seed", "eval_per_class")
"""What picks the split besides the files and the classes: a teacher must have been trained with the student's values."""
EPSILON = 1e-7  # probabilities are clipped here before the log (the teachers' and the student's), as Keras's cross-entropy clips them


@dataclass(frozen=True)
class Teaching(Record):
    """What `--teacher`, `--temperature` and `--mix` ask for (a record: the tuner hands it to each candidate's process)."""

    teachers: tuple[str, ...]  # the teachers' folders
    temperature: Figure = DEFAULT_TEMPERATURE
    mix: Fraction = DEFAULT_MIX  # the teachers' share of the loss; the labels get 1 - mix
    cache: str | None = None  # the folder the targets are cached in (the student's own, or the tuner's); None: not cached
    consistent: bool = False  # the teachers answer the student's augmented batch every step instead (no targets, no cache)

    def __post_init__(self) -> None:
        check_numbers(self.temperature, self.mix)


TEMPERATURES = (0.1, 100.0)
"""The temperatures taken. Softening divides log-probabilities (down to log 1e-7, about -16) by T, and the loss scales
by T squared, in float32: at 1e-310 (a denormal that passes `> 0`) the logits overflow and the loss turns NaN, at
1e300 its scale does; past 100 every target is uniform to float32's precision, below 0.1 one-hot."""


def check_numbers(temperature: float, mix: float) -> None:
    lo, hi = TEMPERATURES
    if not (isinstance(temperature, int | float) and math.isfinite(temperature) and lo <= temperature <= hi):
        raise TeacherError(f"--temperature {temperature!r}: must be a number in [{lo:g}, {hi:g}] (2 softens; 1 leaves as is)")
    if not (isinstance(mix, int | float) and 0 < mix <= 1):
        raise TeacherError(f"--mix {mix!r}: must be a fraction in (0, 1], the teachers' share of the loss")


@dataclass(frozen=True)
class Targets:
    """The teachers' averaged softened probabilities, one row per training drawing, found by (file, class, position)."""

    keys: np.ndarray  # (n,) int64, sorted
    rows: np.ndarray  # (n, classes) float32

    def lookup(self, shard: int, labels: np.ndarray, positions: np.ndarray) -> np.ndarray:
        wanted = drawing_keys(shard, labels, positions)
        found = np.minimum(np.searchsorted(self.keys, wanted), len(self.keys) - 1)
        if len(wanted) and not (self.keys[found] == wanted).all():
            raise DataError("a training drawing has no teacher target: the data changed since the targets were computed")
        return self.rows[found]


def drawing_keys(shard: int, labels: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """One integer per drawing: its file's index among the worker's files, its class, its position in the class."""
    return (np.int64(shard) << 48) | (labels.astype(np.int64) << 32) | positions.astype(np.int64)


def check_teachers(
    teaching: Teaching, request: DataRequest, source: Source, student_kind: str, files: dict[str, Any] | None = None
) -> tuple[Teacher, ...]:
    """Every teacher of `teaching`, checked against the student's data (`request`, opened as `source`, read as
    `student_kind`; `files`, its fingerprint when the caller has it)."""
    files = files if files is not None else fingerprint(source) if any(shard.path for shard in source.shards) else {}
    teachers = tuple(check_teacher(Path(path), request, source.labels, source.kinds, files) for path in teaching.teachers)
    for teacher in teachers:
        if teaching.consistent and teacher.input_kind != student_kind:
            raise TeacherError(
                f"teacher {teacher.path}: reads {teacher.input_kind}; --consistent runs each teacher on the student's own "
                f"{student_kind} batch, so it needs teachers that read {student_kind}"
            )
    return teachers


def check_teacher(path: Path, request: DataRequest, labels: tuple[str, ...], kinds: tuple[str, ...], files: dict[str, Any]) -> Teacher:
    """The teacher at `path` if it was trained on the student's drawings and is unchanged; a TeacherError naming it.

    `files` is the student's source fingerprint (names to size and sha256; empty for generated data)."""
    layout = Layout(path)
    where = f"teacher {path}"
    if not path.is_dir():
        raise TeacherError(f"{where}: no such folder")
    if not layout.model.is_file():
        raise TeacherError(f"{where}: no model.keras in it (train one there first: sketch-edge train --out {path})")
    try:
        report = TrainReport.load(layout.train_report, missing="no train_report.json beside its model")
    except RecordError as exc:
        raise TeacherError(f"{where}: {exc}") from None
    if fileio.sha256_file(layout.model) != report.files.get(layout.model.name):
        raise TeacherError(f"{where}: model.keras does not match the sha256 its train_report.json records (changed since training)")
    if report.classes != labels:
        same = sorted(report.classes) == sorted(labels)
        raise TeacherError(
            f"{where}: trained on {'the same classes in another order' if same else 'other classes'} "
            f"({', '.join(report.classes[:5])}{', ...' if len(report.classes) > 5 else ''}); the student's data has "
            f"{', '.join(labels[:5])}{', ...' if len(labels) > 5 else ''}"
        )
    theirs, ours = report.data.get("request", {}), request.to_json()
    for key in SPLIT_KEYS:
        if theirs.get(key) != ours.get(key):
            raise TeacherError(f"{where}: trained on another split ({key} {theirs.get(key)!r}, the student's {ours.get(key)!r})")
    if report.data.get("files", {}) != files:
        raise TeacherError(f"{where}: trained on other data files than the student's {request.source} ({_first_difference(report, files)})")
    if not files and theirs.get("source") != request.source:
        raise TeacherError(f"{where}: trained on {theirs.get('source')!r}, the student reads {request.source!r}")
    if report.input_kind not in kinds:
        raise TeacherError(f"{where}: reads {report.input_kind}, which the student's data does not have (it has {', '.join(kinds)})")
    return Teacher(str(path), report.model, report.input_kind, report.test.top1, report.files[Layout(path).model.name])


def _first_difference(report: TrainReport, files: dict[str, Any]) -> str:
    theirs = report.data.get("files", {})
    for name in sorted(set(theirs) | set(files)):
        if theirs.get(name) != files.get(name):
            problem = "not among its files" if name not in theirs else "not among the student's" if name not in files else "another sha256"
            return f"{name}: {problem}"
    return "no file recorded"


def targets(
    source: Source,
    shards: tuple[Shard, ...],
    seed: int,
    teaching: Teaching,
    teachers: tuple[Teacher, ...],
    predict: Callable[[Any, np.ndarray], np.ndarray],
) -> tuple[Targets, Distillation]:
    """The targets of the training drawings of `shards`, from the cache when it has them; and what to report.

    `predict(model, inputs)` is the model's probabilities (the training loop's, in batches)."""
    started = time.perf_counter()
    key = _cache_key(source, shards, seed, teaching, teachers)
    path = None if teaching.cache is None else Layout(Path(teaching.cache)).teacher_targets(key)
    found = _read_cache(path) if path is not None else None
    cached = found is not None
    if found is None:

        def training(label: int, positions: np.ndarray) -> np.ndarray:
            return assign(seed, source.labels[label], positions) == TRAIN

        models = load_teachers(teachers, len(source.labels))
        found = _compute(source.chunks, shards, training, teachers, models, teaching.temperature, predict)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            with fileio.atomic_path(path) as tmp, open(tmp, "wb") as handle:
                np.savez(handle, keys=found.keys, rows=found.rows)
    seconds = round(time.perf_counter() - started, 2)
    return found, Distillation(teaching.temperature, teaching.mix, teachers, seconds, cached)


def _cache_key(source: Source, shards: tuple[Shard, ...], seed: int, teaching: Teaching, teachers: tuple[Teacher, ...]) -> str:
    """Everything the targets depend on: the teachers' models, the temperature, the split, the worker's files as opened."""
    about = {
        "teachers": [t.sha256 for t in teachers],
        "temperature": teaching.temperature,
        "seed": seed,
        "labels": list(source.labels),
        "shards": [[s.name, s.label, s.size, list(s.stamp or ())] for s in shards],
    }
    return hashlib.sha256(json.dumps(about, sort_keys=True).encode()).hexdigest()[:16]


def _read_cache(path: Path) -> Targets | None:
    """The cached targets, or None when there are none or they are unreadable (a cache: computed again, not an error)."""
    try:
        with np.load(path) as data:
            keys, rows = data["keys"], data["rows"]
    except (OSError, KeyError, ValueError):
        return None
    if keys.ndim != 1 or rows.ndim != 2 or len(keys) != len(rows) or not np.isfinite(rows).all():
        return None
    return Targets(keys.astype(np.int64), rows.astype(np.float32))


def _compute(
    chunks: Callable[[tuple[Shard, ...], Want], Iterator[Chunk]],
    shards: tuple[Shard, ...],
    want: Want,
    teachers: tuple[Teacher, ...],
    models: list[Any],
    temperature: float,
    predict: Callable[[Any, np.ndarray], np.ndarray],
) -> Targets:
    """Every teacher's softened probabilities of the `want`ed drawings of each shard, averaged, keyed by drawing."""
    keys, rows = [], []
    for index, shard in enumerate(shards):
        for chunk in chunks((shard,), want):
            if not len(chunk):
                continue
            inputs = {kind: chunk.features(kind).astype(np.float32) for kind in {t.input_kind for t in teachers}}
            probs = [soften(predict(model, inputs[t.input_kind]), temperature) for t, model in zip(teachers, models, strict=True)]
            keys.append(drawing_keys(index, chunk.labels, chunk.positions))
            rows.append(np.mean(probs, axis=0).astype(np.float32))
    if not keys:
        raise DataError(f"{', '.join(s.name for s in shards)}: no training drawings for the teachers to label")
    order = np.argsort(np.concatenate(keys), kind="stable")
    return Targets(np.concatenate(keys)[order], np.concatenate(rows)[order])


def load_teachers(teachers: tuple[Teacher, ...], classes: int) -> list[Any]:
    """The teachers' Keras models (under a strategy's scope, for consistent teaching); a TeacherError naming the file,
    also for a model whose outputs are not the student's `classes` (its report edited to pass the check by name):
    its probabilities could not be compared with the student's, and training would wait on a step that never runs."""
    from sketch_edge.models.saved import load_trained

    models = []
    for t in teachers:
        path = Layout(Path(t.path)).model
        try:
            model = load_trained(path)
        except ModelError as exc:
            raise TeacherError(f"teacher {exc}") from None
        outputs = model.output_shape[-1] if isinstance(model.output_shape, tuple) else None
        if outputs != classes:
            raise TeacherError(f"teacher {path}: gives {outputs} outputs, and the student has {classes} classes")
        models.append(model)
    return models


def soften(probs: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(log p / T) per row: a temperature above 1 spreads the probability over the runner-up classes."""
    logits = np.log(np.clip(probs.astype(np.float64), EPSILON, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    weights = np.exp(logits)
    return weights / weights.sum(axis=1, keepdims=True)
