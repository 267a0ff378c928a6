"""Training stage: data -> split -> Keras model -> `model.keras`, `labels.txt`, report and curves."""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from keras import layers
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from sketch_edge import fileio
from sketch_edge.data import DataRequest, Dataset, split
from sketch_edge.data.saved_split import SavedSplit
from sketch_edge.data.sequence import ON, PRESENT
from sketch_edge.isolation import cpu_count
from sketch_edge.layout import Layout
from sketch_edge.metrics import topk_accuracy
from sketch_edge.models import get_model_spec


@dataclass(frozen=True)
class TrainConfig:
    data: DataRequest
    model: str
    out: Path
    epochs: int | None = None  # None: the model's own default
    batch_size: int | None = None
    patience: int = 3
    verbose: bool = True


def run(config: TrainConfig, data: Dataset | None = None) -> dict[str, Any]:
    """Train, evaluate on the held-out test split, and write every output atomically.

    `data` is `config.data` already loaded, when the caller has it.
    """
    spec = get_model_spec(config.model)  # fail on a bad name before loading any data
    data = data if data is not None else config.data.load()
    seed = config.data.seed
    splits = split(data, seed=seed)

    keras.utils.set_random_seed(seed)
    epochs = config.epochs or spec.epochs
    batch_size = config.batch_size or spec.batch_size
    classes = len(data.labels)
    model = spec.build(classes)
    train_ds = _pipeline(splits.train, spec.input_kind, classes, batch_size, shuffle_seed=seed, augment=spec.augment)
    val_ds = _pipeline(splits.val, spec.input_kind, classes, batch_size)
    # Cosine decay over the planned epochs: short CPU runs get most of their accuracy from a well-annealed end.
    schedule = keras.optimizers.schedules.CosineDecay(spec.learning_rate, decay_steps=epochs * len(train_ds), alpha=0.02)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=spec.label_smoothing),
        metrics=["accuracy"],
    )
    # Not before half the planned epochs: under a cosine schedule the best epochs are the late, low-rate ones, and the
    # early high-rate ones are noisy enough to trip the patience (seq-conv stopped at epoch 14 of 20 at val 93.1%;
    # run to the end it reached 94.5%).
    callbacks = [
        keras.callbacks.EarlyStopping(
            monitor="val_accuracy", patience=config.patience, restore_best_weights=True, start_from_epoch=epochs // 2
        )
    ]
    if config.verbose:
        callbacks.append(_RichProgress(epochs))
    started = time.perf_counter()
    history = model.fit(train_ds, validation_data=val_ds, epochs=epochs, callbacks=callbacks, verbose=0, shuffle=False)
    seconds = time.perf_counter() - started

    # Tested on the very arrays saved for export and bench, built once.
    saved = SavedSplit.from_splits(splits, spec.input_kind, {"request": config.data.to_json(), **data.description}, seed)
    probs = model.predict(saved.test_x.astype(np.float32), batch_size=512, verbose=0)
    test = {"top1": topk_accuracy(probs, saved.test_y, 1), "top3": topk_accuracy(probs, saved.test_y, 3), "samples": len(saved.test_y)}

    hist = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    report = {
        "model": spec.name,
        "model_description": spec.description,
        "parameters": int(model.count_params()),
        "input": spec.input_spec.to_json(),
        "data": {**data.description, "request": config.data.to_json()},
        "classes": list(data.labels),
        "splits": splits.counts(),
        "seed": seed,
        "epochs_requested": epochs,
        "epochs_run": len(hist.get("loss", [])),
        "batch_size": batch_size,
        "label_smoothing": spec.label_smoothing,
        "seconds": round(seconds, 2),
        "history": hist,
        "test": test,
        "machine": {"cpus": cpu_count(), "python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__},
    }
    write_outputs(Layout(config.out), model, saved, report)
    return report


def _pipeline(data: Dataset, kind: str, classes: int, batch_size: int, shuffle_seed: int | None = None, augment: bool = False) -> Any:
    """(inputs, one-hot targets) batches: one-hot so the loss can smooth labels."""
    targets = np.eye(classes, dtype=np.float32)[data.y]
    ds = tf.data.Dataset.from_tensor_slices((data.features(kind).astype(np.float32), targets))
    if shuffle_seed is not None:
        ds = ds.shuffle(len(data), seed=shuffle_seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if augment and kind == "bitmap":
        augmenter = _bitmap_augmenter(shuffle_seed or 0)
        ds = ds.map(lambda x, y: (augmenter(x, training=True), y), num_parallel_calls=tf.data.AUTOTUNE)
    elif augment and kind == "strokes":
        ds = ds.map(_augment_points, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def _augment_points(points: Any, targets: Any) -> tuple[Any, Any]:
    """Mirror half the drawings and stretch each axis by 0.8-1.0, as players draw wider or narrower.

    On (batch, steps, 4) point rows: the flags are kept, padded rows stay zero, and the
    drawing stays in 0-255 at the top-left, as the simplified drawings are."""
    present = points[..., PRESENT : PRESENT + 1] / ON
    xy = points[..., :2]
    batch = tf.shape(points)[0]
    mirror = tf.cast(tf.random.uniform((batch, 1, 1)) < 0.5, tf.float32)
    right = tf.reduce_max(xy[..., :1], axis=1, keepdims=True)
    x = xy[..., :1] * (1 - mirror) + (right - xy[..., :1]) * mirror
    stretch = tf.random.uniform((batch, 1, 2), 0.8, 1.0)
    xy = tf.round(tf.concat([x, xy[..., 1:]], axis=-1) * stretch) * present
    return tf.concat([xy, points[..., 2:]], axis=-1), targets


def _bitmap_augmenter(seed: int) -> Any:
    """Mirror images and one-pixel shifts: a cat facing left is still a cat, and people start a stroke a little off."""
    return keras.Sequential(
        [
            layers.RandomFlip("horizontal", seed=seed),
            layers.RandomTranslation(0.05, 0.05, fill_mode="constant", seed=seed + 1),
        ]
    )


def write_outputs(layout: Layout, model: Any, saved: SavedSplit, report: dict[str, Any]) -> None:
    """Split, model, labels, report and curves, each written to a temporary file and renamed into place.

    The split goes first: a model.keras is never left without the split it was tested on."""
    saved.save(layout.split)
    with fileio.atomic_path(layout.model) as tmp:
        model.save(tmp)
    fileio.write_text(layout.labels, "".join(f"{name}\n" for name in saved.labels))
    fileio.write_json(layout.train_report, report)
    save_curves(report, layout.curves)


def save_curves(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hist = report["history"]
    epochs = np.arange(1, report["epochs_run"] + 1)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    for key, ax in (("loss", ax_loss), ("accuracy", ax_acc)):
        ax.plot(epochs, hist[key], label="train")
        ax.plot(epochs, hist[f"val_{key}"], label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.legend()
    fig.suptitle(f"{report['model']} on {report['data']['source']}: test top-1 {report['test']['top1']:.3f}")
    fig.tight_layout()
    with fileio.atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)


class _RichProgress(keras.callbacks.Callback):
    """A progress bar over epochs, with each epoch's metrics logged above it."""

    def __init__(self, epochs: int) -> None:
        super().__init__()
        self.epochs = epochs
        self.progress = Progress(
            TextColumn("training"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.fields[metrics]}")
        )

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.progress.start()
        self.task = self.progress.add_task("epochs", total=self.epochs, metrics="")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        metrics = " ".join(f"{k}={logs[k]:.4f}" for k in ("loss", "accuracy", "val_loss", "val_accuracy") if k in logs)
        self.progress.update(self.task, advance=1, metrics=metrics)
        self.progress.console.log(f"epoch {epoch + 1}: {metrics}")

    def on_train_end(self, logs: dict | None = None) -> None:
        self.progress.stop()
