"""The bench report's plots: accuracy against latency, latency distributions, file sizes, the best cell's confusion.

Runtime by marker (its RuntimeSpec's), compute kind by colour, in every plot.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from sketch_edge.bench.results import Results, Row
from sketch_edge.display import printable
from sketch_edge.reporting import log_x, place_labels, pyplot, save_figure, step_front
from sketch_edge.runtime import RUNTIMES

KIND_COLOURS = {"fp32": "tab:blue", "fp16": "tab:cyan", "dynamic-int8": "tab:orange", "int8": "tab:red", "int16x8": "tab:purple"}
MAX_MATRIX_CLASSES = 30
CONFUSED_PAIRS = 25


def marker(runtime: str) -> str:
    """A runtime's points in every plot (its RuntimeSpec's; a name from another version: a cross)."""
    return RUNTIMES[runtime].marker if runtime in RUNTIMES else "x"


def plots(results: Results, latencies: dict[str, np.ndarray], out: Path) -> None:
    plt = pyplot()
    ok = [r for r in results.results if r.status != "failed" and r.latency_us and r.top1 is not None]
    single = [r for r in ok if r.batch == 1]
    thread_counts = sorted({r.threads or 1 for r in single}) or [1]
    fig, axes = plt.subplots(1, len(thread_counts), figsize=(6.5 * len(thread_counts), 5.5), squeeze=False, sharey=True)
    for ax, threads in zip(axes[0], thread_counts, strict=True):
        _accuracy_panel(ax, [r for r in single if r.threads == threads], threads)
    _legends(fig, single)
    save_figure(fig, out / "latency_vs_accuracy.png")

    fig, axes = plt.subplots(1, len(thread_counts), figsize=(6.5 * len(thread_counts), 5), squeeze=False, sharey=True)
    for ax, threads in zip(axes[0], thread_counts, strict=True):
        for r in (r for r in single if r.threads == threads and r.key in latencies):
            lat = np.sort(latencies[r.key])
            ax.plot(
                lat,
                np.arange(1, len(lat) + 1) / len(lat),
                color=KIND_COLOURS.get(r.compute, "grey"),
                linestyle=RUNTIMES[r.runtime].line if r.runtime in RUNTIMES else "-.",
                label=f"{r.recipe} ({r.runtime})",
                linewidth=1.2,
            )
        log_x(ax, "latency at batch 1 (us, log scale)")
        ax.set_title(f"{threads} thread(s)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    axes[0][0].set_ylabel("fraction of calls")
    save_figure(fig, out / "latency_cdf.png")

    best = max((r for r in ok if r.confusion), key=lambda r: (r.top1 or 0.0, -(r.p50 or 0.0)), default=None)
    if best is not None:
        _confusion_plot(np.asarray(best.confusion), list(results.source.labels), best, out / "confusion.png")

    sizes = {r.recipe: (r.bytes, r.compute) for r in results.results if r.bytes}
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(sizes) + 1.2))
    names = list(sizes)
    bars = ax.barh(names, [(sizes[n][0] or 0) / 1024 for n in names], color=[KIND_COLOURS.get(sizes[n][1], "grey") for n in names])
    ax.bar_label(bars, labels=[f"{(sizes[n][0] or 0) / 1024:.0f} kB" for n in names], padding=3, fontsize=8)
    ax.set_xlabel("file size (kB)")
    ax.margins(x=0.15)
    save_figure(fig, out / "size.png")


def _confusion_plot(confusion: np.ndarray, labels: list[str], best: Row, path: Path) -> None:
    """The matrix up to MAX_MATRIX_CLASSES classes; beyond, a matrix would be unreadable, so the most confused pairs."""
    plt = pyplot()

    title = f"{best.recipe} on {best.runtime}: top-1 {best.top1:.4f}"
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


def _accuracy_panel(ax: Any, rows: list[Row], threads: int) -> None:
    """Runtime by marker, compute kind by colour, the Pareto front as a step line, every point named without overlap."""
    points = [(r.p50 or 0.0, r.top1 or 0.0) for r in rows]
    for r, (x, y) in zip(rows, points, strict=True):
        ax.scatter(
            x, y, marker=marker(r.runtime), color=KIND_COLOURS.get(r.compute, "grey"), s=60, edgecolors="black", linewidths=0.5, zorder=3
        )
    log_x(ax, "p50 latency at batch 1 (us, log scale)")
    if rows:
        lat, top1 = [x for x, _ in points], [y for _, y in points]
        pad = max(0.002, (max(top1) - min(top1)) * 0.15)
        ax.set_ylim(min(top1) - pad, max(top1) + pad)
        ax.set_xlim(min(lat) / 1.5, max(lat) * 1.5)
    step_front(ax, [p for r, p in zip(rows, points, strict=True) if r.pareto])
    place_labels(ax, [(x, y, f"{r.recipe} ({r.runtime})") for r, (x, y) in zip(rows, points, strict=True)])
    ax.set_ylabel("test top-1")
    ax.set_title(f"{threads} thread(s): dashed line = Pareto front")
    ax.grid(True, which="both", alpha=0.3)


def _legends(fig: Any, rows: list[Row]) -> None:
    from matplotlib.lines import Line2D

    runtimes = sorted({r.runtime for r in rows})
    kinds = [k for k in KIND_COLOURS if any(r.compute == k for r in rows)]
    handles = [Line2D([], [], marker=marker(rt), color="grey", linestyle="", markersize=8, label=rt) for rt in runtimes]
    handles += [Line2D([], [], marker="o", color=KIND_COLOURS[k], linestyle="", markersize=8, label=k) for k in kinds]
    handles.append(Line2D([], [], color="black", linestyle="--", label="Pareto front"))
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 5), fontsize=8, frameon=False)
    fig.subplots_adjust(bottom=0.2)
