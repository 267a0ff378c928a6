"""The in-memory dataset every source produces, its input kinds, and its splits.

A dataset holds labels plus bitmaps, drawings, or both. Drawings (strokes) give
both input kinds, since bitmaps are rasterized from them; bitmap-only sources
(numpy_bitmap, TFDS) give only `bitmap`. Models ask for the kind they consume.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from sketch_edge.data.drawing import Drawing
from sketch_edge.data.raster import SIDE, rasterize_many
from sketch_edge.data.sequence import CHANNELS, STEPS, to_sequences
from sketch_edge.errors import DataError
from sketch_edge.records import Record

IMAGE_KINDS = ("bitmap", "image")
"""Input kinds whose examples are pictures (H x W x C pixels): a file, a PIL image or an array of any size feeds them."""
COLOURS = {1: "gray", 3: "rgb"}


@dataclass(frozen=True)
class InputSpec(Record):
    """The input contract of a model, as data: what one example looks like, and how a pixel becomes the value the
    model reads (value = pixel x scale + offset). The sketch contracts are two instances; a user's image classifier
    gets one made from its own input layer and preprocessing (`models.contract`), so nothing downstream asks which
    kind of model it is to know its shape, colour or range."""

    kind: str  # "bitmap", "strokes" (the project's sketch models) or "image" (a model trained elsewhere)
    name: str  # the model's input tensor, in Keras and in every exported file
    shape: tuple[int, ...]  # one example, without the batch axis: (H, W, C) for pictures, (steps, channels) for strokes
    dtype: str
    value_range: tuple[float, float]  # what the model reads: pixel 0 and pixel 255 mapped (strokes: coordinates)
    description: str
    scaling: str  # what the model does to the input itself, so apps feed it raw values
    colour: str = "gray"  # "gray", "rgb" (pictures) or "none" (strokes)
    scale: float = 1.0  # value = pixel x scale + offset: what an app does to a 0-255 pixel before the model reads it
    offset: float = 0.0

    @property
    def is_image(self) -> bool:
        return self.kind in IMAGE_KINDS

    @property
    def size(self) -> tuple[int, int]:
        """(height, width) of a picture input."""
        return int(self.shape[0]), int(self.shape[1])

    @property
    def maps_pixels(self) -> bool:
        """Whether the model reads something other than raw 0-255 pixels (an app must scale them first)."""
        return (self.scale, self.offset) != (1.0, 0.0)

    def model_input(self, pixels: np.ndarray) -> np.ndarray:
        """Stored examples (pixels for pictures, point rows for strokes) -> float32 values the model reads."""
        x = np.asarray(pixels, dtype=np.float32)
        return x * np.float32(self.scale) + np.float32(self.offset) if self.maps_pixels else x

    def rgb(self) -> InputSpec:
        """This grayscale contract as an RGB image, the gray value in each channel: what an image API such as
        MediaPipe's ImageClassifier feeds (it refuses one channel). A model made for it averages the channels first.
        An RGB contract is its own RGB form."""
        if not self.is_image:
            raise ValueError(f"only picture inputs have an RGB form, not {self.kind}")
        if self.colour == "rgb":
            return self
        return replace(
            self,
            shape=(*self.shape[:-1], 3),
            colour="rgb",
            description=f"{self.description}, the gray value in each of R, G and B",
            scaling=f"inside the model: the three channels averaged, then {self.scaling.removeprefix('inside the model: ')}",
        )

    @classmethod
    def upgrade_hint(cls) -> str:
        return "export again with this version (`make export`)"


def image_contract(shape: tuple[int, int, int], scale: float, offset: float, scaling: str, name: str = "image") -> InputSpec:
    """The contract of a picture classifier trained elsewhere: its input size and channels, and the pixel mapping."""
    height, width, channels = shape
    colour = COLOURS[channels]
    lo, hi = offset, 255.0 * scale + offset
    return InputSpec(
        kind="image",
        name=name,
        shape=(height, width, channels),
        dtype="float32",
        value_range=(lo, hi),
        description=f"{height}x{width} {'RGB' if colour == 'rgb' else 'grayscale'} image, pixel 0 -> {lo:g}, pixel 255 -> {hi:g}",
        scaling=scaling,
        colour=colour,
        scale=scale,
        offset=offset,
    )


INPUT_SPECS: dict[str, InputSpec] = {
    "bitmap": InputSpec(
        kind="bitmap",
        name="image",
        shape=(SIDE, SIDE, 1),
        dtype="float32",
        value_range=(0.0, 255.0),
        description=f"{SIDE}x{SIDE} grayscale, 0 = background, 255 = ink",
        scaling="inside the model: x / 255",
    ),
    "strokes": InputSpec(
        kind="strokes",
        name="strokes",
        shape=(STEPS, CHANNELS),
        dtype="float32",
        value_range=(0.0, 255.0),
        description=f"the first {STEPS} points (x, y 0-255, stroke end 0/255, present 255), then zero rows",
        scaling="inside the model: x / 255; padded rows zeroed after every layer",
        colour="none",
    ),
}
"""The project's own sketch contracts. A model trained elsewhere carries its own (`image_contract`) in its record."""


def contract_of(data: dict[str, Any], where: str = "input") -> InputSpec:
    """The contract a manifest, train report or file's metadata records (older ones lack colour, scale and offset:
    the sketch contracts, whose defaults they are)."""
    return InputSpec.from_json(data, where)


@dataclass(frozen=True)
class Dataset:
    """Drawings of `labels`; `y[i]` indexes `labels`."""

    labels: tuple[str, ...]
    y: np.ndarray
    bitmaps: np.ndarray | None = None
    drawings: list[Drawing] | None = None
    description: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.bitmaps is None and self.drawings is not None:
            object.__setattr__(self, "bitmaps", rasterize_many(self.drawings))

    def __len__(self) -> int:
        return len(self.y)

    @property
    def pixels(self) -> np.ndarray:
        """The (N, 28, 28) bitmaps: given, or rasterized from the drawings when the dataset was made."""
        if self.bitmaps is None:
            raise DataError("a dataset without bitmaps")  # not reached: __post_init__ rasterizes the drawings
        return self.bitmaps

    @property
    def kinds(self) -> tuple[str, ...]:
        return ("bitmap", "strokes") if self.drawings is not None else ("bitmap",)

    def counts(self) -> dict[str, int]:
        return {name: int((self.y == i).sum()) for i, name in enumerate(self.labels)}

    def features(self, kind: str) -> np.ndarray:
        """The model input for every drawing: (N, 28, 28, 1) uint8 bitmaps or (N, STEPS, 4) float32 point sequences."""
        if kind not in self.kinds:
            raise DataError(
                f"this data has no {kind!r} input (it has {', '.join(self.kinds)}); "
                f"{self.description.get('source', 'the source')} holds bitmaps only"
            )
        if kind == "strokes" and self.drawings is not None:
            return to_sequences(self.drawings)
        return self.pixels[..., None]

    def subset(self, index: np.ndarray) -> Dataset:
        return replace(
            self,
            y=self.y[index],
            bitmaps=self.pixels[index],
            drawings=[self.drawings[i] for i in index] if self.drawings is not None else None,
        )


@dataclass(frozen=True)
class Splits:
    train: Dataset
    val: Dataset
    test: Dataset
    index: dict[str, np.ndarray] = field(default_factory=dict)  # each split's positions in the source dataset

    def counts(self) -> dict[str, int]:
        return {"train": len(self.train), "val": len(self.val), "test": len(self.test)}


TRAIN, VAL, TEST = 0, 1, 2
BLOCK = 10
"""Each run of 10 consecutive positions of a class holds 8 training, 1 validation and 1 test drawing."""
EVAL_PER_CLASS = 1000
"""Validation and test keep at most this many drawings per class: they are held in memory by every worker and saved
for export and bench, so they must not grow with the source. Real subsets here have 2-400 per class."""


def assign(seed: int, label: str, positions: np.ndarray) -> np.ndarray:
    """TRAIN, VAL or TEST for each position of class `label`: a function of (seed, class name, position) only.

    Streamable (no need to see the other drawings), the same on every worker, unchanged by --classes or
    --per-class, and stratified exactly: which slot of each block of 10 is validation and which is test is drawn
    from a hash of (seed, class, block), so every class with 10 drawings or more has at least one of each."""
    positions = np.asarray(positions, dtype=np.uint64)
    key = np.frombuffer(hashlib.blake2b(f"{seed}\0{label}".encode(), digest_size=8).digest(), dtype=np.uint64)[0]
    h = _splitmix64(key ^ (positions // np.uint64(BLOCK)))
    test_slot = h % np.uint64(BLOCK)
    val_slot = (test_slot + np.uint64(1) + (h // np.uint64(BLOCK)) % np.uint64(BLOCK - 1)) % np.uint64(BLOCK)
    slot = positions % np.uint64(BLOCK)
    out = np.full(len(positions), TRAIN, dtype=np.int8)
    out[slot == val_slot] = VAL
    out[slot == test_slot] = TEST
    return out


def train_count(seed: int, label: str, size: int) -> int:
    """How many of the first `size` positions of class `label` are TRAIN: 8 in every full block of 10, and the
    last, partial block counted by `assign` (no pass over a million positions to count them)."""
    full = size // BLOCK * BLOCK
    return full // BLOCK * (BLOCK - 2) + int((assign(seed, label, np.arange(full, size)) == TRAIN).sum())


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """A well-mixed 64-bit hash of each value (Steele et al.'s SplitMix64 finaliser); uint64 arithmetic wraps."""
    x = (x + np.uint64(0x9E3779B97F4A7C15)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def split(data: Dataset, seed: int = 0, eval_per_class: int = EVAL_PER_CLASS) -> Splits:
    """The split training streams, on a dataset in memory: a drawing's position is its rank in its class."""
    parts: dict[str, list[np.ndarray]] = {"train": [], "val": [], "test": []}
    for label, name in enumerate(data.labels):
        idx = np.flatnonzero(data.y == label)
        part = assign(seed, name, np.arange(len(idx)))
        chosen = {"train": idx[part == TRAIN], "val": idx[part == VAL][:eval_per_class], "test": idx[part == TEST][:eval_per_class]}
        if any(len(v) == 0 for v in chosen.values()):
            raise DataError(f"class {name!r} has {len(idx)} drawings: too few to split into train, validation and test")
        for key, value in chosen.items():
            parts[key].append(value)
    index = {k: np.sort(np.concatenate(v)) for k, v in parts.items()}
    return Splits(**{k: data.subset(i) for k, i in index.items()}, index=index)
