"""A folder of labelled images, in the layout users already have: one subfolder of pictures per class.

The convention of Keras's `image_dataset_from_directory` and torchvision's `ImageFolder`:
`FOLDER/<class>/*.png|jpg|jpeg|webp|bmp`, class order the sorted folder names unless a
labels file gives it (the model's output order is the user's fact, never guessed). When
`FOLDER/train/` and `FOLDER/test/` (and optionally `FOLDER/val/`) hold the class folders,
that is the user's split and it is kept; otherwise validation and test are drawn per class
by `dataset.assign` (seeded, the same rule as every other source).

Only the images export and bench need are decoded: validation, test and calibration,
at most `eval_per_class` of each class for the first two. Each is resized to the model's
size with Pillow's bilinear filter (Keras's own loader also resizes bilinearly; Pillow
also averages over the source pixels when it shrinks) and converted to the model's
channels. Hidden files, files beside the class folders, files of other types and images
that do not decode are skipped and counted; an empty class, a missing folder, or labels
that name no folder stop the run with one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sketch_edge import fileio
from sketch_edge.data.dataset import TEST, TRAIN, VAL, assign
from sketch_edge.data.image import fit_picture, open_image
from sketch_edge.data.saved_split import CALIBRATION_SIZE, SavedSplit
from sketch_edge.errors import DataError

SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
EVAL_PER_CLASS = 200
"""Validation and test images kept per class: at 224x224x3 that is 30 MB a class in split.npz, uint8."""
MAX_CLASSES = 10_000
MAX_FILES_PER_CLASS = 1_000_000
SPLIT_FOLDERS = ("train", "val", "test")
LABELS_FILE = "labels.txt"


@dataclass(frozen=True)
class FolderListing:
    """What is in the folder: each class's image files in sorted order (a file's rank is its position), and what
    was left out before decoding anything."""

    root: Path
    labels: tuple[str, ...]
    files: dict[str, dict[str, list[Path]]]  # part ("all", or the user's "train"/"val"/"test") -> class -> files
    skipped: dict[str, int]  # reason -> how many

    @property
    def user_split(self) -> bool:
        return "all" not in self.files


def list_folder(root: Path, labels: tuple[str, ...] | None = None) -> FolderListing:
    """The classes and their image files; a one-line `DataError` for a folder that cannot be one."""
    if not root.is_dir():
        raise DataError(f"{root}: no such folder (expected one subfolder of images per class)")
    skipped: dict[str, int] = {}
    parts = [p for p in SPLIT_FOLDERS if (root / p).is_dir()]
    if "train" in parts and "test" in parts:
        files = {part: _class_files(root / part, labels, skipped) for part in parts}
        names = set(files["train"])
        for part, found in files.items():
            if set(found) != names:
                other = sorted(names ^ set(found))[0]
                raise DataError(f"{root / part}: its class folders are not train/'s (differs in {other!r})")
    else:
        files = {"all": _class_files(root, labels, skipped)}
    order = labels if labels is not None else tuple(sorted(next(iter(files.values()))))
    return FolderListing(root=root, labels=order, files=files, skipped=skipped)


def _class_files(folder: Path, labels: tuple[str, ...] | None, skipped: dict[str, int]) -> dict[str, list[Path]]:
    classes: dict[str, list[Path]] = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            _count(skipped, "hidden files or folders")
        elif entry.is_dir():
            if len(classes) >= MAX_CLASSES:
                raise DataError(f"{folder}: more than {MAX_CLASSES:,} class folders")
            classes[entry.name] = _images(entry, skipped)
        elif entry.name != LABELS_FILE:
            _count(skipped, "files beside the class folders")
    if labels is not None:
        missing = [name for name in labels if name not in classes]
        if missing:
            raise DataError(f"{folder}: the labels name {missing[0]!r}, which has no folder here")
        extra = sorted(set(classes) - set(labels))
        if extra:
            raise DataError(f"{folder}/{extra[0]}: a class folder the labels file does not name")
    if not classes:
        raise DataError(f"{folder}: no class folders (expected one subfolder of images per class)")
    for name, images in classes.items():
        if not images:
            raise DataError(f"{folder / name}: an empty class (no {'/'.join(s[1:] for s in SUFFIXES)} images)")
    return classes


def _images(folder: Path, skipped: dict[str, int]) -> list[Path]:
    found = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            _count(skipped, "hidden files or folders")
        elif path.suffix.lower() not in SUFFIXES or not path.is_file():
            _count(skipped, "not image files")
        else:
            found.append(path)
            if len(found) > MAX_FILES_PER_CLASS:
                raise DataError(f"{folder}: more than {MAX_FILES_PER_CLASS:,} images in one class")
    return found


def _count(skipped: dict[str, int], reason: str) -> None:
    skipped[reason] = skipped.get(reason, 0) + 1


def load_picture(path: Path, size: tuple[int, int], channels: int) -> np.ndarray:
    """One image file -> (H, W, C) uint8 pixels, resized bilinearly and converted to `channels` (1 or 3)."""
    return fit_picture(open_image(path), size, channels)


def read_split(
    listing: FolderListing, size: tuple[int, int], channels: int, seed: int = 0, eval_per_class: int = EVAL_PER_CLASS
) -> SavedSplit:
    """Validation, test and calibration images at the model's size and channels, with what was skipped recorded
    in the split's source description."""
    per_class_calibration = max(1, CALIBRATION_SIZE // len(listing.labels))
    caps = {VAL: eval_per_class, TEST: eval_per_class, TRAIN: per_class_calibration}
    chosen: dict[int, tuple[list[np.ndarray], list[int], list[int]]] = {part: ([], [], []) for part in caps}
    skipped = dict(listing.skipped)
    for label, name in enumerate(listing.labels):
        for part, files, positions in _candidates(listing, name, seed):
            pictures, ys, kept = chosen[part]
            taken = 0
            for position, path in zip(positions, files, strict=True):
                if taken >= caps[part]:
                    break
                try:
                    pictures.append(load_picture(path, size, channels))
                except DataError:
                    _count(skipped, "images that do not decode")
                    continue
                ys.append(label)
                kept.append(int(position))
                taken += 1
            if taken == 0:
                what = {TRAIN: "calibration (training)", VAL: "validation", TEST: "test"}[part]
                raise DataError(f"{listing.root}: class {name!r} has no {what} images that decode (at least 10 per class)")
    arrays = {part: _stack(chosen[part], size, channels) for part in caps}
    about: dict[str, Any] = {
        "source": "images",
        "request": {"source": "images", "path": str(listing.root.resolve()), "seed": seed, "eval_per_class": eval_per_class},
        "classes": len(listing.labels),
        "user_split": listing.user_split,
        "files": sum(len(f) for part in listing.files.values() for f in part.values()),
        "skipped": skipped,
        "resize": f"bilinear to {size[0]}x{size[1]}, {'RGB' if channels == 3 else 'grayscale'}",
    }
    return SavedSplit(
        kind="image",
        labels=listing.labels,
        source=about,
        calibration=arrays[TRAIN][0],
        val_x=arrays[VAL][0],
        val_y=arrays[VAL][1],
        val_positions=arrays[VAL][2],
        test_x=arrays[TEST][0],
        test_y=arrays[TEST][1],
        test_positions=arrays[TEST][2],
    )


def _candidates(listing: FolderListing, name: str, seed: int) -> list[tuple[int, list[Path], np.ndarray]]:
    """(part, files in order, their positions) for one class: the user's split as given, or drawn by `assign`."""
    if listing.user_split:
        train, test = listing.files["train"][name], listing.files["test"][name]
        if "val" in listing.files:
            val, val_positions = listing.files["val"][name], np.arange(len(listing.files["val"][name]))
        else:  # no val/: every tenth training image, the rest stay training (calibration)
            every = np.arange(len(train))
            val_positions = every[every % 10 == 9]
            val = [train[i] for i in val_positions]
            train = [f for i, f in enumerate(train) if i % 10 != 9]
        return [(TRAIN, train, np.arange(len(train))), (VAL, val, val_positions), (TEST, test, np.arange(len(test)))]
    files = listing.files["all"][name]
    positions = np.arange(len(files))
    parts = assign(seed, name, positions)
    return [(part, [files[i] for i in np.flatnonzero(parts == part)], positions[parts == part]) for part in (TRAIN, VAL, TEST)]


def _stack(chosen: tuple[list[np.ndarray], list[int], list[int]], size: tuple[int, int], channels: int) -> tuple[np.ndarray, ...]:
    pictures, ys, positions = chosen
    x = np.stack(pictures) if pictures else np.zeros((0, *size, channels), dtype=np.uint8)
    return x, np.asarray(ys, dtype=np.int64), np.asarray(positions, dtype=np.int64)


def check_outputs(listing: FolderListing, outputs: int, model: Path, labels: Path | None) -> None:
    """The model's outputs must be the folder's classes, one each: the class order is the user's fact, never guessed."""
    if outputs != len(listing.labels):
        raise DataError(
            f"{labels or listing.root}: {len(listing.labels)} classes, but {model} has {outputs} outputs "
            "(give the model's class order with --labels FILE, one name a line)"
        )


MAX_LABELS_BYTES = 1 << 20
"""345 class names take 4 kB; a labels file of a megabyte is not one."""


def read_labels(path: Path) -> tuple[str, ...]:
    """A labels file: one class name per line, in the model's output order; blank lines ignored."""
    try:
        text = fileio.read_limited(path, MAX_LABELS_BYTES).decode("utf-8")
        names = [line.strip() for line in text.splitlines() if line.strip()]
    except OSError as exc:
        raise DataError(f"{path}: cannot read the labels file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: the labels file is not UTF-8 text") from None
    if not names:
        raise DataError(f"{path}: the labels file names no class")
    if len(set(names)) != len(names):
        duplicate = next(n for n in names if names.count(n) > 1)
        raise DataError(f"{path}: the labels file names {duplicate!r} twice")
    return tuple(names)
