"""What `sketch-edge bench` will run: the cells (every artifact in every runtime asked for that runs its format),
and a row for each one that cannot run, with why. Reads the manifest and checks the files; starts no process."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from sketch_edge.bench.results import Row
from sketch_edge.errors import BenchError, unknown_name
from sketch_edge.export.recipes import RECIPES
from sketch_edge.fileio import sha256_file
from sketch_edge.formats import FORMATS
from sketch_edge.isolation import cpu_count
from sketch_edge.layout import Layout
from sketch_edge.manifest import Manifest, resolve
from sketch_edge.runtime import RUNTIMES, runtimes_for
from sketch_edge.runtime.base import fixed_batch


@dataclass(frozen=True)
class BenchConfig:
    artifacts: Path  # holds model.keras, split.npz and export/
    recipes: tuple[str, ...] = ()  # empty: every ok artifact
    runtimes: tuple[str, ...] = tuple(RUNTIMES)
    threads: tuple[int, ...] = ()  # with `batches`, every combination is benched; both empty (and not `full`): see grid()
    batches: tuple[int, ...] = ()
    duration_s: float = 1.0  # timed seconds per cell, after half as many of warm-up
    full: bool = False  # 1 thread and all cores, each at batch 1 and 64
    quick: bool = False
    max_top1_drop: float = 0.01  # below Keras top-1 by more than this: "low-accuracy"
    timeout_s: float = 180.0
    repeat: int = 1  # timing rounds per cell, each in a fresh process, interleaved across cells
    pin: bool = False  # single-thread cells (and peaks) on one core
    profile: bool = True  # per-op profile of the cells whose runtime has a profiler

    @property
    def layout(self) -> Layout:
        return Layout(self.artifacts)

    def grid(self) -> list[tuple[int, int]]:
        """(threads, batch) of every cell. By default the two a deployment asks about: batch-1 latency on one thread,
        batch-64 throughput on all cores; `full`, or any --threads/--batch, every combination."""
        if not (self.threads or self.batches or self.full):
            return [(1, 1), (cpu_count(), 64)]
        return [(t, b) for t in (self.threads or tuple(sorted({1, cpu_count()}))) for b in (self.batches or (1, 64))]


@dataclass(frozen=True)
class Cell:
    recipe: str
    format: str
    precision: str
    compute: str
    runtime: str
    threads: int
    batch: int
    path: Path
    bytes: int

    @property
    def key(self) -> str:
        return f"{self.recipe}/{self.runtime}/t{self.threads}/b{self.batch}"


def plan(config: BenchConfig, manifest: Manifest) -> tuple[list[Cell], list[Row]]:
    """The cells to run: every artifact in every runtime asked for that runs its format; and rows for what cannot run,
    each with its reason: `failed` (a failed export, a missing or changed file), `skipped` (the runtime is not installed,
    or its recipe's files are known not to load there)."""
    for name in config.runtimes:
        if name not in RUNTIMES:
            raise BenchError(unknown_name("runtime", name, RUNTIMES))
    layout = config.layout
    entries: list[tuple[str, str, str, str, Path, str, str | None, str]]
    keras = ("keras", "keras", "fp32", "fp32", layout.model, "ok", None, manifest.source.sha256)
    entries = [keras] if manifest.source.has_keras else []  # files made elsewhere have a reference file, no Keras model
    entries += [
        (a.name, a.format, a.precision, a.compute, resolve(layout.export, a), a.status, a.error, a.sha256)
        for a in manifest.artifacts
        if FORMATS[a.format].runs_in_runtime
    ]
    known = {e[0] for e in entries}
    for name in config.recipes:
        if name not in known:
            raise BenchError(unknown_name("recipe", name, known))
    grid = config.grid()
    fixed = {a.name: fixed_batch(a.inputs[0]) for a in manifest.artifacts if a.inputs}
    cells: list[Cell] = []
    refused: list[Row] = []
    for name, fmt, precision, compute, path, status, error, sha256 in entries:
        if config.recipes and name not in config.recipes:
            continue
        for spec in RUNTIMES.values():
            if spec.name in config.runtimes and fmt in spec.refuses:
                refused.append(
                    Row(name, fmt, precision, compute, spec.name, key=f"{name}/{spec.name}", status="skipped", error=spec.refuses[fmt])
                )
        runtimes = [spec for spec in runtimes_for(path) if spec.name in config.runtimes]
        if not runtimes:
            continue
        batch = fixed.get(name)
        runs = [(t, b) for t, b in grid if batch is None or b == batch]
        if status != "ok":
            problem = f"not benched: the export failed ({error})"
        elif not path.is_file():
            problem = f"{path}: file missing"
        elif sha256_file(path) != sha256:
            problem = f"{path}: sha256 differs from the manifest; refusing to bench a changed file"
        else:
            problem = None
        for spec in runtimes:
            base = Row(name, fmt, precision, compute, spec.name, key=f"{name}/{spec.name}", status="skipped")
            missing = spec.missing()
            cannot = RECIPES[name].cannot_run_on.get(spec.name) if name in RECIPES else None
            if cannot is not None:  # known not to load there: not a cell, and no failure
                refused.append(replace(base, error=cannot))
            elif problem is not None:
                refused.append(replace(base, status="failed", error=problem))
            elif missing is not None:
                refused.append(replace(base, error=missing))
            elif not runs:
                asked = ", ".join(str(b) for b in sorted({b for _, b in grid}))
                refused.append(replace(base, error=f"its batch is fixed to {batch} (a mobile file); the batches asked for are {asked}"))
            else:
                size = path.stat().st_size
                cells += [Cell(name, fmt, precision, compute, spec.name, t, b, path, size) for t, b in runs]
    return cells, refused


def row_of(cell: Cell) -> Row:
    return Row(cell.recipe, cell.format, cell.precision, cell.compute, cell.runtime, cell.key, cell.threads, cell.batch, bytes=cell.bytes)
