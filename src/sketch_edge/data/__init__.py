"""Data layer: every source becomes one in-memory `Dataset`, split the same way.

Sources (`--data`): `synthetic` (built-in doodles, the default), a local folder in
the official QuickDraw formats, or `tfds:quickdraw_bitmap`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sketch_edge.data import synthetic
from sketch_edge.data.dataset import INPUT_SPECS, Dataset, InputSpec, Splits, split
from sketch_edge.data.local import load_folder
from sketch_edge.data.tfds_source import load_tfds
from sketch_edge.errors import DataError, unknown_name

DEFAULT_SOURCE = "synthetic"
SYNTHETIC_PER_CLASS = 500

__all__ = ["INPUT_SPECS", "DataRequest", "Dataset", "InputSpec", "Splits", "load_source", "split"]


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

    def load(self) -> Dataset:
        options = asdict(self)
        source = options.pop("source")
        options["classes"] = list(self.classes) if self.classes else None
        return load_source(source, **options)

    def to_json(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DataRequest:
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


def load_source(
    spec: str = DEFAULT_SOURCE,
    *,
    classes: list[str] | None = None,
    per_class: int | None = None,
    recognized_only: bool = False,
    skip_bad_lines: bool = False,
    seed: int = 0,
    tfds_data_dir: str | None = None,
    tfds_download: bool = False,
) -> Dataset:
    """Load a data source by its `--data` spelling."""
    if per_class is not None and per_class < 3:
        raise DataError(f"--per-class must be at least 3 (one drawing each for train, validation and test), got {per_class}")
    if spec == "synthetic":
        return _load_synthetic(classes, per_class or SYNTHETIC_PER_CLASS, seed)
    if spec.startswith("tfds:"):
        return load_tfds(spec[5:], classes=classes, per_class=per_class, data_dir=tfds_data_dir, download=tfds_download)
    path = Path(spec).expanduser()
    if not path.exists():
        raise DataError(f"{spec}: unknown data source: not 'synthetic', not 'tfds:quickdraw_bitmap', and no such folder")
    return load_folder(path, classes=classes, per_class=per_class, recognized_only=recognized_only, skip_bad_lines=skip_bad_lines)


def _load_synthetic(classes: list[str] | None, per_class: int, seed: int) -> Dataset:
    for name in classes or ():
        if name not in synthetic.CLASSES:
            raise DataError(f"synthetic: {unknown_name('class', name, synthetic.CLASSES)}")
    chosen = tuple(classes) if classes else synthetic.CLASSES
    drawings, y = synthetic.generate(chosen, per_class=per_class, seed=seed)
    return Dataset(
        labels=chosen,
        y=y,
        drawings=drawings,
        description={"source": "synthetic", "format": "simplified strokes (generated)", "seed": seed, "skipped": {}},
    )
