"""What `sketch-edge bench` will run: the cells (every artifact in every runtime asked for that runs its format),
and a row for each one that cannot run, with why. Reads the manifest and checks the files; starts no process."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sketch_edge.bench.results import Row
from sketch_edge.errors import BenchError, unknown_name
from sketch_edge.export.recipes import RECIPES
from sketch_edge.fileio import sha256_file
from sketch_edge.formats import FORMATS, SOURCE
from sketch_edge.isolation import cpu_count
from sketch_edge.layout import Layout
from sketch_edge.manifest import Manifest, resolve
from sketch_edge.runtime import REFERENCE, RUNTIMES, runtimes_for
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
    deny_amx: bool = False  # also each batch-1 one-thread cell with AMX denied to its process (bench.plan.amx_twins)

    @property
    def layout(self) -> Layout:
        return Layout(self.artifacts)

    def grid(self) -> list[tuple[int, int]]:
        """(threads, batch) of every cell. By default the two a deployment asks about: batch-1 latency on one thread,
        batch-64 throughput on all cores; `full`, or any --threads/--batch, every combination."""
        if not (self.threads or self.batches or self.full):
            return [(1, 1), (cpu_count(), 64)]
        return [(t, b) for t in (self.threads or tuple(sorted({1, cpu_count()}))) for b in (self.batches or (1, 64))]


AMX_DENIED_KEY = "/no-amx"


@dataclass(frozen=True, kw_only=True)
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
    deny_amx: bool = False  # run with AMX denied to the cell's process (sketch_edge.amx), beside the cell with it

    @property
    def key(self) -> str:
        return f"{self.recipe}/{self.runtime}/t{self.threads}/b{self.batch}" + (AMX_DENIED_KEY if self.deny_amx else "")


@dataclass(frozen=True, kw_only=True)
class Entry:
    """A file the bench may run: the Keras model or an artifact, as the manifest lists it."""

    name: str
    format: str
    precision: str
    compute: str
    path: Path
    status: str
    error: str | None
    sha256: str

    def row(self, runtime: str, **fields: Any) -> Row:
        return Row(self.name, self.format, self.precision, self.compute, runtime, key=f"{self.name}/{runtime}", **fields)


def entries(manifest: Manifest, layout: Layout) -> list[Entry]:
    """The Keras model (none for files made elsewhere: a reference file stands for it) and every artifact a runtime opens."""
    keras = Entry(
        name=SOURCE.name,
        format=SOURCE.name,
        precision="fp32",
        compute="fp32",
        path=layout.model,
        status="ok",
        error=None,
        sha256=manifest.source.sha256,
    )
    found = [keras] if manifest.source.has_keras else []
    return found + [
        Entry(
            name=a.name,
            format=a.format,
            precision=a.precision,
            compute=a.compute,
            path=resolve(layout.export, a),
            status=a.status,
            error=a.error,
            sha256=a.sha256,
        )
        for a in manifest.artifacts
        if FORMATS[a.format].runs_in_runtime
    ]


def file_problem(entry: Entry) -> str | None:
    """Why the entry's file must not be benched: a failed export, a missing file, or one changed since export."""
    if entry.status != "ok":
        return f"not benched: the export failed ({entry.error})"
    if not entry.path.is_file():
        return f"{entry.path}: file missing"
    if sha256_file(entry.path) != entry.sha256:
        return f"{entry.path}: sha256 differs from the manifest; refusing to bench a changed file"
    return None


def plan(config: BenchConfig, manifest: Manifest) -> tuple[list[Cell], list[Row]]:
    """The cells to run: every artifact in every runtime asked for that runs its format; and rows for what cannot run,
    each with its reason: `failed` (a failed export, a missing or changed file), `skipped` (the runtime is not installed,
    or its recipe's files are known not to load there)."""
    for name in config.runtimes:
        if name not in RUNTIMES:
            raise BenchError(unknown_name("runtime", name, RUNTIMES))
    found = entries(manifest, config.layout)
    known = {e.name for e in found}
    for name in config.recipes:
        if name in RECIPES and name not in known:
            raise BenchError(
                f"{config.layout.manifest}: {name} was not exported here; make it with "
                f"`sketch-edge export --artifacts {config.layout.root} --recipes {name}` (this folder has {', '.join(sorted(known))})"
            )
        if name not in known:
            raise BenchError(unknown_name("recipe", name, known))
    fixed = {a.name: fixed_batch(a.inputs[0]) for a in manifest.artifacts if a.inputs}
    cells: list[Cell] = []
    refused: list[Row] = []
    for entry in found:
        if not config.recipes or entry.name in config.recipes:
            made, not_made = _entry_cells(config, entry, fixed.get(entry.name))
            cells += made
            refused += not_made
    return cells + (amx_twins(cells) if config.deny_amx else []), refused


def amx_twins(cells: list[Cell]) -> list[Cell]:
    """Each batch-1 one-thread cell again with AMX denied to its process, except the reference's (Keras is the bar,
    not a candidate): XNNPACK and oneDNN take AMX for layers too small to gain, so on a CPU with AMX both are measured
    and the answer names the faster. Only where the CPU has AMX (`sketch-edge bench` asks `amx.has_amx()`)."""
    return [replace(c, deny_amx=True) for c in cells if (c.threads, c.batch) == (1, 1) and c.runtime != REFERENCE.name]


def _entry_cells(config: BenchConfig, entry: Entry, batch: int | None) -> tuple[list[Cell], list[Row]]:
    """One entry's cells in each runtime asked for, or the rows saying why it does not run there."""
    refused = [
        entry.row(spec.name, status="skipped", error=spec.refuses[entry.format])
        for spec in RUNTIMES.values()
        if spec.name in config.runtimes and entry.format in spec.refuses
    ]
    runtimes = [spec for spec in runtimes_for(entry.path) if spec.name in config.runtimes]
    if not runtimes:
        return [], refused
    grid = config.grid()
    runs = [(t, b) for t, b in grid if batch is None or b == batch]
    problem = file_problem(entry)
    cells: list[Cell] = []
    for spec in runtimes:
        base = entry.row(spec.name, status="skipped")
        missing = spec.missing()
        cannot = RECIPES[entry.name].cannot_run_on.get(spec.name) if entry.name in RECIPES else None
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
            size = entry.path.stat().st_size
            cells += [
                Cell(
                    recipe=entry.name,
                    format=entry.format,
                    precision=entry.precision,
                    compute=entry.compute,
                    runtime=spec.name,
                    threads=t,
                    batch=b,
                    path=entry.path,
                    bytes=size,
                )
                for t, b in runs
            ]
    return cells, refused


def row_of(cell: Cell) -> Row:
    return Row(
        cell.recipe,
        cell.format,
        cell.precision,
        cell.compute,
        cell.runtime,
        cell.key,
        cell.threads,
        cell.batch,
        bytes=cell.bytes,
        amx_denied=cell.deny_amx,
    )
