"""The split a model was trained on, saved beside it, so export and bench evaluate on exactly those drawings.

Train writes `split.npz`: the validation and test inputs with their labels, the
calibration drawings (from the training part), each split's positions in the
loaded source, and the source's description (files with size and sha256). Export
and bench read only this file, so a source folder that changed, moved or is gone
cannot give them another split: test drawings never leak into training.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sketch_edge import fileio
from sketch_edge.data.dataset import Dataset, Splits
from sketch_edge.errors import DataError

CALIBRATION_SIZE = 300
FORMAT = 1
_ARRAYS = ("calibration", "val_x", "val_y", "test_x", "test_y", "train_index", "val_index", "test_index")


@dataclass(frozen=True)
class SavedSplit:
    kind: str  # the model's input kind: the arrays are its inputs as stored (bitmaps uint8, strokes float32)
    labels: tuple[str, ...]
    source: dict[str, Any]  # the data request and the source's description (its files' sizes and digests)
    calibration: np.ndarray
    val_x: np.ndarray
    val_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    train_index: np.ndarray
    val_index: np.ndarray
    test_index: np.ndarray

    @classmethod
    def from_splits(cls, splits: Splits, kind: str, source: dict[str, Any], seed: int) -> SavedSplit:
        return cls(
            kind=kind,
            labels=splits.train.labels,
            source=source,
            calibration=stratified_sample(splits.train, kind, seed=seed),
            val_x=splits.val.features(kind),
            val_y=splits.val.y,
            test_x=splits.test.features(kind),
            test_y=splits.test.y,
            train_index=splits.index["train"],
            val_index=splits.index["val"],
            test_index=splits.index["test"],
        )

    def test_drawings(self) -> str:
        """A digest naming the test drawings (the source and the test positions in it), not their encoding:
        a bitmap and a stroke model trained on the same split share it, so their results compare."""
        digest = hashlib.sha256(json.dumps(self.source, sort_keys=True).encode())
        digest.update(np.ascontiguousarray(self.test_index, dtype=np.int64).tobytes())
        return digest.hexdigest()

    def save(self, path: Path) -> None:
        meta = {"format": FORMAT, "kind": self.kind, "labels": list(self.labels), "source": self.source}
        with fileio.atomic_path(path) as tmp, open(tmp, "wb") as handle:
            np.savez_compressed(handle, meta=np.array(json.dumps(meta)), **{name: getattr(self, name) for name in _ARRAYS})

    @classmethod
    def load(cls, path: Path) -> SavedSplit:
        """The saved split, or a one-line `DataError` naming the file and what is wrong with it."""
        if not path.is_file():
            raise DataError(f"{path}: no saved split beside the model (it was trained by an older version; run `make train`)")
        try:
            with np.load(path, allow_pickle=False) as archive:
                missing = [name for name in ("meta", *_ARRAYS) if name not in archive.files]
                if missing:
                    raise DataError(f"{path}: not a sketch-edge split (missing {', '.join(missing)})")
                meta = json.loads(str(archive["meta"]))
                arrays = {name: archive[name] for name in _ARRAYS}
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
            raise DataError(f"{path}: not a readable split file ({exc})") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise DataError(f"{path}: split file format {meta.get('format') if isinstance(meta, dict) else meta!r} is not {FORMAT}")
        split = cls(kind=meta["kind"], labels=tuple(meta["labels"]), source=meta["source"], **arrays)
        for part in ("val", "test"):
            x, y = getattr(split, f"{part}_x"), getattr(split, f"{part}_y")
            if len(x) != len(y) or len(x) == 0:
                raise DataError(f"{path}: the {part} split has {len(x)} inputs and {len(y)} labels")
            if y.min() < 0 or y.max() >= len(split.labels):
                raise DataError(f"{path}: the {part} labels are outside the {len(split.labels)} classes")
        return split


def stratified_sample(train: Dataset, kind: str, size: int = CALIBRATION_SIZE, seed: int = 0) -> np.ndarray:
    """About `size` training drawings, the same number from each class (never validation or test)."""
    rng = np.random.default_rng(seed)
    per_class = max(1, size // len(train.labels))
    chosen = [rng.permutation(np.flatnonzero(train.y == c))[:per_class] for c in range(len(train.labels))]
    return train.subset(np.sort(np.concatenate(chosen))).features(kind)  # only the chosen drawings' inputs are built
