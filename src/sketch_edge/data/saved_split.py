"""The split a model was trained on, saved beside it, so export and bench evaluate on exactly those drawings.

Train writes `split.npz`: the validation and test inputs with their labels and
positions (each drawing's rank in its class, see `dataset.assign`), the
calibration drawings (the first training drawings of each class), and the
source's description (files with size and sha256). Export and bench read only
this file, so a source folder that changed, moved or is gone cannot give them
another split: test drawings never leak into training.
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
from sketch_edge.data.dataset import EVAL_PER_CLASS, TEST, TRAIN, VAL, assign
from sketch_edge.data.source import Chunk, Source
from sketch_edge.errors import DataError

CALIBRATION_SIZE = 300
FORMAT = 2  # 1 held positions in the whole loaded source; 2 holds each drawing's position in its class
_ARRAYS = ("calibration", "val_x", "val_y", "val_positions", "test_x", "test_y", "test_positions")


@dataclass(frozen=True)
class SavedSplit:
    kind: str  # the model's input kind: the arrays are its inputs as stored (bitmaps uint8, strokes float32)
    labels: tuple[str, ...]
    source: dict[str, Any]  # the data request and the source's description (its files' sizes and digests)
    calibration: np.ndarray
    val_x: np.ndarray
    val_y: np.ndarray
    val_positions: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    test_positions: np.ndarray

    @classmethod
    def collect(
        cls, source: Source, kind: str, seed: int, eval_per_class: int = EVAL_PER_CLASS, about: dict[str, Any] | None = None
    ) -> SavedSplit:
        """Validation, test and calibration drawings, streamed from the start of each shard: a file is read only
        until its classes have `eval_per_class` of each (and the calibration drawings), so this costs the same
        for a source of a thousand or a billion drawings. `about` is what the file records of the source."""
        source.check_kind(kind)
        classes = len(source.labels)
        caps = {VAL: eval_per_class, TEST: eval_per_class, TRAIN: max(1, CALIBRATION_SIZE // classes)}
        taken = {part: np.zeros(classes, dtype=np.int64) for part in caps}

        def want(label: int, positions: np.ndarray) -> np.ndarray:
            parts = assign(seed, source.labels[label], positions)
            mask = np.zeros(len(positions), dtype=bool)
            for part, cap in caps.items():
                where = np.flatnonzero(parts == part)[: max(0, cap - taken[part][label])]
                mask[where] = True
                taken[part][label] += len(where)
            return mask

        chunks: list[Chunk] = []
        for shard in source.shards:
            for chunk in source.chunks((shard,), want):
                chunks.append(chunk)
                labels = range(classes) if shard.label is None else [shard.label]
                if all(taken[part][label] >= cap for part, cap in caps.items() for label in labels):
                    break  # this file's classes are complete: the rest of it is training data only
        for part, name in ((TRAIN, "training"), (VAL, "validation"), (TEST, "test")):
            missing = [source.labels[i] for i in range(classes) if taken[part][i] == 0]
            if missing:
                raise DataError(f"class {missing[0]!r} has no {name} drawings: too few drawings to split (at least 10 per class)")
        x = np.concatenate([c.features(kind) for c in chunks])
        y = np.concatenate([c.labels for c in chunks])
        positions = np.concatenate([c.positions for c in chunks])
        parts = np.empty(len(y), dtype=np.int8)
        for label in np.unique(y):  # a chunk read holds only wanted drawings: these parts are the chosen ones
            parts[y == label] = assign(seed, source.labels[label], positions[y == label])
        return cls(
            kind=kind,
            labels=source.labels,
            source=about or {},
            calibration=x[parts == TRAIN],
            val_x=x[parts == VAL],
            val_y=y[parts == VAL],
            val_positions=positions[parts == VAL],
            test_x=x[parts == TEST],
            test_y=y[parts == TEST],
            test_positions=positions[parts == TEST],
        )

    def counts(self) -> dict[str, int]:
        return {"val": len(self.val_y), "test": len(self.test_y), "calibration": len(self.calibration)}

    def test_drawings(self) -> str:
        """A digest naming the test drawings (the source, their classes and positions), not their encoding:
        a bitmap and a stroke model trained on the same split share it, so their results compare."""
        digest = hashlib.sha256(json.dumps(self.source, sort_keys=True).encode())
        digest.update(np.ascontiguousarray(self.test_y, dtype=np.int64).tobytes())
        digest.update(np.ascontiguousarray(self.test_positions, dtype=np.int64).tobytes())
        return digest.hexdigest()

    def save(self, path: Path) -> None:
        meta = {"format": FORMAT, "kind": self.kind, "labels": list(self.labels), "source": self.source}
        with fileio.atomic_path(path) as tmp, open(tmp, "wb") as handle:
            np.savez_compressed(handle, meta=np.array(json.dumps(meta)), **{name: getattr(self, name) for name in _ARRAYS})

    def save_labels(self, path: Path) -> None:
        """labels.txt beside the split: one class a line, in the model's output order (what apps and --labels read)."""
        fileio.write_text(path, "".join(f"{name}\n" for name in self.labels))

    @classmethod
    def load(cls, path: Path) -> SavedSplit:
        """The saved split, or a one-line `DataError` naming the file and what is wrong with it."""
        if not path.is_file():
            raise DataError(f"{path}: no saved split beside the model (it was trained by an older version; run `make train`)")
        try:
            problem = fileio.archive_problem(path)
            if problem is not None:
                raise DataError(f"{path}: {problem}")
            with np.load(path, allow_pickle=False) as archive:
                meta = json.loads(str(archive["meta"])) if "meta" in archive.files else None
                if isinstance(meta, dict) and meta.get("format") != FORMAT:
                    raise DataError(f"{path}: split file format {meta.get('format')!r} is not {FORMAT} (retrain: `make train`)")
                missing = [name for name in ("meta", *_ARRAYS) if name not in archive.files]
                if missing or not isinstance(meta, dict):
                    raise DataError(f"{path}: not a sketch-edge split (missing {', '.join(missing) or 'a meta object'})")
                arrays = {name: archive[name] for name in _ARRAYS}
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
            raise DataError(f"{path}: not a readable split file ({exc})") from None
        labels = meta.get("labels")
        if not isinstance(meta.get("kind"), str) or not isinstance(labels, list) or not all(isinstance(v, str) for v in labels):
            raise DataError(f"{path}: its meta object lacks the input kind or the class names")
        for name, array in arrays.items():
            if array.dtype.kind not in "iuf" or (array.dtype.kind == "f" and not np.isfinite(array).all()):
                raise DataError(f"{path}: {name} holds {array.dtype} values that are not all finite numbers")
        split = cls(kind=meta["kind"], labels=tuple(meta["labels"]), source=meta["source"], **arrays)
        for part in ("val", "test"):
            x, y = getattr(split, f"{part}_x"), getattr(split, f"{part}_y")
            if len(x) != len(y) or len(x) == 0:
                raise DataError(f"{path}: the {part} split has {len(x)} inputs and {len(y)} labels")
            if y.min() < 0 or y.max() >= len(split.labels):
                raise DataError(f"{path}: the {part} labels are outside the {len(split.labels)} classes")
        return split
