"""`tfds:quickdraw_bitmap`: the TensorFlow Datasets copy of the numpy_bitmap files (345 classes, one split)."""

from __future__ import annotations

import numpy as np

from sketch_edge.data.dataset import Dataset
from sketch_edge.errors import DataError, unknown_name

TFDS_NAMES = ("quickdraw_bitmap",)
OFFLINE_HINT = (
    "prepare it with --tfds-download (about 37 GB from the TFDS bucket) or, without network access to that bucket, "
    "download the official numpy_bitmap/<class>.npy files elsewhere and use a local folder (DATA=path/to/folder)"
)


def load_tfds(name: str, *, classes: list[str] | None, per_class: int | None, data_dir: str | None, download: bool) -> Dataset:
    """Drawings of the chosen classes, at most `per_class` each, in the dataset's own order.

    Reads a prepared copy from the TFDS data dir; downloads only when asked, since
    the full dataset is tens of GB and an offline download attempt only retries.
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
        ds = builder.as_dataset(split="train")
    except Exception as exc:  # TFDS raises many kinds (network, missing files, GCS); all mean "not here"
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise DataError(f"{source}: cannot load the dataset ({first}); {OFFLINE_HINT}") from None

    wanted = classes or list(all_names)
    for c in wanted:
        if c not in all_names:
            raise DataError(f"{source}: {unknown_name('class', c, all_names)}")
    new_label = {all_names.index(c): i for i, c in enumerate(wanted)}
    cap = per_class if per_class is not None else np.inf
    taken = np.zeros(len(wanted), dtype=np.int64)
    images: list[np.ndarray] = []
    labels: list[int] = []
    for example in tfds.as_numpy(ds):
        label = new_label.get(int(example["label"]))
        if label is None or taken[label] >= cap:
            continue
        images.append(example["image"].reshape(28, 28))
        labels.append(label)
        taken[label] += 1
        if (taken >= cap).all():
            break
    for i, count in enumerate(taken):
        if count == 0:
            raise DataError(f"{source}: no drawings of class {wanted[i]!r} (empty class)")
    return Dataset(
        labels=tuple(wanted),
        y=np.asarray(labels, dtype=np.int32),
        bitmaps=np.stack(images).astype(np.uint8),
        description={"source": source, "format": "numpy_bitmap (TFDS)", "skipped": {}},
    )
