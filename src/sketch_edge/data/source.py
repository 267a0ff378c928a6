"""A data source read as a stream: shards (files) of chunks, never the whole source in memory.

Every source (synthetic, a local folder, TFDS) is a list of shards, the unit that
training workers divide between them, and a reader that yields a shard's drawings
in its own order, in chunks. Each drawing has a *position*: its rank among the
drawings of its class in its shard. The split (`dataset.assign`) is a function of
the seed, the class and the position, so training can stream its part without
loading the rest, and every worker and every stage sees the same split.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sketch_edge.data.dataset import Dataset
from sketch_edge.data.drawing import Drawing
from sketch_edge.data.raster import rasterize_many
from sketch_edge.data.sequence import to_sequences
from sketch_edge.errors import DataError

CHUNK = 256
"""Drawings per chunk: large enough that numpy and tf.data amortise their per-call costs, small enough to bound memory."""

Want = Callable[[int, np.ndarray], np.ndarray]
"""(label, positions) -> a boolean mask of the positions to read: the reader skips the decoding of the others."""


def everything(label: int, positions: np.ndarray) -> np.ndarray:
    return np.ones(len(positions), dtype=bool)


@dataclass(frozen=True)
class Chunk:
    """Consecutive drawings of one shard: bitmaps (bitmap-only sources) or drawings, with labels and positions."""

    labels: np.ndarray  # (n,) int32
    positions: np.ndarray  # (n,) int64
    bitmaps: np.ndarray | None = None  # (n, 28, 28) uint8
    drawings: list[Drawing] | None = None

    def __len__(self) -> int:
        return len(self.labels)

    def features(self, kind: str) -> np.ndarray:
        """The model input of every drawing: (n, 28, 28, 1) uint8 bitmaps or (n, STEPS, 4) float32 point rows."""
        if kind == "bitmap":
            bitmaps = self.bitmaps if self.bitmaps is not None else rasterize_many(self.drawings or [])
            return bitmaps.reshape(-1, *bitmaps.shape[1:3], 1)
        return to_sequences(self.drawings or [])


@dataclass(frozen=True)
class Shard:
    """One file of a source (or one generated class): what a worker reads whole, and what a change is checked on."""

    name: str  # the file (or class) named in messages
    label: int | None  # the class it holds; None when its drawings are of every class (TFDS)
    size: int  # drawings it holds after --per-class; for ndjson the line count, an upper bound
    path: Path | None = None
    stamp: tuple[int, int] | None = None  # (bytes, mtime ns) when the source was opened

    def check_unchanged(self) -> None:
        """Refuse a file that changed since the source was opened: the split and the counts would no longer hold."""
        if self.path is None or self.stamp is None:
            return
        try:
            info = os.stat(self.path)
        except OSError:
            raise DataError(f"{self.path}: disappeared during training") from None
        if (info.st_size, info.st_mtime_ns) != self.stamp:
            raise DataError(f"{self.path}: changed during training (size or modification time); restart on a stable copy")


def file_shard(path: Path, label: int, size: int) -> Shard:
    info = os.stat(path)
    return Shard(name=str(path), label=label, size=size, path=path, stamp=(info.st_size, info.st_mtime_ns))


@dataclass(frozen=True)
class Source:
    labels: tuple[str, ...]
    kinds: tuple[str, ...]  # ("bitmap", "strokes") for drawings, ("bitmap",) for bitmap-only sources
    shards: tuple[Shard, ...]
    read: Callable[[Shard, Want], Iterator[Chunk]]
    description: dict[str, Any] = field(default_factory=dict)
    skipped: Counter[str] = field(default_factory=Counter)  # lines skipped so far, by reason (readers add to it)

    def check_kind(self, kind: str) -> None:
        if kind not in self.kinds:
            raise DataError(
                f"this data has no {kind!r} input (it has {', '.join(self.kinds)}); "
                f"{self.description.get('source', 'the source')} holds bitmaps only"
            )

    def worker_shards(self, worker: int, workers: int) -> tuple[Shard, ...]:
        """The files worker `worker` of `workers` reads: every workers-th one, so each file is read by one worker."""
        if len(self.shards) < workers:
            raise DataError(
                f"{self.description.get('source')}: {len(self.shards)} file(s) for {workers} workers; "
                "each worker reads its own files, so use at most as many workers as files"
            )
        return self.shards[worker::workers]

    def chunks(self, shards: tuple[Shard, ...] | None = None, want: Want = everything) -> Iterator[Chunk]:
        for shard in self.shards if shards is None else shards:
            shard.check_unchanged()
            yield from self.read(shard, want)

    def load(self) -> Dataset:
        """Everything, in memory: for summaries and small sources (training streams instead)."""
        chunks = [c for c in self.chunks() if len(c)]
        labels = np.concatenate([c.labels for c in chunks]) if chunks else np.zeros(0, np.int32)
        for label, name in enumerate(self.labels):
            if not (labels == label).any():
                where = next((s.name for s in self.shards if s.label == label), self.description.get("source"))
                raise DataError(f"{where}: no drawings left for class {name!r} (empty class)")
        has_drawings = "strokes" in self.kinds
        return Dataset(
            labels=self.labels,
            y=labels.astype(np.int32),
            bitmaps=None if has_drawings else np.concatenate([c.bitmaps for c in chunks]),
            drawings=[d for c in chunks for d in c.drawings or ()] if has_drawings else None,
            description={**self.description, "skipped": dict(self.skipped)},
        )
