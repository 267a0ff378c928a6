"""Bench outputs: the terminal table, results.json / results.csv and report.md (its plots: bench/plots.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from sketch_edge import fileio
from sketch_edge.bench import answer_table, noise
from sketch_edge.bench.amx_twins import amx_section
from sketch_edge.bench.plots import plots
from sketch_edge.bench.results import CSV_COLUMNS, KernelTiming, Mobile, Results, Row, read
from sketch_edge.export.arm import TABLE_HEADER as ARM_HEADER
from sketch_edge.export.arm import check_row
from sketch_edge.layout import REPORT, RESULTS, RESULTS_CSV
from sketch_edge.manifest import SensitivitySummary
from sketch_edge.models import short_name
from sketch_edge.reporting import fmt, markdown_table
from sketch_edge.runtime import RUNTIMES

COMPARED = (("p50", "latency_us.p50"), ("p99", "latency_us.p99"), ("thru", "throughput_per_s"), ("top1", "top1"), ("rss", "peak_rss_mb"))
TOP_OPS = 5
NOISY_MARK = "!"
SHORT_REASON = 70
TITLE = "(* Pareto-best top-1 vs p50 among cells with the same threads and batch)"


def flat(row: Row, column: str) -> Any:
    """A CSV column of a row: a field, or a field of its latency summary (`latency_us.p50`)."""
    value: Any = row
    for part in column.split("."):
        value = getattr(value, part, None)
    return value


def write_all(results: Results, latencies: dict[str, np.ndarray], out: Path, baseline: Results | None) -> None:
    results.save(out / RESULTS)
    rows = (["" if flat(row, c) is None else flat(row, c) for c in CSV_COLUMNS] for row in results.results)
    fileio.write_csv(out / RESULTS_CSV, CSV_COLUMNS, rows)
    plots(results, latencies, out)
    fileio.write_text(out / REPORT, markdown(results, baseline, out))


def table_rows(results: Results, baseline: Results | None) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the one table the terminal and the Markdown report both show."""
    repeated = results.settings.repeat > 1
    header = ["recipe", "runtime", "compute", "thr", "batch", "status", "KiB", "top-1", "test agree", "p50 us", "e2e p50 us", "p99 us"]
    header += ["per s", "RSS MiB", "peak %"] + (["p50 spread"] if repeated else [])
    old = {_key(r): r for r in baseline.results} if baseline else {}
    if baseline:
        header += [f"{name} vs base" for name, _ in COMPARED]
    rows = []
    for r in results.results:
        lat, e2e = r.latency_us, r.e2e_latency_us
        row = [
            r.recipe + (" *" if r.pareto else ""),
            r.shown_runtime,
            r.compute,
            fmt(r.threads),
            fmt(r.batch),
            r.status if not r.error else f"{r.status}: {short_reason(r.error)}",
            fmt(r.bytes and r.bytes / 1024, ".0f"),
            fmt(r.top1, ".4f"),
            fmt(r.agreement, ".4f"),
            fmt(lat and lat.p50, ".1f") + (f" {NOISY_MARK}" if r.noisy else ""),
            fmt(e2e and e2e.p50, ".1f"),
            fmt(lat and lat.p99, ".1f"),
            fmt(r.throughput_per_s, ".0f"),
            fmt(r.peak_rss_mb, ".0f"),
            fmt(r.peak_fraction and 100 * r.peak_fraction, ".1f"),
        ]
        if repeated:
            row.append(fmt(r.p50_spread and 100 * r.p50_spread, ".1f") + ("%" if r.p50_spread is not None else ""))
        if baseline:
            before = old.get(_key(r))
            for _, column in COMPARED:
                new, prev = flat(r, column), before and flat(before, column)
                row.append(f"{new / prev:.2f}x" if new is not None and prev else "")
        rows.append(row)
    return header, rows


def short_reason(error: str, width: int = SHORT_REASON) -> str:
    """A row's error as the table shows it: its first line, cut to `width` (results.json keeps the whole message)."""
    line = error.strip().splitlines()[0] if error.strip() else error
    return line if len(line) <= width else line[: width - 1].rstrip() + "…"


def peaks_line(results: Results) -> str:
    """The machine's peaks in one line, for the terminal."""
    return "peaks: " + "; ".join(
        f"{t} thread(s) {kind} {p.gops:.0f} GOP/s" for t, kinds in results.peaks.items() for kind, p in kinds.items()
    )


def noise_notes(results: Results) -> list[str]:
    """One line of advice when some cells, or the peaks, were timed while the machine was busy; none when quiet."""
    notes = []
    noisy = [r.key for r in results.results if r.noisy]
    if noisy:
        advice = noise.ADVICE.format(results.noisy_above) + ("" if results.settings.pin_core is not None else noise.PIN_ADVICE)
        notes.append(f"{NOISY_MARK} {len(noisy)} cell(s) {advice}.")
    peaks = results.peaks.items()
    busy = sorted({f"{p.kernel} ({t} thread(s))" for t, kinds in peaks for p in kinds.values() if p.noisy})
    if busy:
        notes.append(f"{NOISY_MARK} peaks timed while the machine was busy, so `peak %` may read high: {', '.join(busy)}.")
    beaten = sorted(
        {f"{p.kernel} ({t} thread(s)) by {', '.join(p.beaten_by)}" for t, kinds in peaks for p in kinds.values() if p.beaten_by}
    )
    if beaten:
        notes.append(f"{NOISY_MARK} peaks beaten even when timed again, so not this CPU's ceiling for their kind: {'; '.join(beaten)}.")
    return notes


def _key(row: Row) -> tuple[str, str, int | None, int | None]:
    return (row.recipe, row.shown_runtime, row.threads, row.batch)


def markdown(results: Results, baseline: Results | None, out: Path) -> str:
    env, source, settings = results.environment, results.source, results.settings
    header, rows = table_rows(results, baseline)
    lines = [
        f"# Bench of {short_name(source.model)} ({source.sha256[:12]})",
        "",
        f"On {env.cpu}, {env.cores} cores; git {env.git_revision}; {env.time}.",
        "",
        *answer_table.section(results),
        "## This run",
        "",
        f"{env.cpu} ({', '.join(env.cpu_flags) or 'no SIMD flags read'}), {env.cores} cores, {env.os}, Python {env.python}; "
        f"git {env.git_revision}; {env.time}.",
        "",
        "Libraries: " + ", ".join(f"{k} {v}" for k, v in env.libraries.items()) + ".",
        "",
        f"Test split: {results.test_samples} drawings of `{source.split}` (sha256 {source.split_sha256[:12]})"
        + (", a tenth of it (--quick)" if settings.quick else "")
        + f"; {source.reference} top-1 on them {source.keras_test_top1:.4f}. Model: `{source.model}`"
        + (f", {source.macs:,} MACs per drawing." if source.macs else ", MACs not counted (no peak %).")
        + (f" Single-thread cells pinned to core {settings.pin_core}." if settings.pin_core is not None else "")
        + (
            f" Timing repeated {settings.repeat} times per cell in fresh processes; p50 is the median of the rounds."
            if settings.repeat > 1
            else ""
        ),
        "",
        "`p50 us` times the runtime's own call on an input already in its dtype and layout (a bare loop of its API); "
        "`e2e p50 us` the adapter's whole path (cast, quantize, run, dequantize). `peak %` is the achieved GMAC/s over "
        "this machine's measured peak for the cell's compute kind. "
        "`*`: Pareto-best (top-1 vs p50) among cells with the same threads and batch. "
        f"`{NOISY_MARK}` after a p50: other processes used more than {results.noisy_above:.0%} of a core while it was timed.",
        "",
        "## Every cell",
        "",
        *markdown_table(header, rows),
        "",
        *(line for note in noise_notes(results) for line in (note, "")),
        *_peaks_section(results),
        *_quantization_section(results),
        "",
        *amx_section(results),
        *_mobile_section(results),
        *_arm_section(results),
        *_profile_section(results, out),
        "## Plots",
        "",
        "![accuracy vs latency](latency_vs_accuracy.png)",
        "",
        "![latency distributions](latency_cdf.png)",
        "",
        "![size per artifact](size.png)",
        "",
        "![confusion of the most accurate cell (its matrix, or its most confused pairs past 30 classes)](confusion.png)",
        "",
    ]
    return "\n".join(lines)


def _peaks_section(results: Results) -> list[str]:
    """The machine's peak per compute kind and thread count, and every kernel timed to find it."""
    peak_rows = [
        [t, kind, f"{p.gops:.1f}", p.kernel, fmt(p.other_cpu, ".2f") + (f" {NOISY_MARK}" if p.noisy else "")]
        for t, kinds in results.peaks.items()
        for kind, p in sorted(kinds.items())
    ]
    kernel_rows = [_kernel_row(k) for k in results.peak_kernels]
    return [
        "## Peaks",
        "",
        "The machine's peak per compute kind and thread count: the fastest runtime kernel on a 1024^3 GEMM "
        "(median of repeated runs after warm-up). Kernels are timed again after the cells when a timing was noisy or a "
        "cell ran faster than its peak, and the faster round is kept; `other CPU` is the share of a core other "
        "processes used while the kept round was timed.",
        "",
        *markdown_table(["threads", "compute kind", "GOP/s", "defined by", "other CPU"], peak_rows),
        "",
        "Every kernel measured:",
        "",
        *markdown_table(["kernel", "threads", "round", "GOP/s", "median ms", "other CPU", "bounds"], kernel_rows),
        "",
    ]


def _quantization_section(results: Results) -> list[str]:
    """Each quantized artifact's per-layer sensitivity (written by export) and the layers a mixed recipe kept in float."""
    rows = []
    for name, q in results.quantization.items():
        s, fallback = q.sensitivity or SensitivitySummary(), q.fallback
        if s.error is not None:
            rows.append([name, s.error, "", "", "", "", ""])
            continue
        kept = "" if fallback is None else f"{fallback.k} ({fallback.stopped})"
        rows.append(
            [
                name,
                s.worst_layer or f"no layer matched ({s.skipped} skipped)",
                fmt(s.worst_added_noise and 100 * s.worst_added_noise, ".2f"),
                fmt(s.worst_sqnr_db, ".1f"),
                fmt(s.output_sqnr_db, ".1f"),
                kept,
                f"[plot](../export/sensitivity/{name}.png)",
            ]
        )
    if not rows:
        return []
    return [
        "## Quantization: where each int8 file departs from its float twin",
        "",
        "Per layer, on calibration drawings: the noise the layer adds (its output's |float - quantized| / |float| minus its "
        "inputs'), its output SQNR, and the model output's SQNR. Mixed recipes move the Keras layer whose ops add the most "
        "noise to float, one at a time, until validation top-1 is within the export's `--max-drop` of Keras's (or the drop "
        "is within noise) and agreement meets the gate: `float layers` is how many, and why it stopped. Full reports: "
        "`export/sensitivity/`.",
        "",
        *markdown_table(["recipe", "worst layer", "noise it adds %", "its SQNR dB", "output SQNR dB", "float layers", ""], rows),
        "",
    ]


def _check_said(m: Mobile) -> str:
    """What a mobile file's check at export said, in a table cell."""
    if m.twin is not None:
        return f"the same outputs as {m.twin.twin} to {fmt(m.twin.max_abs_diff, '.0e', 'not finite')}"
    check = m.client_check
    if check is None:
        return "read by its usability checker" if m.providers else ""
    agreement = "" if check.agreement is None else f", same top-1 as LiteRT on {check.agreement:.2%}"
    return check.status + agreement + (f" ({check.reason})" if check.reason else "")


def _mobile_section(results: Results) -> list[str]:
    """Per mobile artifact: the client that takes it and its verdict, the providers' coverage, size, batch-1 p50 here."""
    rows = []
    for name, m in results.mobile.items():
        cells = [r for r in results.results if r.recipe == name and r.measured and r.threads == 1 and r.batch == 1]
        here = cells[0] if cells else None  # the first runtime listed is the file's default one
        said = _check_said(m)
        coverage = "; ".join(f"{p.provider} {p.verdict} ({p.supported_nodes}/{p.nodes} nodes)" for p in m.providers)
        rows.append(
            [
                name,
                m.client.split(":")[0],
                said,
                coverage,
                fmt(here and here.bytes and here.bytes / 1024, ".1f"),
                "" if here is None else f"{fmt(here.latency_us and here.latency_us.p50, '.1f')} ({here.runtime})",
            ]
        )
    if not rows:
        return []
    return [
        "## Mobile",
        "",
        "The files made for the mobile toolchains, as export checked them with the clients themselves: MediaPipe Tasks' "
        "ImageClassifier ran each mobile `.tflite` file on the test drawings as RGB images; ONNX Runtime Mobile's usability "
        "checker read each fixed-batch `.onnx` file (an `.ort` file shows its twin's); each `.ort` file ran in ONNX Runtime "
        "against its twin. `batch-1 p50 us` is this machine's, one thread: the host's stand-in for a phone, not a phone's "
        "figure (an Arm core, and NNAPI or CoreML, would give others). An `.ort` file keeps the graph optimized for Arm, so "
        "on an x86 CPU it misses ONNX Runtime's x86-only layouts its `.onnx` twin gets: there, read the twin's p50. "
        "Which file to ship: `docs/mobile.md`.",
        "",
        *markdown_table(["artifact", "client", "its check", "execution providers", "size KiB", "batch-1 p50 us"], rows),
        "",
    ]


def _arm_section(results: Results) -> list[str]:
    """Each file as `verify-arm` ran it on emulated Arm CPUs against its own x86 answers (kept in the manifest)."""
    rows = [check_row(name, cpu, c) for name, checks in results.arm.items() for cpu, c in checks.items()]
    if not rows:
        return ["## Emulated Arm", "", "Not run: `make verify-arm` runs every file on emulated Arm cores and records it here.", ""]
    emulators = sorted({c.emulator for checks in results.arm.values() for c in checks.values()})
    return [
        "## Emulated Arm",
        "",
        f"Each file run by `sketch-edge verify-arm` under {', '.join(emulators)} on the test drawings (integer files: all of "
        "them; float files: a sample), one drawing a call, against the same file's answers on this x86 host. The emulated "
        "cores execute the instructions a phone's would (XNNPACK's and MLAS's Arm kernels, chosen from the emulated CPU's "
        "features), so this says the file gives the phone the answers the manifest promises; it says nothing of a phone's "
        "speed, nor of GPU or NPU delegates. `steps`: max |diff| in steps of the quantized output; `top-1` and `from Keras` "
        "on the same drawings, the x86 figure in brackets, tell which side a difference comes from. See `docs/arm.md`.",
        "",
        *markdown_table(list(ARM_HEADER), rows),
        "",
    ]


def _kernel_row(k: KernelTiming) -> list[Any]:
    if k.gops is None:
        return [k.kernel, k.threads, k.round, "", "", "", f"failed: {k.error}"]
    busy = fmt(k.other_cpu, ".2f") + (f" {NOISY_MARK}" if k.noisy else "")
    return [k.kernel, k.threads, k.round, f"{k.gops:.1f}", fmt(k.median_ms, ".2f"), busy, ", ".join(k.kinds)]


PROFILE_NOTE = (
    "Operator time is the sum of each node's own time as the runtime's profiler records it, over 200 calls after 20 "
    "warm-up calls; the cell's p50 (timed without a profiler) is beside it. They differ both ways: ONNX Runtime's "
    "profiler adds its own cost to every node (a Reshape, which moves no data, shows several us), so its sum runs above "
    "the p50, more so for graphs of many small nodes such as QDQ files; OpenVINO's counters leave out the work between "
    "nodes and the call itself, so their sum runs below. Read the shares of the heavy operators, not the sum."
)


def _profile_section(results: Results, out: Path) -> list[str]:
    lines = ["## Where the time goes (per operator)", "", PROFILE_NOTE, ""]
    runtimes = sorted({r.runtime for r in results.results})
    p50 = {r.key: r.p50 for r in results.results}
    for key, name in sorted(results.profiles.items()):
        if not key.endswith("/b1"):  # the batch-1 cells here; every profile is in its JSON file
            continue
        try:
            profile = json.loads((out / name).read_text())
        except (OSError, ValueError):
            continue
        rows = [[o["op"], f"{o['us_per_call']:.1f}", f"{100 * o['share']:.1f}%"] for o in profile["ops"][:TOP_OPS]]
        lines += [
            f"`{key}`: {profile['op_us_per_call']:.1f} us of operator time per call over {profile['calls']} calls, its p50 "
            f"{fmt(p50.get(key), '.1f', 'not measured')} us ([{name}]({name}))",
            "",
        ]
        lines += [*markdown_table(["operator", "us per call", "share"], rows), ""]
    lines += [f"{rt}: {RUNTIMES[rt].no_profiler}." for rt in runtimes if rt in RUNTIMES and RUNTIMES[rt].profiler is None]
    return [*lines, ""]


def load_baseline(path: Path) -> Results:
    return read(path)
