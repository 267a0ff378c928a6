"""`sketch-edge bench`: plan cells from the manifest, run each in a subprocess, derive accuracy and cost.

Every cell is measured on the test split saved at train time (`split.npz`) and
compared with Keras's probabilities on the same drawings (`export/reference.npz`),
so the accuracy columns and the `low-accuracy` floor always speak of one set of
drawings, whichever runtimes and `--quick` subset are benched.
"""

from __future__ import annotations

import shutil
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from sketch_edge import fileio
from sketch_edge.bench import noise
from sketch_edge.bench.answer import answers_for, contenders
from sketch_edge.bench.derive import (
    accuracy,
    busiest,
    cost,
    judged,
    libraries,
    mark_beaten,
    mark_pareto,
    mobile_records,
    peaks_to_remeasure,
    summarize_rounds,
)
from sketch_edge.bench.machine import environment
from sketch_edge.bench.peak import KERNELS, Kernel, PeakJob, PeakTimings, kernels_for, machine_peaks
from sketch_edge.bench.plan import BenchConfig, Cell, plan, row_of
from sketch_edge.bench.results import BenchSource, KernelTiming, Peak, Quantization, Results, Row, Settings
from sketch_edge.bench.worker import CellJob, CellMeasurement
from sketch_edge.data.dataset import contract_of
from sketch_edge.data.saved_split import SavedSplit
from sketch_edge.errors import BenchError, DataError
from sketch_edge.fileio import sha256_file
from sketch_edge.isolation import cpu_affinity, run_job
from sketch_edge.layout import PROFILES, Layout
from sketch_edge.manifest import Manifest
from sketch_edge.metrics import topk_accuracy
from sketch_edge.records import field_names
from sketch_edge.reporting import Progress


def load_test(layout: Layout, manifest: Manifest) -> tuple[SavedSplit, np.ndarray]:
    """The saved test split and Keras's probabilities on it, both checked against the manifest."""
    if not layout.split.is_file() or sha256_file(layout.split) != manifest.source.split_sha256:
        raise BenchError(f"{layout.split}: missing or not the split the artifacts were exported from (run {layout.export_command})")
    saved = SavedSplit.load(layout.split)
    try:
        problem = fileio.archive_problem(layout.reference)
        if problem is not None:
            raise BenchError(f"{layout.reference}: {problem}")
        with np.load(layout.reference, allow_pickle=False) as archive:
            reference, model_sha = archive["test"], str(archive["model_sha256"])
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as exc:
        raise BenchError(
            f"{layout.reference}: Keras's reference outputs are missing or unreadable ({exc}); run {layout.export_command}"
        ) from None
    if model_sha != manifest.source.sha256 or reference.shape != (len(saved.test_y), len(manifest.source.labels)):
        raise BenchError(f"{layout.reference}: not the outputs of this model on this split (run {layout.export_command})")
    if reference.dtype.kind != "f" or not np.isfinite(reference).all():
        raise BenchError(f"{layout.reference}: Keras's outputs are not all finite numbers (run {layout.export_command})")
    return saved, reference


def run(config: BenchConfig, progress: Progress = lambda done, total, what: None) -> tuple[Results, dict[str, np.ndarray]]:
    """Bench every planned cell: the results, and every cell's timed latencies (for the plots; not in results.json).
    `progress(done, total, what)` hears of each cell as it ends (a minute of silence is no way to run a bench)."""
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
    profiles = layout.bench / PROFILES
    try:
        arrays = scratch / "test.npz"
        np.savez(arrays, test=x)
        kernels = _build_peaks(config, cells, scratch)
        groups = {(k.runtime, t) for k in kernels for t in {c.threads for c in cells}}
        measured = _time_peaks(config, kernels, groups, scratch, pin_core, round_=0)
        rows, probs, latencies = _measure_cells(cells, config, arrays, scratch, pin_core, progress)
        timed = [replace(row, **accuracy(probs[row.key], y, reference, manifest.source.labels)) for row in rows if row.key in probs]
        if config.repeat == 1 and not config.quick:  # the cells that could decide an answer, timed again for their spread
            deciding = contenders(timed, probs, y)
            close = [c for c in cells if c.key in deciding]
            timed = _time_again(close, timed, latencies, config, arrays, scratch, pin_core, progress)
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
    by_key = {row.key: judged(row, probs[row.key], reference, y, keras_top1, config.max_top1_drop) for row in timed}
    results = mark_pareto([by_key.get(row.key, row) for row in rows] + refused)
    source = bench_source(manifest, layout, saved, keras_top1)
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
        answers=answers_for(results, probs, y),
    )
    return bench, latencies


def bench_source(manifest: Manifest, layout: Layout, saved: SavedSplit, keras_top1: float) -> BenchSource:
    """What results.json says of the model (or reference file) and the test drawings the cells ran on."""
    return BenchSource(
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


def _said(measured: object) -> str:
    return f"failed ({measured})" if isinstance(measured, str) else "ok"


def _measure_cells(
    cells: list[Cell], config: BenchConfig, arrays: Path, scratch: Path, pin_core: int | None, progress: Progress
) -> tuple[list[Row], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Rows, test-split probabilities and latencies per cell key. With --repeat, rounds are interleaved across
    cells (a slow drift of the machine hits every cell alike); a cell failing in any round is a failed row."""
    rows = {c.key: row_of(c) for c in cells}
    probs: dict[str, np.ndarray] = {}
    rounds: dict[str, list[np.ndarray]] = {}
    for round_ in range(config.repeat):
        for cell in cells:
            if rows[cell.key].status == "failed":
                continue
            measured = _run_cell(cell, config, arrays, scratch, round_, pin_core)
            progress(round_ * len(cells) + cells.index(cell) + 1, len(cells) * config.repeat, f"{cell.key}: {_said(measured)}")
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
            other = busiest(row.other_cpu, result.other_cpu)
            rows[cell.key] = replace(row, other_cpu=other, noisy=noise.is_noisy(other))
            rounds.setdefault(cell.key, []).append(lat)
    for key, timed in rounds.items():
        rows[key] = summarize_rounds(rows[key], timed)
    return list(rows.values()), probs, {key: np.concatenate(timed) for key, timed in rounds.items()}


CONTENDER_ROUNDS = 3


def _time_again(
    cells: list[Cell],
    rows: list[Row],
    latencies: dict[str, np.ndarray],
    config: BenchConfig,
    arrays: Path,
    scratch: Path,
    pin_core: int | None,
    progress: Progress,
) -> list[Row]:
    """`cells` timed in CONTENDER_ROUNDS rounds in all (the first is done), interleaved as --repeat does: each row's
    p50 then the median of its rounds and its interval their range. A cell failing a later round keeps its first."""
    rounds = {c.key: [latencies[c.key]] for c in cells if c.key in latencies}
    steps = [(round_, c) for round_ in range(1, CONTENDER_ROUNDS) for c in cells if c.key in rounds]
    for done, (round_, cell) in enumerate(steps, start=1):
        measured = _run_cell(cell, config, arrays, scratch, round_, pin_core)
        progress(done, len(steps), f"again, for the answer: {cell.key}: {_said(measured)}")
        if not isinstance(measured, str):
            rounds[cell.key].append(measured[2])
    for key, timed in rounds.items():
        latencies[key] = np.concatenate(timed)
    return [summarize_rounds(r, rounds[r.key]) if r.key in rounds and len(rounds[r.key]) > 1 else r for r in rows]


def _build_peaks(config: BenchConfig, cells: list[Cell], scratch: Path) -> list[Kernel]:
    """Build the GEMM model of every kernel that bounds a benched compute kind (in every runtime: the machine's peak)."""
    kernels = kernels_for({c.compute for c in cells}, {k.runtime for k in KERNELS})
    if not kernels:
        return []
    folder = scratch / "peaks"
    folder.mkdir()
    job = PeakJob("build", str(folder), tuple(k.name for k in kernels), result=str(scratch / "peak-build.result.json"))
    reason = run_job(scratch / "peak-build.job.json", job, config.timeout_s)
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
        reason = run_job(Path(f"{stem}.job.json"), job, config.timeout_s)
        if reason is not None:
            entries = [KernelTiming(n, runtime, threads, error=reason) for n in names]
        else:
            entries = list(PeakTimings.load(Path(job.result)).measured)
        measured += [replace(e, round=round_, noisy=noise.is_noisy(e.other_cpu)) for e in entries]
    return measured


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
        deny_amx=cell.deny_amx,
    )
    reason = run_job(Path(f"{stem}.job.json"), job, config.timeout_s)
    if reason is not None:
        return reason
    measured = CellMeasurement.load(Path(job.result))
    probs = np.load(job.probs) if round_ == 0 else None
    return measured, probs, np.load(job.latencies)


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
