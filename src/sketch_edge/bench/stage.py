"""`sketch-edge bench`: plan cells from the manifest, run each in a subprocess, derive accuracy and cost.

Every cell is measured on the test split saved at train time (`split.npz`) and
compared with Keras's probabilities on the same drawings (`export/reference.npz`),
so the accuracy columns and the `low-accuracy` floor always speak of one set of
drawings, whichever runtimes and `--quick` subset are benched.
"""

from __future__ import annotations

import shutil
import statistics
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from sketch_edge import fileio
from sketch_edge.bench import noise
from sketch_edge.bench.machine import environment
from sketch_edge.bench.peak import KERNELS, Kernel, PeakJob, PeakTimings, kernels_for, machine_peaks
from sketch_edge.bench.results import BenchSource, KernelTiming, Mobile, Peak, Quantization, Results, Row, Settings
from sketch_edge.bench.worker import CellJob, CellMeasurement
from sketch_edge.data.dataset import contract_of
from sketch_edge.data.saved_split import SavedSplit
from sketch_edge.errors import BenchError, DataError, unknown_name
from sketch_edge.export.recipes import CLIENTS, RECIPES
from sketch_edge.export.verify import beyond_noise, changes
from sketch_edge.fileio import sha256_file
from sketch_edge.formats import FORMATS
from sketch_edge.isolation import cpu_affinity, cpu_count, run_job
from sketch_edge.layout import Layout
from sketch_edge.manifest import Manifest, resolve
from sketch_edge.metrics import topk_accuracy
from sketch_edge.records import field_names
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


def load_test(layout: Layout, manifest: Manifest) -> tuple[SavedSplit, np.ndarray]:
    """The saved test split and Keras's probabilities on it, both checked against the manifest."""
    if not layout.split.is_file() or sha256_file(layout.split) != manifest.source.split_sha256:
        raise BenchError(f"{layout.split}: missing or not the split the artifacts were exported from (run `make export`)")
    saved = SavedSplit.load(layout.split)
    try:
        problem = fileio.archive_problem(layout.reference)
        if problem is not None:
            raise BenchError(f"{layout.reference}: {problem}")
        with np.load(layout.reference, allow_pickle=False) as archive:
            reference, model_sha = archive["test"], str(archive["model_sha256"])
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as exc:
        raise BenchError(f"{layout.reference}: Keras's reference outputs are missing or unreadable ({exc}); run `make export`") from None
    if model_sha != manifest.source.sha256 or reference.shape != (len(saved.test_y), len(manifest.source.labels)):
        raise BenchError(f"{layout.reference}: not the outputs of this model on this split (run `make export`)")
    if reference.dtype.kind != "f" or not np.isfinite(reference).all():
        raise BenchError(f"{layout.reference}: Keras's outputs are not all finite numbers (run `make export`)")
    return saved, reference


def run(config: BenchConfig) -> tuple[Results, dict[str, np.ndarray]]:
    """Bench every planned cell: the results, and every cell's timed latencies (for the plots; not in results.json)."""
    layout = config.layout
    manifest = Manifest.load(layout.manifest)
    cells, refused = plan(config, manifest)
    try:
        saved, reference = load_test(layout, manifest)
    except DataError as exc:
        raise BenchError(str(exc)) from None
    x, y = contract_of(manifest.source.input).model_input(saved.test_x), saved.test_y
    if config.quick:
        x, y, reference = x[::10], y[::10], reference[::10]
    pin_core = max(cpu_affinity()) if config.pin else None

    scratch = fileio.scratch_dir(layout.bench, ".cells-", BenchError)
    profiles = layout.bench / "profiles"
    try:
        arrays = scratch / "test.npz"
        np.savez(arrays, test=x)
        kernels = _build_peaks(config, cells, scratch)
        groups = {(k.runtime, t) for k in kernels for t in {c.threads for c in cells}}
        measured = _time_peaks(config, kernels, groups, scratch, pin_core, round_=0)
        rows, probs, latencies = _measure_cells(cells, config, arrays, scratch, pin_core)
        timed = [replace(row, **accuracy(probs[row.key], y, reference, manifest.source.labels)) for row in rows if row.key in probs]
        timed, peaks = _costs(timed, measured, manifest.source.macs)
        again = peaks_to_remeasure(timed, measured)
        if again:  # measured again after the cells, and the faster of the two kept
            measured += _time_peaks(config, kernels, again, scratch, pin_core, round_=1)
            timed, peaks = _costs(timed, measured, manifest.source.macs)
        peaks = mark_beaten(timed, peaks)
        profiled = _collect_profiles(scratch, profiles, cells)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    keras_top1 = topk_accuracy(reference, y, 1)
    by_key = {row.key: _judged(row, probs[row.key], reference, y, keras_top1, config.max_top1_drop) for row in timed}
    results = mark_pareto([by_key.get(row.key, row) for row in rows] + refused)
    source = BenchSource(
        model=manifest.source.model,
        input_kind=manifest.source.input["kind"],
        sha256=manifest.source.sha256,
        labels=manifest.source.labels,
        macs=manifest.source.macs,
        keras_test_top1=keras_top1,
        split=str(layout.split),
        split_sha256=manifest.source.split_sha256,
        test_drawings=saved.test_drawings(),
        reference=manifest.source.reference,
    )
    quantization = {a.name: Quantization(a.details.sensitivity, a.details.fallback) for a in manifest.artifacts if a.details.sensitivity}
    bench = Results(
        environment=environment(libraries(cells, kernels)),
        source=source,
        settings=Settings(quick=config.quick, repeat=config.repeat, pin_core=pin_core, duration_s=config.duration_s),
        test_samples=int(len(y)),
        noisy_above=noise.NOISY_ABOVE,
        results=tuple(results),
        peaks=peaks,
        peak_kernels=tuple(measured),
        quantization=quantization,
        mobile=mobile_records(manifest),
        arm={a.name: a.details.arm for a in manifest.artifacts if a.details.arm},
        profiles=profiled,
    )
    return bench, latencies


def mobile_records(manifest: Manifest) -> dict[str, Mobile]:
    """The mobile recipes' artifacts as the export checked them; an .ort file shows its twin's provider coverage."""
    found = {}
    for a in manifest.artifacts:
        recipe = RECIPES.get(a.name)
        if recipe is None or recipe.client is None:
            continue
        twin = manifest.artifact(a.details.twin.twin) if a.details.twin else None
        providers = a.details.providers or (twin.details.providers if twin else ())
        found[a.name] = Mobile(CLIENTS[recipe.client].description, a.details.client, providers, a.details.twin)
    return found


def _judged(row: Row, probs: np.ndarray, reference: np.ndarray, y: np.ndarray, keras_top1: float, max_drop: float) -> Row:
    """As the export's gate: a drop counts when it is beyond chance on these drawings."""
    lost, gained = changes(reference.argmax(axis=1), probs.argmax(axis=1), y)
    if row.top1 is not None and row.top1 < keras_top1 - max_drop and beyond_noise(lost, gained):
        return replace(row, status="low-accuracy")
    return row


def _measure_cells(
    cells: list[Cell], config: BenchConfig, arrays: Path, scratch: Path, pin_core: int | None
) -> tuple[list[Row], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Rows, test-split probabilities and latencies per cell key. With --repeat, rounds are interleaved across
    cells (a slow drift of the machine hits every cell alike); a cell failing in any round is a failed row."""
    rows = {c.key: _row(c) for c in cells}
    probs: dict[str, np.ndarray] = {}
    rounds: dict[str, list[np.ndarray]] = {}
    for round_ in range(config.repeat):
        for cell in cells:
            if rows[cell.key].status == "failed":
                continue
            measured = _run_cell(cell, config, arrays, scratch, round_, pin_core)
            if isinstance(measured, str):
                rows[cell.key] = replace(rows[cell.key], status="failed", error=measured)
                probs.pop(cell.key, None)
                rounds.pop(cell.key, None)
                continue
            result, p, lat = measured
            row = rows[cell.key]
            if round_ == 0:  # the cost columns the cell's process measured (other_cpu: the busiest round, below)
                row = replace(row, **{k: getattr(result, k) for k in field_names(CellMeasurement) if k != "other_cpu"})
                if p is not None:
                    probs[cell.key] = p
            other = _busiest(row.other_cpu, result.other_cpu)
            rows[cell.key] = replace(row, other_cpu=other, noisy=noise.is_noisy(other))
            rounds.setdefault(cell.key, []).append(lat)
    for key, timed in rounds.items():
        rows[key] = _summarize_rounds(rows[key], timed)
    return list(rows.values()), probs, {key: np.concatenate(timed) for key, timed in rounds.items()}


def _build_peaks(config: BenchConfig, cells: list[Cell], scratch: Path) -> list[Kernel]:
    """Build the GEMM model of every kernel that bounds a benched compute kind (in every runtime: the machine's peak)."""
    kernels = kernels_for({c.compute for c in cells}, {k.runtime for k in KERNELS})
    if not kernels:
        return []
    folder = scratch / "peaks"
    folder.mkdir()
    job = PeakJob("build", str(folder), tuple(k.name for k in kernels), result=str(scratch / "peak-build.result.json"))
    reason = run_job("sketch_edge.bench.peak", scratch / "peak-build.job.json", job, config.timeout_s)
    if reason is not None:
        raise BenchError(f"cannot build the peak GEMM models: {reason}")
    return kernels


def _time_peaks(
    config: BenchConfig, kernels: list[Kernel], groups: set[tuple[str, int]], scratch: Path, pin_core: int | None, round_: int
) -> list[KernelTiming]:
    """Time the kernels of each (runtime, threads) group in a fresh process; one entry per kernel, its `round` with it."""
    measured = []
    for runtime, threads in sorted(groups):
        names = tuple(k.name for k in kernels if k.runtime == runtime)
        stem = scratch / f"peak-{runtime}-t{threads}-r{round_}"
        job = PeakJob(
            "measure",
            str(scratch / "peaks"),
            names,
            result=f"{stem}.result.json",
            threads=threads,
            seconds=0.3 if config.quick else 0.5,
            pin_core=pin_core if threads == 1 else None,
        )
        reason = run_job("sketch_edge.bench.peak", Path(f"{stem}.job.json"), job, config.timeout_s)
        if reason is not None:
            entries = [KernelTiming(n, runtime, threads, error=reason) for n in names]
        else:
            entries = list(PeakTimings.load(Path(job.result)).measured)
        measured += [replace(e, round=round_, noisy=noise.is_noisy(e.other_cpu)) for e in entries]
    return measured


def peaks_to_remeasure(rows: list[Row], measured: list[KernelTiming]) -> set[tuple[str, int]]:
    """The (runtime, threads) groups whose peaks are in doubt: a kernel timed while the machine was busy, or a
    cell faster than the peak that bounds it (the peak was slowed, so it is not the ceiling it claims to be)."""
    doubtful = {(m.runtime, m.threads) for m in measured if m.noisy}
    by_name = {m.kernel: m.runtime for m in measured}
    doubtful |= {(by_name[r.peak_kernel], r.threads or 1) for r in rows if (r.peak_fraction or 0) > 1 and r.peak_kernel in by_name}
    return doubtful


def mark_beaten(rows: list[Row], peaks: dict[str, dict[str, Peak]]) -> dict[str, dict[str, Peak]]:
    """Name, on its peak, every cell still faster than it after the second timing: that kernel is then not the
    ceiling of its kind on this CPU (on an AVX2 EPYC, OpenVINO's int8 convolutions beat ONNX Runtime's MatMulInteger)."""
    marked = {threads: dict(kinds) for threads, kinds in peaks.items()}
    for row in rows:
        if (row.peak_fraction or 0) > 1:
            peak = marked[str(row.threads)][row.compute]
            marked[str(row.threads)][row.compute] = replace(peak, beaten_by=(*peak.beaten_by, row.key))
    return marked


def _costs(rows: list[Row], measured: list[KernelTiming], macs: int | None) -> tuple[list[Row], dict[str, dict[str, Peak]]]:
    """The machine's peaks from every kernel timing so far, and each row with its throughput and fraction of its peak."""
    peaks = machine_peaks(measured)
    return [replace(row, **cost(row, macs, peaks.get(str(row.threads), {}))) for row in rows], peaks


def _run_cell(
    cell: Cell, config: BenchConfig, arrays: Path, scratch: Path, round_: int, pin_core: int | None
) -> str | tuple[CellMeasurement, np.ndarray | None, np.ndarray]:
    """The cell's measurement, probabilities (first round) and latencies; or why its process failed."""
    stem = scratch / f"{cell.key.replace('/', '_')}.r{round_}"
    job = CellJob(
        path=str(cell.path),
        runtime=cell.runtime,
        threads=cell.threads,
        batch=cell.batch,
        arrays=str(arrays),
        result=f"{stem}.result.json",
        probs=f"{stem}.probs.npy",
        latencies=f"{stem}.lat.npy",
        timing_only=round_ > 0,
        min_calls=50 if config.quick else (1000 if cell.batch == 1 else 100),
        min_seconds=0.2 if config.quick else config.duration_s,
        warmup_calls=5 if config.quick else 50,
        warmup_seconds=0.05 if config.quick else config.duration_s / 2,
        pin_core=pin_core if cell.threads == 1 else None,
        profile=f"{scratch / 'profile-'}{cell.key.replace('/', '_')}.json" if config.profile and round_ == 0 else None,
    )
    reason = run_job("sketch_edge.bench.worker", Path(f"{stem}.job.json"), job, config.timeout_s)
    if reason is not None:
        return reason
    measured = CellMeasurement.load(Path(job.result))
    probs = np.load(job.probs) if round_ == 0 else None
    return measured, probs, np.load(job.latencies)


def _busiest(a: float | None, b: float | None) -> float | None:
    """A cell timed in several rounds was as noisy as its noisiest round."""
    return b if a is None else a if b is None else max(a, b)


def _summarize_rounds(row: Row, rounds: list[np.ndarray]) -> Row:
    """With --repeat, the reported p50 is the median of the rounds' p50s, and the spread says how far they ranged."""
    p50s = tuple(float(np.percentile(r, 50)) for r in rounds)
    if len(p50s) == 1 or row.latency_us is None:
        return replace(row, p50_rounds=p50s)
    spread = (max(p50s) - min(p50s)) / statistics.median(p50s)
    return replace(row, p50_rounds=p50s, p50_spread=spread, latency_us=replace(row.latency_us, p50=statistics.median(p50s)))


def _collect_profiles(scratch: Path, out: Path, cells: list[Cell]) -> dict[str, str]:
    """Move each cell's per-op profile into ARTIFACTS/bench/profiles/; {cell key: file name}."""
    found = {}
    for cell in cells:
        source = scratch / f"profile-{cell.key.replace('/', '_')}.json"
        if source.is_file():
            target = out / source.name.removeprefix("profile-")
            fileio.write_text(target, source.read_text())
            found[cell.key] = f"profiles/{target.name}"
    return found


def _row(cell: Cell) -> Row:
    return Row(cell.recipe, cell.format, cell.precision, cell.compute, cell.runtime, cell.key, cell.threads, cell.batch, bytes=cell.bytes)


def accuracy(probs: np.ndarray, y: np.ndarray, reference: np.ndarray, labels: tuple[str, ...]) -> dict[str, Any]:
    pred = probs.argmax(axis=1)
    top3 = np.argsort(-probs, axis=1)[:, :3]
    map3 = float(np.mean([1.0 / (list(row).index(t) + 1) if t in row else 0.0 for row, t in zip(top3, y, strict=True)]))
    confusion = np.zeros((len(labels), len(labels)), dtype=int)
    np.add.at(confusion, (y, pred), 1)
    per_class = {label: float(confusion[i, i] / max(1, confusion[i].sum())) for i, label in enumerate(labels)}
    return {
        "top1": topk_accuracy(probs, y, 1),
        "top3": topk_accuracy(probs, y, 3),
        "map3": map3,
        "agreement": float((reference.argmax(axis=1) == pred).mean()),
        "per_class": per_class,
        "confusion": confusion.tolist(),
    }


def cost(row: Row, macs: int | None, peaks: dict[str, Peak]) -> dict[str, Any]:
    """Throughput, achieved GMAC/s and the fraction of this machine's peak for the cell's compute kind."""
    lat, batch = row.latency_us, row.batch or 1
    if lat is None:
        return {}
    out: dict[str, Any] = {"throughput_per_s": batch / (lat.mean / 1e6)}
    peak = peaks.get(row.compute)
    if macs:
        out |= {"macs": macs, "gmacs_per_s": macs * batch / (lat.p50 / 1e6) / 1e9}
        if peak:
            out |= {"peak_fraction": out["gmacs_per_s"] / (peak.gops / 2), "peak_kernel": peak.kernel}
    return out


def pareto_front(points: list[tuple[Any, float, float]]) -> list[bool]:
    """For (group, p50, top-1) points: on its group's front (best top-1 for its p50, not beaten on both)."""
    return [
        not any(og == g and op <= p and ot >= t and (op < p or ot > t) for j, (og, op, ot) in enumerate(points) if j != i)
        for i, (g, p, t) in enumerate(points)
    ]


def mark_pareto(rows: list[Row]) -> list[Row]:
    """The rows, each ok cell marked when it is on the front of its (threads, batch) group."""
    ok = [i for i, r in enumerate(rows) if r.status == "ok" and r.p50 is not None and r.top1 is not None]
    front = pareto_front([((rows[i].threads, rows[i].batch), rows[i].p50 or 0.0, rows[i].top1 or 0.0) for i in ok])
    on = {i for i, f in zip(ok, front, strict=True) if f}
    return [replace(r, pareto=i in on) for i, r in enumerate(rows)]


def libraries(cells: list[Cell], kernels: list[Kernel]) -> tuple[str, ...]:
    """The distributions the figures depend on: numpy, the runtimes that ran cells and peaks, and what made each
    benched file (its recipe's libraries; the peak GEMMs of LiteRT are made by TFLite recipes too)."""
    runtimes = [c.runtime for c in cells] + [k.runtime for k in kernels]
    recipes = [RECIPES[name] for name in [c.recipe for c in cells] + [k.recipe for k in kernels] if name in RECIPES]
    names = ["numpy", *(lib for r in runtimes for lib in RUNTIMES[r].libraries), *(lib for r in recipes for lib in r.libraries)]
    return tuple(dict.fromkeys(names))
