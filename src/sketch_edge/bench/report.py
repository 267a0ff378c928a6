"""Bench outputs: the terminal table, results.json / results.csv, report.md and its plots."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from sketch_edge import fileio
from sketch_edge.bench import noise, results_file
from sketch_edge.bench.profile import NO_PROFILER
from sketch_edge.display import printable

CSV_COLUMNS = (
    "recipe",
    "format",
    "precision",
    "compute",
    "runtime",
    "threads",
    "batch",
    "status",
    "error",
    "top1",
    "top3",
    "map3",
    "agreement",
    "latency_us.p50",
    "latency_us.p90",
    "latency_us.p99",
    "latency_us.mean",
    "latency_us.std",
    "latency_us.min",
    "e2e_latency_us.p50",
    "p50_spread",
    "throughput_per_s",
    "load_ms",
    "first_call_ms",
    "peak_rss_mb",
    "rss_growth_mb",
    "bytes",
    "macs",
    "gmacs_per_s",
    "peak_fraction",
    "peak_kernel",
    "other_cpu",
    "noisy",
    "pareto",
)
COMPARED = (("p50", "latency_us.p50"), ("p99", "latency_us.p99"), ("thru", "throughput_per_s"), ("top1", "top1"), ("rss", "peak_rss_mb"))
RUNTIME_MARKERS = {"keras": "s", "litert": "o", "onnxruntime": "^", "openvino": "D"}
RUNTIME_LINES = {"keras": ":", "litert": "-", "onnxruntime": "--", "openvino": "-."}
KIND_COLOURS = {"fp32": "tab:blue", "fp16": "tab:cyan", "dynamic-int8": "tab:orange", "int8": "tab:red", "int16x8": "tab:purple"}
TOP_OPS = 5
MAX_MATRIX_CLASSES = 30
CONFUSED_PAIRS = 25
NOISY_MARK = "!"
SHORT_REASON = 70


def flat(row: dict[str, Any], column: str) -> Any:
    value: Any = row
    for part in column.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def write_all(results: dict[str, Any], out: Path, baseline: dict[str, Any] | None) -> None:
    latencies = results.pop("latencies")
    fileio.write_json(out / "results.json", results)
    rows = (["" if flat(row, c) is None else flat(row, c) for c in CSV_COLUMNS] for row in results["results"])
    fileio.write_csv(out / "results.csv", CSV_COLUMNS, rows)
    plots(results, latencies, out)
    fileio.write_text(out / "report.md", markdown(results, baseline, out))


def table_rows(results: dict[str, Any], baseline: dict[str, Any] | None) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the one table the terminal and the Markdown report both show."""
    repeated = results.get("settings", {}).get("repeat", 1) > 1
    header = [
        "recipe",
        "runtime",
        "compute",
        "thr",
        "batch",
        "status",
        "kB",
        "top-1",
        "agree",
        "p50 us",
        "e2e p50 us",
        "p99 us",
        "per s",
        "RSS MB",
        "peak %",
    ] + (["p50 spread"] if repeated else [])
    old = {_key(r): r for r in baseline["results"]} if baseline else {}
    if baseline:
        header += [f"{name} vs base" for name, _ in COMPARED]
    rows = []
    for r in results["results"]:
        lat, e2e = r["latency_us"] or {}, r.get("e2e_latency_us") or {}
        row = [
            r["recipe"] + (" *" if r.get("pareto") else ""),
            r["runtime"],
            r.get("compute") or "",
            _fmt(r["threads"]),
            _fmt(r["batch"]),
            r["status"] if not r["error"] else f"{r['status']}: {short_reason(r['error'])}",
            _fmt(r["bytes"] and r["bytes"] / 1024, ".0f"),
            _fmt(r["top1"], ".4f"),
            _fmt(r["agreement"], ".4f"),
            _fmt(lat.get("p50"), ".1f") + (f" {NOISY_MARK}" if r.get("noisy") else ""),
            _fmt(e2e.get("p50"), ".1f"),
            _fmt(lat.get("p99"), ".1f"),
            _fmt(r["throughput_per_s"], ".0f"),
            _fmt(r["peak_rss_mb"], ".0f"),
            _fmt(r["peak_fraction"] and 100 * r["peak_fraction"], ".1f"),
        ]
        if repeated:
            row.append(_fmt(r.get("p50_spread") and 100 * r["p50_spread"], ".1f") + ("%" if r.get("p50_spread") is not None else ""))
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


def noise_notes(results: dict[str, Any]) -> list[str]:
    """One line of advice when some cells, or the peaks, were timed while the machine was busy; none when quiet."""
    notes = []
    noisy = [r["key"] for r in results["results"] if r.get("noisy")]
    if noisy:
        notes.append(f"{NOISY_MARK} {len(noisy)} cell(s) " + noise.ADVICE.format(results["noisy_above"]) + ".")
    peaks = sorted({f"{p['kernel']} ({t} thread(s))" for t, kinds in results["peaks"].items() for p in kinds.values() if p.get("noisy")})
    if peaks:
        notes.append(f"{NOISY_MARK} peaks timed while the machine was busy, so `peak %` may read high: {', '.join(peaks)}.")
    beaten = sorted(
        {
            f"{p['kernel']} ({t} thread(s)) by {', '.join(p['beaten_by'])}"
            for t, kinds in results["peaks"].items()
            for p in kinds.values()
            if p.get("beaten_by")
        }
    )
    if beaten:
        notes.append(f"{NOISY_MARK} peaks beaten even when timed again, so not this CPU's ceiling for their kind: {'; '.join(beaten)}.")
    return notes


def _key(row: dict[str, Any]) -> tuple:
    return (row["recipe"], row["runtime"], row["threads"], row["batch"])


def _fmt(value: Any, spec: str = "") -> str:
    return "" if value is None else format(value, spec)


def write_table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(str(cell).replace("|", "/") for cell in row) + " |" for row in rows),
    ]


def markdown(results: dict[str, Any], baseline: dict[str, Any] | None, out: Path) -> str:
    env, source, settings = results["environment"], results["source"], results.get("settings", {})
    header, rows = table_rows(results, baseline)
    peak_rows = [
        [t, kind, f"{p['gops']:.1f}", p["kernel"], _fmt(p.get("other_cpu"), ".2f") + (f" {NOISY_MARK}" if p.get("noisy") else "")]
        for t, kinds in results["peaks"].items()
        for kind, p in sorted(kinds.items())
    ]
    kernel_rows = [_kernel_row(k) for k in results["peak_kernels"]]
    lines = [
        f"# Bench of {source['model']} ({source['sha256'][:12]})",
        "",
        f"{env['cpu']} ({', '.join(env['cpu_flags']) or 'no SIMD flags read'}), {env['cores']} cores, {env['os']}, Python {env['python']}; "
        f"git {env['git_revision']}; {env['time']}.",
        "",
        "Libraries: " + ", ".join(f"{k} {v}" for k, v in env["libraries"].items()) + ".",
        "",
        f"Test split: {results['test_samples']} drawings of `{source['split']}` (sha256 {source['split_sha256'][:12]})"
        + (", a tenth of it (--quick)" if settings.get("quick") else "")
        + f"; Keras top-1 on them {source['keras_test_top1']:.4f}. Model: {source['macs'] or 0:,} MACs per drawing."
        + (f" Single-thread cells pinned to core {settings['pin_core']}." if settings.get("pin_core") is not None else "")
        + (
            f" Timing repeated {settings['repeat']} times per cell in fresh processes; p50 is the median of the rounds."
            if settings.get("repeat", 1) > 1
            else ""
        ),
        "",
        "`p50 us` times the runtime's own call on an input already in its dtype and layout (a bare loop of its API); "
        "`e2e p50 us` the adapter's whole path (cast, quantize, run, dequantize). `peak %` is the achieved GMAC/s over "
        "this machine's measured peak for the cell's compute kind. "
        "`*`: Pareto-best (top-1 vs p50) among cells with the same threads and batch. "
        f"`{NOISY_MARK}` after a p50: other processes used more than {results['noisy_above']:.0%} of a core while it was timed.",
        "",
        *write_table(header, rows),
        "",
        *(line for note in noise_notes(results) for line in (note, "")),
        "## Peaks",
        "",
        "The machine's peak per compute kind and thread count: the fastest runtime kernel on a 1024^3 GEMM "
        "(median of repeated runs after warm-up). Kernels are timed again after the cells when a timing was noisy or a "
        "cell ran faster than its peak, and the faster round is kept; `other CPU` is the share of a core other "
        "processes used while the kept round was timed.",
        "",
        *write_table(["threads", "compute kind", "GOP/s", "defined by", "other CPU"], peak_rows),
        "",
        "Every kernel measured:",
        "",
        *write_table(["kernel", "threads", "round", "GOP/s", "median ms", "other CPU", "bounds"], kernel_rows),
        "",
        *_quantization_section(results),
        "",
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


def _quantization_section(results: dict[str, Any]) -> list[str]:
    """Each quantized artifact's per-layer sensitivity (written by export) and the layers a mixed recipe kept in float."""
    rows = []
    for name, q in results.get("quantization", {}).items():
        s, fallback = q.get("sensitivity") or {}, q.get("fallback")
        if "error" in s:
            rows.append([name, s["error"], "", "", "", "", ""])
            continue
        kept = "" if fallback is None else f"{fallback['k']} ({fallback.get('stopped', '')})"
        rows.append(
            [
                name,
                s.get("worst_layer") or f"no layer matched ({s.get('skipped', 0)} skipped)",
                _fmt(s.get("worst_added_noise") and 100 * s["worst_added_noise"], ".2f"),
                _fmt(s.get("worst_sqnr_db"), ".1f"),
                _fmt(s.get("output_sqnr_db"), ".1f"),
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
        *write_table(["recipe", "worst layer", "noise it adds %", "its SQNR dB", "output SQNR dB", "float layers", ""], rows),
        "",
    ]


def _kernel_row(k: dict[str, Any]) -> list[Any]:
    if k.get("gops") is None:
        return [k["kernel"], k["threads"], k.get("round", 0), "", "", "", f"failed: {k.get('error')}"]
    busy = _fmt(k.get("other_cpu"), ".2f") + (f" {NOISY_MARK}" if k.get("noisy") else "")
    return [k["kernel"], k["threads"], k.get("round", 0), f"{k['gops']:.1f}", f"{k['median_ms']:.2f}", busy, ", ".join(k["kinds"])]


def _profile_section(results: dict[str, Any], out: Path) -> list[str]:
    lines = ["## Where the time goes (per operator)", ""]
    runtimes = sorted({r["runtime"] for r in results["results"]})
    for key, name in sorted(results.get("profiles", {}).items()):
        if not key.endswith("/b1"):  # the batch-1 cells here; every profile is in its JSON file
            continue
        try:
            profile = json.loads((out / name).read_text())
        except (OSError, ValueError):
            continue
        rows = [[o["op"], f"{o['us_per_call']:.1f}", f"{100 * o['share']:.1f}%"] for o in profile["ops"][:TOP_OPS]]
        lines += [
            f"`{key}`: {profile['op_us_per_call']:.1f} us of operator time per call over {profile['calls']} calls ([{name}]({name}))",
            "",
        ]
        lines += [*write_table(["operator", "us per call", "share"], rows), ""]
    lines += [f"{runtime}: {NO_PROFILER[runtime]}." for runtime in runtimes if runtime in NO_PROFILER]
    return [*lines, ""]


def plots(results: dict[str, Any], latencies: dict[str, np.ndarray], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in results["results"] if r["status"] != "failed" and r["latency_us"]]
    single = [r for r in ok if r["batch"] == 1]
    thread_counts = sorted({r["threads"] for r in single}) or [1]
    fig, axes = plt.subplots(1, len(thread_counts), figsize=(6.5 * len(thread_counts), 5.5), squeeze=False, sharey=True)
    for ax, threads in zip(axes[0], thread_counts, strict=True):
        _accuracy_panel(ax, [r for r in single if r["threads"] == threads], threads)
    _legends(fig, single)
    save_figure(fig, out / "latency_vs_accuracy.png")

    fig, axes = plt.subplots(1, len(thread_counts), figsize=(6.5 * len(thread_counts), 5), squeeze=False, sharey=True)
    for ax, threads in zip(axes[0], thread_counts, strict=True):
        for r in (r for r in single if r["threads"] == threads):
            lat = np.sort(latencies[r["key"]])
            ax.plot(
                lat,
                np.arange(1, len(lat) + 1) / len(lat),
                color=KIND_COLOURS.get(r["compute"], "grey"),
                linestyle=RUNTIME_LINES.get(r["runtime"], "-."),
                label=f"{r['recipe']} ({r['runtime']})",
                linewidth=1.2,
            )
        log_x(ax, "latency at batch 1 (us, log scale)")
        ax.set_title(f"{threads} thread(s)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    axes[0][0].set_ylabel("fraction of calls")
    save_figure(fig, out / "latency_cdf.png")

    best = max((r for r in ok if r.get("confusion")), key=lambda r: (r["top1"], -r["latency_us"]["p50"]), default=None)
    if best is not None:
        _confusion_plot(np.asarray(best["confusion"]), results["source"]["labels"], best, out / "confusion.png")

    sizes = {r["recipe"]: (r["bytes"], r.get("compute")) for r in results["results"] if r["bytes"]}
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(sizes) + 1.2))
    names = list(sizes)
    bars = ax.barh(names, [sizes[n][0] / 1024 for n in names], color=[KIND_COLOURS.get(sizes[n][1], "grey") for n in names])
    ax.bar_label(bars, labels=[f"{sizes[n][0] / 1024:.0f} kB" for n in names], padding=3, fontsize=8)
    ax.set_xlabel("file size (kB)")
    ax.margins(x=0.15)
    save_figure(fig, out / "size.png")


def _confusion_plot(confusion: np.ndarray, labels: list[str], best: dict[str, Any], path: Path) -> None:
    """The matrix up to MAX_MATRIX_CLASSES classes; beyond, a matrix would be unreadable, so the most confused pairs."""
    import matplotlib.pyplot as plt

    title = f"{best['recipe']} on {best['runtime']}: top-1 {best['top1']:.4f}"
    if len(labels) <= MAX_MATRIX_CLASSES:
        fig, ax = plt.subplots(figsize=(1.2 + 0.45 * len(labels), 1 + 0.45 * len(labels)))
        ax.imshow(confusion, cmap="Blues")
        ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(title, fontsize=9)
        save_figure(fig, path)
        return
    off = confusion.astype(float)
    np.fill_diagonal(off, 0)
    pairs = [divmod(int(i), len(labels)) for i in np.argsort(off, axis=None)[::-1][:CONFUSED_PAIRS] if off.flat[i] > 0]
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(pairs) + 1.4))
    names = [f"{printable(labels[t])} -> {printable(labels[p])}" for t, p in pairs][::-1]
    ax.barh(names, [off[t, p] for t, p in pairs][::-1], color="tab:blue")
    ax.tick_params(axis="y", labelsize=7)
    ax.set_xlabel("test drawings of the true class (left) taken for the other")
    ax.set_title(f"{title}\nthe {len(pairs)} most confused pairs of {len(labels)} classes (a matrix would be unreadable)", fontsize=9)
    save_figure(fig, path)


def _accuracy_panel(ax: Any, rows: list[dict[str, Any]], threads: int) -> None:
    """Runtime by marker, compute kind by colour, the Pareto front as a step line, every point named without overlap."""
    for r in rows:
        ax.scatter(
            r["latency_us"]["p50"],
            r["top1"],
            marker=RUNTIME_MARKERS.get(r["runtime"], "x"),
            color=KIND_COLOURS.get(r["compute"], "grey"),
            s=60,
            edgecolors="black",
            linewidths=0.5,
            zorder=3,
        )
    log_x(ax, "p50 latency at batch 1 (us, log scale)")
    if rows:
        lat, top1 = [r["latency_us"]["p50"] for r in rows], [r["top1"] for r in rows]
        pad = max(0.002, (max(top1) - min(top1)) * 0.15)
        ax.set_ylim(min(top1) - pad, max(top1) + pad)
        ax.set_xlim(min(lat) / 1.5, max(lat) * 1.5)
    step_front(ax, [r for r in rows if r.get("pareto")])
    place_labels(ax, rows)
    ax.set_ylabel("test top-1")
    ax.set_title(f"{threads} thread(s): dashed line = Pareto front")
    ax.grid(True, which="both", alpha=0.3)


def step_front(ax: Any, front: list[dict[str, Any]], colour: Any = "black", width: float = 1, style: str = "--") -> None:
    """The Pareto front as a step line; it dominates everything right of and below it, so it runs to the right edge."""
    front = sorted(front, key=lambda r: r["latency_us"]["p50"])
    if front:
        xs = [r["latency_us"]["p50"] for r in front] + [ax.get_xlim()[1]]
        ys = [r["top1"] for r in front] + [front[-1]["top1"]]
        ax.step(xs, ys, where="post", color=colour, linewidth=width, linestyle=style, zorder=2)


def log_x(ax: Any, label: str) -> None:
    """A log latency axis with plain numbers on its ticks (30, 40, 60, 100), not powers of ten."""
    from matplotlib.ticker import LogFormatter

    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(3, 1)))
    ax.xaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(3, 1)))
    ax.tick_params(axis="x", which="minor", labelsize=7)
    ax.set_xlabel(label)


_OFFSETS = [(side * 7, dy) for step in range(10) for dy in (5 + 11 * step, -12 - 11 * step) for side in (1, -1)]
"""Label positions tried in turn, in points: right and left of the point, further up and down at each step."""


def place_labels(ax: Any, rows: list[dict[str, Any]], name: Callable[[dict[str, Any]], str] | None = None) -> None:
    """Name each point (`recipe (runtime)` unless `name` says otherwise) at the first offset whose text box overlaps
    no label or point placed before (in pixels)."""
    fig = ax.figure
    to_px = ax.transData.transform
    points = [to_px((r["latency_us"]["p50"], r["top1"])) for r in rows]
    taken = [(x - 6, y - 6, x + 6, y + 6) for x, y in points]
    scale = fig.dpi / 72
    for r, (x, y) in sorted(zip(rows, points, strict=True), key=lambda item: item[1][0]):
        text = name(r) if name else f"{r['recipe']} ({r['runtime']})"
        width, height = 4.3 * len(text) * scale, 9 * scale
        for dx, dy in _OFFSETS:
            left = x + dx * scale if dx > 0 else x + dx * scale - width
            box = (left, y + dy * scale, left + width, y + dy * scale + height)
            if not any(box[0] < t[2] and t[0] < box[2] and box[1] < t[3] and t[1] < box[3] for t in taken):
                break
        taken.append(box)
        ax.annotate(
            text,
            (r["latency_us"]["p50"], r["top1"]),
            textcoords="offset points",
            xytext=(dx, dy),
            fontsize=7,
            ha="left" if dx > 0 else "right",
            arrowprops={"arrowstyle": "-", "color": "grey", "linewidth": 0.5},
        )


def _legends(fig: Any, rows: list[dict[str, Any]]) -> None:
    from matplotlib.lines import Line2D

    runtimes = sorted({r["runtime"] for r in rows})
    kinds = [k for k in KIND_COLOURS if any(r["compute"] == k for r in rows)]
    handles = [Line2D([], [], marker=RUNTIME_MARKERS.get(rt, "x"), color="grey", linestyle="", markersize=8, label=rt) for rt in runtimes]
    handles += [Line2D([], [], marker="o", color=KIND_COLOURS[k], linestyle="", markersize=8, label=k) for k in kinds]
    handles.append(Line2D([], [], color="black", linestyle="--", label="Pareto front"))
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 5), fontsize=8, frameon=False)
    fig.subplots_adjust(bottom=0.2)


def save_figure(fig: Any, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout(rect=(0, 0.06, 1, 1))
    with fileio.atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def load_baseline(path: Path) -> dict[str, Any]:
    return results_file.read(path)
