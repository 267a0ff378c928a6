"""`tfds:quickdraw_bitmap`: the TensorFlow Datasets copy of the numpy_bitmap files (345 classes, one split)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from sketch_edge.data.source import CHUNK, Chunk, Shard, Source, Want
from sketch_edge.errors import DataError, first_line, unknown_name

TFDS_NAMES = ("quickdraw_bitmap",)
OFFLINE_HINT = (
    "prepare it with --tfds-download (about 37 GB from the TFDS bucket) or, without network access to that bucket, "
    "download the official numpy_bitmap/<class>.npy files elsewhere and use a local folder (DATA=path/to/folder)"
)


def open_tfds(name: str, *, classes: list[str] | None, per_class: int | None, data_dir: str | None, download: bool) -> Source:
    """The chosen classes, at most `per_class` each, streamed in the dataset's own (already shuffled) order.

    Reads a prepared copy from the TFDS data dir; downloads only when asked, since
    the full dataset is tens of GB and an offline download attempt only retries.
    TFDS holds one split in its own files, so it is one shard here: one worker reads it.
    """
    if name not in TFDS_NAMES:
        raise DataError(f"tfds:{name}: {unknown_name('TFDS dataset', name, TFDS_NAMES)}")
    import tensorflow_datasets as tfds

    source = f"tfds:{name}"
    try:
        builder = tfds.builder(name, data_dir=data_dir)
        if download:
            builder.download_and_prepare()
        all_names = builder.info.features["label"].names
        builder.as_dataset(split="train")  # fails here, at opening, when the prepared files are missing
    except Exception as exc:  # TFDS raises many kinds (network, missing files, GCS); all mean "not here"
        first = first_line(exc)[:200]
        raise DataError(f"{source}: cannot load the dataset ({first}); {OFFLINE_HINT}") from None

    wanted = classes or list(all_names)
    for c in wanted:
        if c not in all_names:
            raise DataError(f"{source}: {unknown_name('class', c, all_names)}")
    new_label = {all_names.index(c): i for i, c in enumerate(wanted)}
    cap = per_class if per_class is not None else np.iinfo(np.int64).max
    total = builder.info.splits["train"].num_examples if "train" in builder.info.splits else 0  # absent in TFDS's mock data
    size = min(total or cap * len(wanted), cap * len(wanted))

    def read(shard: Shard, want: Want) -> Iterator[Chunk]:
        taken = np.zeros(len(wanted), dtype=np.int64)
        images: list[np.ndarray] = []
        labels: list[int] = []
        for example in tfds.as_numpy(builder.as_dataset(split="train", shuffle_files=False)):
            label = new_label.get(int(example["label"]))
            if label is None or taken[label] >= cap:
                continue
            images.append(example["image"].reshape(28, 28))
            labels.append(label)
            taken[label] += 1
            if len(labels) == CHUNK:
                yield _select(np.stack(images), np.asarray(labels, np.int32), taken, want)
                images, labels = [], []
            if (taken >= cap).all():
                break
        if labels:
            yield _select(np.stack(images), np.asarray(labels, np.int32), taken, want)

    return Source(
        labels=tuple(wanted),
        kinds=("bitmap",),
        shards=(Shard(name=source, label=None, size=size),),
        read=read,
        description={"source": source, "format": "numpy_bitmap (TFDS)"},
    )


def _select(images: np.ndarray, labels: np.ndarray, taken: np.ndarray, want: Want) -> Chunk:
    """The wanted examples of a chunk; `taken` counts each class up to the chunk's end, which numbers them."""
    positions = np.empty(len(labels), dtype=np.int64)
    mask = np.empty(len(labels), dtype=bool)
    for label in np.unique(labels):
        where = labels == label
        positions[where] = taken[label] - where.sum() + np.arange(where.sum())
        mask[where] = want(int(label), positions[where])
    return Chunk(labels=labels[mask], positions=positions[mask], bitmaps=images[mask])
