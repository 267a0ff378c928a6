"""The training part of a source as a tf.data stream: every batch mixes the classes, memory does not grow with the source.

Each shard (file) is read by its own generator, which keeps only its training
positions (`dataset.assign`); the shards are sampled in proportion to their size
and shuffled in a bounded buffer. A source small enough (`CACHE_BYTES`) is cached
after its first pass and each file shuffled whole, so epochs over the real subsets
neither re-read nor re-rasterize files; a larger one is re-read in its own order
every epoch, which bounds memory by the shuffle buffer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from sketch_edge.data import INPUT_SPECS, Shard, Source
from sketch_edge.data.dataset import BLOCK, TRAIN, assign, train_count
from sketch_edge.data.sequence import ON, PRESENT
from sketch_edge.errors import DataError, SketchEdgeError
from sketch_edge.train.distill import Targets

SHUFFLE_BUFFER = 8192
CACHE_BYTES = 256 << 20


@dataclass
class Errors:
    """What a generator raised: tf.data turns it into a long `OpError`; the loop re-raises the original one-line error."""

    seen: list[SketchEdgeError] = field(default_factory=list)


def train_size(source: Source, shards: tuple[Shard, ...], seed: int) -> int:
    """Training drawings in these shards, from their sizes (for ndjson the line count: an upper bound when lines
    are skipped; for TFDS, whose shard mixes the classes, 8 in 10)."""
    return sum(train_count(seed, source.labels[s.label], s.size) if s.label is not None else s.size * (BLOCK - 2) // BLOCK for s in shards)


def train_stream(
    source: Source,
    shards: tuple[Shard, ...],
    kind: str,
    seed: int,
    batch_size: int,
    augment: float,
    errors: Errors,
    worker: int = 0,
    teachers: Targets | None = None,
    run_seed: int | None = None,
) -> tf.data.Dataset:
    """Endless (inputs float32, one-hot targets) batches of the training drawings of `shards`, with each drawing's
    teacher targets as a third element when `teachers` has them (see distill.py).

    `seed` fixes the split; shuffling and augmentation draw from `run_seed + worker` (`run_seed` defaults to `seed`),
    so workers do not repeat each other and a second run can differ from the first on the same split.
    `augment` is the augmentation strength (0: none; 1: the usual, see the augmenters below)."""
    source.check_kind(kind)
    classes = len(source.labels)
    shape = INPUT_SPECS[kind].shape
    shuffle = (seed if run_seed is None else run_seed) + worker

    def generate(index: Any) -> Any:
        yield from _file_batches(source, shards[int(index)], int(index), kind, seed, teachers, errors)

    signature: tuple[tf.TensorSpec, ...] = (tf.TensorSpec((None, *shape), tf.uint8), tf.TensorSpec((None,), tf.int32))
    if teachers is not None:
        signature += (tf.TensorSpec((None, classes), tf.float32),)
    cache = train_size(source, shards, seed) * int(np.prod(shape)) <= CACHE_BYTES
    streams = []
    for index, shard in enumerate(shards):
        stream = tf.data.Dataset.from_generator(generate, args=(index,), output_signature=signature).unbatch()
        if cache:  # held anyway: shuffle each file whole, so no two epochs see a class in the same order
            stream = stream.cache().shuffle(max(1, train_size(source, (shard,), seed)), seed=shuffle + index)
        streams.append(stream.repeat())
    weights = np.array([max(1, s.size) for s in shards], dtype=np.float64)
    mixed = streams[0] if len(streams) == 1 else tf.data.Dataset.sample_from_datasets(streams, weights / weights.sum(), seed=shuffle)
    ds = mixed.shuffle(SHUFFLE_BUFFER, seed=shuffle).batch(batch_size, drop_remainder=True)
    augmenter = _bitmap_augmenter(shuffle, augment) if augment and kind == "bitmap" else None

    def prepare(x: Any, y: Any, *taught: Any) -> tuple[Any, ...]:
        x, targets = tf.cast(x, tf.float32), tf.one_hot(y, classes)  # one-hot so the loss can smooth labels
        if augmenter is not None:
            x = augmenter(x, training=True)
        elif augment and kind == "strokes":
            x = _augment_points(x, augment)
        return (x, targets, *taught)

    return ds.map(prepare, num_parallel_calls=2).prefetch(2).with_options(_options())


def _file_batches(
    source: Source, shard: Shard, index: int, kind: str, seed: int, teachers: Targets | None, errors: Errors
) -> Iterator[tuple[np.ndarray, ...]]:
    """One file's training drawings as (0-255 uint8 features, labels[, teacher targets]) chunks; a file with none is
    an error, recorded in `errors` too (see `Errors`)."""
    found = 0
    try:
        for chunk in source.chunks((shard,), lambda label, positions: assign(seed, source.labels[label], positions) == TRAIN):
            found += len(chunk)
            if not len(chunk):
                continue
            features = chunk.features(kind).astype(np.uint8)  # 0-255 integers in both kinds: exact
            if teachers is None:
                yield features, chunk.labels
            else:
                yield features, chunk.labels, teachers.lookup(index, chunk.labels, chunk.positions)
        if not found:
            raise DataError(f"{shard.name}: no training drawings in this file")
    except SketchEdgeError as exc:
        errors.seen.append(exc)
        raise


def _options() -> tf.data.Options:
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF  # sharded by file above
    # Fixed parallelism, no autotuning: with it, tearing the iterator down after a 15-epoch run on the real subset
    # waited 40 s at full CPU for tf.data's optimisation thread; two map calls keep up with training (benchmarks/streaming.py).
    options.autotune.enabled = False
    return options


def _augment_points(points: Any, strength: float) -> Any:
    """Mirror half the drawings and stretch each axis by 0.8-1.0 (at strength 1), as players draw wider or narrower.

    On (batch, steps, 4) point rows: the flags are kept, padded rows stay zero, and the
    drawing stays in 0-255 at the top-left, as the simplified drawings are."""
    present = points[..., PRESENT : PRESENT + 1] / ON
    xy = points[..., :2]
    batch = tf.shape(points)[0]
    mirror = tf.cast(tf.random.uniform((batch, 1, 1)) < 0.5, tf.float32)
    right = tf.reduce_max(xy[..., :1], axis=1, keepdims=True)
    x = xy[..., :1] * (1 - mirror) + (right - xy[..., :1]) * mirror
    stretch = tf.random.uniform((batch, 1, 2), max(0.5, 1 - 0.2 * strength), 1.0)
    xy = tf.round(tf.concat([x, xy[..., 1:]], axis=-1) * stretch) * present
    return tf.concat([xy, points[..., 2:]], axis=-1)


def _bitmap_augmenter(seed: int, strength: float) -> Any:
    """Mirror images and shifts of up to 5% x `strength` (1.4 pixels at 1): a cat facing left is still a cat, and people
    start a stroke a little off."""
    return keras.Sequential(
        [
            layers.RandomFlip("horizontal", seed=seed),
            layers.RandomTranslation(0.05 * strength, 0.05 * strength, fill_mode="constant", seed=seed + 1),
        ]
    )
