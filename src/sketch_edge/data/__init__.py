"""Data layer: every source is a stream of shards (`Source`), split by position the same way everywhere.

Sources (`--data`): `synthetic` (built-in doodles, the default), a local folder in
the official QuickDraw formats, or `tfds:quickdraw_bitmap`. Training streams them;
`Source.load()` gives a whole (small) source in memory as a `Dataset`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sketch_edge.data import synthetic
from sketch_edge.data.dataset import EVAL_PER_CLASS, INPUT_SPECS, Dataset, InputSpec, Splits, split
from sketch_edge.data.local import open_folder
from sketch_edge.data.source import CHUNK, Chunk, Shard, Source, Want
from sketch_edge.data.tfds_source import open_tfds
from sketch_edge.errors import DataError, unknown_name

DEFAULT_SOURCE = "synthetic"
SYNTHETIC_PER_CLASS = 500

__all__ = [
    "EVAL_PER_CLASS",
    "attribution",
    "INPUT_SPECS",
    "DataRequest",
    "Dataset",
    "InputSpec",
    "Source",
    "Splits",
    "load_source",
    "open_source",
    "split",
]


@dataclass(frozen=True)
class DataRequest:
    """Everything that picks the drawings: the `--data` source and its options."""

    source: str = DEFAULT_SOURCE
    classes: tuple[str, ...] | None = None
    per_class: int | None = None
    recognized_only: bool = False
    skip_bad_lines: bool = False
    seed: int = 0
    tfds_data_dir: str | None = None
    tfds_download: bool = False
    eval_per_class: int = EVAL_PER_CLASS

    def open(self) -> Source:
        options = asdict(self)
        source = options.pop("source")
        options.pop("eval_per_class")  # how the split is cut, not what is read
        options["classes"] = list(self.classes) if self.classes else None
        return open_source(source, **options)

    def load(self) -> Dataset:
        return self.open().load()

    def to_json(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DataRequest:
        fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**fields)


QUICKDRAW_ATTRIBUTION = (
    "Trained on Quick, Draw! drawings by Google, Inc. (https://quickdraw.withgoogle.com/data), licensed under CC BY 4.0."
)
SYNTHETIC_ATTRIBUTION = "Trained on synthetic doodles sketch-edge generates: no third-party data."


USER_DATA_ATTRIBUTION = "Model and data: the user's own (trained elsewhere); sketch-edge records no licence for them."


def attribution(request: dict[str, Any]) -> str:
    """The credit a model trained on this data request carries (in its files' metadata): Quick, Draw! is CC BY 4.0."""
    source = request.get("source", DEFAULT_SOURCE)
    if source == "images":  # a model trained elsewhere, checked on the user's own images: their licence is theirs to say
        return USER_DATA_ATTRIBUTION
    return SYNTHETIC_ATTRIBUTION if source == "synthetic" else QUICKDRAW_ATTRIBUTION


def load_source(spec: str = DEFAULT_SOURCE, **options: Any) -> Dataset:
    """A whole source in memory (see `open_source`)."""
    return open_source(spec, **options).load()


def open_source(
    spec: str = DEFAULT_SOURCE,
    *,
    classes: list[str] | None = None,
    per_class: int | None = None,
    recognized_only: bool = False,
    skip_bad_lines: bool = False,
    seed: int = 0,
    tfds_data_dir: str | None = None,
    tfds_download: bool = False,
) -> Source:
    """Open a data source by its `--data` spelling: checks it and counts its drawings, reads none yet."""
    if per_class is not None and per_class < 3:
        raise DataError(f"--per-class must be at least 3 (one drawing each for train, validation and test), got {per_class}")
    if spec == "synthetic":
        return _open_synthetic(classes, per_class or SYNTHETIC_PER_CLASS, seed)
    if spec.startswith("tfds:"):
        return open_tfds(spec[5:], classes=classes, per_class=per_class, data_dir=tfds_data_dir, download=tfds_download)
    path = Path(spec).expanduser()
    if not path.exists():
        raise DataError(f"{spec}: unknown data source: not 'synthetic', not 'tfds:quickdraw_bitmap', and no such folder")
    return open_folder(path, classes=classes, per_class=per_class, recognized_only=recognized_only, skip_bad_lines=skip_bad_lines)


def _open_synthetic(classes: list[str] | None, per_class: int, seed: int) -> Source:
    for name in classes or ():
        if name not in synthetic.CLASSES:
            raise DataError(f"synthetic: {unknown_name('class', name, synthetic.CLASSES)}")
    chosen = tuple(classes) if classes else synthetic.CLASSES

    def read(shard: Shard, want: Want) -> Iterator[Chunk]:
        assert shard.label is not None
        for start in range(0, per_class, CHUNK):
            positions = np.arange(start, min(per_class, start + CHUNK))
            positions = positions[want(shard.label, positions)]  # only the wanted drawings are generated
            drawings = [synthetic.draw(shard.name, seed, int(p)) for p in positions]
            yield Chunk(labels=np.full(len(positions), shard.label, np.int32), positions=positions, drawings=drawings)

    return Source(
        labels=chosen,
        kinds=("bitmap", "strokes"),
        shards=tuple(Shard(name=name, label=label, size=per_class) for label, name in enumerate(chosen)),
        read=read,
        description={"source": "synthetic", "format": "simplified strokes (generated)", "seed": seed},
    )
