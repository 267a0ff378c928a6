"""The bench report's plots: accuracy against latency, latency distributions, file sizes, the best cell's confusion.

Runtime by marker (its RuntimeSpec's), compute kind by colour, in every plot.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from sketch_edge.bench.results import Results, Row
from sketch_edge.display import printable
from sketch_edge.metrics import wilson_interval
from sketch_edge.reporting import log_x, place_labels, pyplot, save_figure, step_front
from sketch_edge.runtime import RUNTIMES

KIND_COLOURS = {"fp32": "tab:blue", "fp16": "tab:cyan", "dynamic-int8": "tab:orange", "int8": "tab:red", "int16x8": "tab:purple"}
MAX_MATRIX_CLASSES = 30
CONFUSED_PAIRS = 25


def marker(runtime: str) -> str:
    """A runtime's points in every plot (its RuntimeSpec's; a name from another version: a cross)."""
    return RUNTIMES[runtime].marker if runtime in RUNTIMES else "x"


def plots(results: Results, latencies: dict[str, np.ndarray], out: Path) -> None:
    ok = [r for r in results.results if r.status != "failed" and r.latency_us and r.top1 is not None]
    _accuracy_plot(ok, results.test_samples, out / "latency_vs_accuracy.png")
    _cdf_plot([r for r in ok if r.batch == 1 and r.key in latencies], latencies, out / "latency_cdf.png")
    plt = pyplot()
    best = max((r for r in ok if r.confusion), key=lambda r: (r.top1 or 0.0, -(r.p50 or 0.0)), default=None)
    if best is not None:
        _confusion_plot(np.asarray(best.confusion), list(results.source.labels), best, out / "confusion.png")

    sizes = {r.recipe: (r.bytes, r.compute) for r in results.results if r.bytes}
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(sizes) + 1.2))
    names = list(sizes)
    bars = ax.barh(names, [(sizes[n][0] or 0) / 1024 for n in names], color=[KIND_COLOURS.get(sizes[n][1], "grey") for n in names])
    ax.bar_label(bars, labels=[f"{(sizes[n][0] or 0) / 1024:.0f} KiB" for n in names], padding=3, fontsize=8)
    ax.set_xlabel("file size (KiB = 1,024 bytes)")
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


def _groups(rows: list[Row]) -> list[tuple[int, int]]:
    return sorted({(r.threads or 1, r.batch or 1) for r in rows})


def _runtimes(rows: list[Row]) -> list[str]:
    """The runtimes benched, in the registry's order (a name from another version last)."""
    shown = {r.shown_runtime for r in rows}
    order = [shown_as for name in RUNTIMES for shown_as in (name, f"{name} no-AMX")] + sorted(shown)
    return [name for name in dict.fromkeys(order) if name in shown]


def _accuracy_plot(rows: list[Row], drawings: int, path: Path) -> None:
    """One panel per runtime (rows) and (threads, batch) (columns): a dozen named points a panel, not forty; top-1 with
    its 95% interval, on an axis that holds every interval, so differences within chance look like it."""
    plt = pyplot()
    groups, runtimes = _groups(rows) or [(1, 1)], _runtimes(rows) or ["none"]
    fig, axes = plt.subplots(len(runtimes), len(groups), figsize=(6.5 * len(groups), 3.6 * len(runtimes)), squeeze=False)
    for column, (threads, batch) in enumerate(groups):
        group = [r for r in rows if (r.threads or 1, r.batch or 1) == (threads, batch)]
        spans = {r.key: wilson_interval(round((r.top1 or 0.0) * drawings), drawings) for r in group}
        low, high = min((s[0] for s in spans.values()), default=0.0), max((s[1] for s in spans.values()), default=1.0)
        lat = [r.p50 or 1.0 for r in group] or [1.0]
        front = [(r.p50 or 0.0, r.top1 or 0.0) for r in group if r.pareto]
        for line, runtime in enumerate(runtimes):
            ax = axes[line][column]
            mine = [r for r in group if r.shown_runtime == runtime]
            for r in mine:
                below, above = (r.top1 or 0.0) - spans[r.key][0], spans[r.key][1] - (r.top1 or 0.0)
                colour = KIND_COLOURS.get(r.compute, "grey")
                ax.errorbar(r.p50, r.top1, yerr=[[below], [above]], color=colour, elinewidth=0.8, capsize=2, zorder=2)
                ax.scatter(r.p50, r.top1, marker=marker(r.runtime), color=colour, s=50, edgecolors="black", linewidths=0.5, zorder=3)
            log_x(ax, f"p50 latency per call of {batch} (us, log scale)")
            ax.set_xlim(min(lat) / 1.4, max(lat) * 1.4)
            ax.set_ylim(low - (high - low) * 0.05, high + (high - low) * 0.05)
            step_front(ax, front, colour="grey", width=0.8)
            place_labels(ax, [(r.p50 or 0.0, r.top1 or 0.0, r.recipe) for r in mine])
            ax.set_title(f"{runtime}: {threads} thread(s), batch {batch}", fontsize=10)
            ax.set_ylabel("test top-1 (95% interval)")
            ax.grid(True, which="both", alpha=0.3)
    _legends(fig, rows)
    save_figure(fig, path)


TAIL_SHOWN = 99.9
"""The x axis ends at the slowest curve's p99.9: a few stray calls at 30x the median would squeeze every curve's body
into a corner."""
CDF_LINES = 8
"""Curves a panel holds: past about eight, colours repeat and the legend outgrows the plot."""


def _cdf_plot(rows: list[Row], latencies: dict[str, np.ndarray], path: Path) -> None:
    """Batch-1 latency distributions: a panel per runtime and thread count, at most CDF_LINES curves each (a runtime
    with more files gets more panels), each curve its own colour, the legend beside the panel, not over it."""
    plt = pyplot()
    panels = []
    for runtime in _runtimes(rows):
        for threads in sorted({r.threads or 1 for r in rows if r.shown_runtime == runtime}):
            mine = [r for r in rows if r.shown_runtime == runtime and (r.threads or 1) == threads]
            parts = range(0, len(mine), CDF_LINES)
            for i in parts:
                part = f" ({i // CDF_LINES + 1}/{len(parts)})" if len(parts) > 1 else ""
                panels.append((f"{runtime}, {threads} thread(s){part}", mine[i : i + CDF_LINES]))
    fig, axes = plt.subplots(max(1, len(panels)), 1, figsize=(10, 2.8 * max(1, len(panels))), squeeze=False)
    colours = plt.get_cmap("tab10").colors
    for ax, (title, mine) in zip(axes[:, 0], panels, strict=False):
        for colour, r in zip(colours, mine, strict=False):
            lat = np.sort(latencies[r.key])
            ax.plot(lat, np.arange(1, len(lat) + 1) / len(lat), color=colour, linewidth=1.3, label=f"{r.recipe} ({r.compute})")
        log_x(ax, "latency of one call at batch 1 (us, log scale)")
        shown = [np.percentile(latencies[r.key], [0, TAIL_SHOWN]) for r in mine]
        ax.set_xlim(min(lo for lo, _ in shown) / 1.05, max(hi for _, hi in shown) * 1.05)
        ax.set_title(f"{title}, up to the slowest curve's p{TAIL_SHOWN:g}", fontsize=10)
        ax.set_ylabel("fraction of calls")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    save_figure(fig, path)


def _legends(fig: Any, rows: list[Row]) -> None:
    from matplotlib.lines import Line2D

    runtimes = _runtimes(rows)
    kinds = [k for k in KIND_COLOURS if any(r.compute == k for r in rows)]
    handles = [Line2D([], [], marker=marker(rt), color="grey", linestyle="", markersize=8, label=rt) for rt in runtimes]
    handles += [Line2D([], [], marker="o", color=KIND_COLOURS[k], linestyle="", markersize=8, label=k) for k in kinds]
    handles.append(Line2D([], [], color="grey", linestyle="--", label="Pareto front of every runtime"))
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 6), fontsize=8, frameon=False)
