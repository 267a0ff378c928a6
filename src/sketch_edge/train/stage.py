"""Training stage: a streamed source -> split -> Keras model -> `model.keras`, `labels.txt`, `split.npz`, report and curves."""

from __future__ import annotations

import platform
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from sketch_edge import fileio
from sketch_edge.data import DataRequest, Shard, Source
from sketch_edge.data.local import fingerprint
from sketch_edge.data.saved_split import SavedSplit
from sketch_edge.errors import DataError
from sketch_edge.isolation import cpu_count, library_versions
from sketch_edge.layout import Layout
from sketch_edge.metrics import topk_accuracy
from sketch_edge.models import ModelSpec, get_model_spec, short_name
from sketch_edge.reporting import pyplot
from sketch_edge.runtime import REFERENCE
from sketch_edge.train.cluster import Cluster, Heartbeat
from sketch_edge.train.distill import Targets, Teacher, Teaching, check_teachers, load_teachers, targets
from sketch_edge.train.input import Errors, train_size, train_stream
from sketch_edge.train.loop import Fitted, Schedule, fit, predict_in_batches
from sketch_edge.train.report import Distillation, Distribution, History, TestScores, TrainReport


@dataclass(frozen=True)
class TrainConfig:
    data: DataRequest
    model: str
    out: Path
    epochs: int | None = None  # None: the model's own default
    batch_size: int | None = None  # the global batch: split evenly across workers
    patience: int | None = None  # None: the model's own
    steps_per_epoch: int | None = None  # None: one pass over the training drawings
    run_seed: int | None = None  # the weights' initialisation and the shuffling, not the split; None: the data's seed
    teaching: Teaching | None = None  # distil from these teachers (see distill.py); None: the labels alone
    verbose: bool = True


def run(config: TrainConfig, source: Source | None = None) -> TrainReport:
    """Train, evaluate on the held-out test split, and write every output atomically (the chief only).

    Runs alone, or as one of the workers of a `TF_CONFIG` cluster (see `cluster.py`).
    `source` is `config.data` already opened, when the caller has it."""
    spec = get_model_spec(config.model)  # fail on a bad name before reading any data
    cluster = Cluster.from_env()
    source = source if source is not None else config.data.open()
    seed = config.data.seed
    shards = source.worker_shards(cluster.index, cluster.workers)
    global_batch = _global_batch(config, spec, cluster)
    teaching = config.teaching
    # Each file's size and sha256: a full read, done once, for the chief's record and for the teachers' check.
    files = fingerprint(source) if any(shard.path for shard in source.shards) and (cluster.is_chief or teaching) else {}
    teachers = check_teachers(teaching, config.data, source, spec.input_kind, files) if teaching else ()  # before training
    saved = SavedSplit.collect(source, spec.input_kind, seed, config.data.eval_per_class)
    train_drawings = train_size(source, source.shards, seed)
    run_seed = seed if config.run_seed is None else config.run_seed
    keras.utils.set_random_seed(run_seed)
    errors = Errors()
    heartbeat = Heartbeat.from_env()
    heartbeat.beat("connecting")
    strategy = cluster.connect()  # before any other TensorFlow op, as collective ops require
    taught, distillation = _distillation(teaching, teachers, source, shards, seed, heartbeat)

    def make_stream(context: tf.distribute.InputContext) -> tf.data.Dataset:
        batch = context.get_per_replica_batch_size(global_batch)
        return train_stream(source, shards, spec.input_kind, seed, batch, spec.augment, errors, cluster.index, taught, run_seed)

    schedule = _schedule(config, spec, train_drawings, global_batch)
    fitted = fit(
        strategy,
        lambda: spec.build(len(source.labels)),
        make_stream,
        (saved.val_x, saved.val_y),
        schedule,
        errors,
        verbose=config.verbose and cluster.is_chief,
        beat=heartbeat.beat,
        teach=(lambda: load_teachers(teachers, len(source.labels))) if teaching and teaching.consistent else None,
    )
    test = _test_scores(fitted.model, saved)
    description = {**source.description, "skipped": dict(source.skipped), **({"files": files} if cluster.is_chief and files else {})}
    saved = replace(saved, source={"request": config.data.to_json(), **description})
    report = _report(
        spec=spec,
        config=config,
        description=description,
        classes=tuple(source.labels),
        saved=saved,
        train_drawings=train_drawings,
        fitted=fitted,
        test=test,
        cluster=cluster,
        distillation=distillation,
        schedule=schedule,
        seed=seed,
        run_seed=run_seed,
    )
    return write_outputs(Layout(config.out), fitted.model, saved, report) if cluster.is_chief else report


def _global_batch(config: TrainConfig, spec: ModelSpec, cluster: Cluster) -> int:
    global_batch = config.batch_size or spec.batch_size
    if global_batch % cluster.workers:
        raise DataError(f"--batch-size {global_batch} does not divide evenly between {cluster.workers} workers")
    return global_batch


def _distillation(
    teaching: Teaching | None, teachers: tuple[Teacher, ...], source: Source, shards: tuple[Shard, ...], seed: int, heartbeat: Heartbeat
) -> tuple[Targets | None, Distillation | None]:
    """The teachers' targets for every training drawing (computed once, before training) and what the report says of
    them; a consistent teaching computes none here: the loop runs the teachers on each augmented batch."""
    if teaching is None:
        return None, None
    if teaching.consistent:
        return None, Distillation(teaching.temperature, teaching.mix, teachers, 0.0, cached=False, consistent=True)
    return targets(
        source, shards, seed, teaching, teachers, lambda m, x: predict_in_batches(lambda b: m(b, training=False), x, heartbeat.beat)
    )


def _schedule(config: TrainConfig, spec: ModelSpec, train_drawings: int, global_batch: int) -> Schedule:
    teaching = config.teaching
    return Schedule(
        epochs=config.epochs or spec.epochs,
        steps_per_epoch=config.steps_per_epoch or max(1, train_drawings // global_batch),
        global_batch=global_batch,
        learning_rate=spec.learning_rate,
        label_smoothing=spec.label_smoothing,
        patience=config.patience or spec.patience,
        temperature=teaching.temperature if teaching else 1.0,
        mix=teaching.mix if teaching else 0.0,
    )


def _test_scores(model: Any, saved: SavedSplit) -> TestScores:
    probs = predict_in_batches(lambda x: model(x, training=False), saved.test_x)
    return TestScores(topk_accuracy(probs, saved.test_y, 1), topk_accuracy(probs, saved.test_y, 3), len(saved.test_y))


def _report(
    *,
    spec: ModelSpec,
    config: TrainConfig,
    description: dict[str, Any],
    classes: tuple[str, ...],
    saved: SavedSplit,
    train_drawings: int,
    fitted: Fitted,
    test: TestScores,
    cluster: Cluster,
    distillation: Distillation | None,
    schedule: Schedule,
    seed: int,
    run_seed: int,
) -> TrainReport:
    """The training report of a run (its files are filled in when the chief writes them)."""
    epochs, steps_per_epoch, global_batch = schedule.epochs, schedule.steps_per_epoch, schedule.global_batch
    model = fitted.model
    report = TrainReport(
        model=spec.name,
        model_description=spec.description,
        parameters=int(model.count_params()),
        input=spec.input_spec.to_json(),
        data={**description, "request": config.data.to_json()},
        classes=classes,
        splits={"train": train_drawings, "val": len(saved.val_y), "test": len(saved.test_y)},
        seed=seed,
        run_seed=run_seed,
        epochs_requested=epochs,
        epochs_run=len(fitted.history["loss"]),
        steps_per_epoch=steps_per_epoch,
        batch_size=global_batch,
        label_smoothing=spec.label_smoothing,
        patience=config.patience or spec.patience,
        seconds=round(fitted.seconds, 2),
        history=History(**{k: tuple(v) for k, v in fitted.history.items()}),
        test=test,
        distribution=Distribution(
            strategy="MultiWorkerMirroredStrategy" if cluster.config else "none (one process)",
            workers=cluster.workers,
            global_batch=global_batch,
            per_worker_batch=global_batch // cluster.workers,
            drawings_per_second_per_worker=round(fitted.steps * global_batch / cluster.workers / fitted.seconds, 1),
            weights_identical_across_workers=fitted.weights_identical,
        ),
        machine={"cpus": cpu_count(), "python": platform.python_version(), **library_versions(REFERENCE.libraries)},
        files={},
        distillation=distillation,
    )
    return report


def write_outputs(layout: Layout, model: Any, saved: SavedSplit, report: TrainReport) -> TrainReport:
    """Split, model, labels, report and curves, made in a scratch folder and then moved in together; the report, moved
    last, carries the digests of the files (a student checks its teachers against them, export its model and split).
    A kill or a full disk meanwhile leaves the earlier outputs, or none with no report: never a new split beside an
    old model."""
    with fileio.committed(layout.root, layout.train_report, ".train-") as scratch:
        staged = Layout(scratch)
        saved.save(staged.split)
        with fileio.atomic_path(staged.model) as tmp:
            model.save(tmp)
        saved.save_labels(staged.labels)
        report = replace(report, files={path.name: fileio.sha256_file(path) for path in (staged.model, staged.split)})
        report.save(staged.train_report)
        save_curves(report, staged.curves)
        layout.origin.unlink(missing_ok=True)  # a model taken from elsewhere earlier is no longer this folder's model
    return report


def save_curves(report: TrainReport, path: Path) -> None:
    plt = pyplot()
    hist = report.history
    epochs = np.arange(1, report.epochs_run + 1)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    taught = report.distillation
    for key, ax in (("loss", ax_loss), ("accuracy", ax_acc)):
        # A distilled model's training loss mixes in the teachers' term: not on the validation loss's scale.
        mixed = taught is not None and key == "loss"
        ax.plot(epochs, getattr(hist, key), label="train (labels and teachers)" if mixed else "train")
        ax.plot(epochs, getattr(hist, f"val_{key}"), label="validation (labels)" if mixed else "validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.legend()
    by = f", taught by {' + '.join(short_name(t.model) for t in taught.teachers)}" if taught else ""
    fig.suptitle(f"{short_name(report.model)} on {report.data['source']}{by}: test top-1 {report.test.top1:.3f}", fontsize=10)
    fig.tight_layout()
    with fileio.atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
