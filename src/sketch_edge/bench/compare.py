"""`sketch-edge compare`: several models' bench results on one table and one accuracy-latency plot.

Each artifacts folder holds one trained model (a bitmap or a stroke model) and its
`bench/results.json`. Rows compare only on the same test drawings, so every results
file must name the same ones (`source.test_drawings`: the source and the test
positions, whatever the input encoding); anything else is a one-line error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sketch_edge import fileio
from sketch_edge.bench.derive import pareto_front
from sketch_edge.bench.plots import marker
from sketch_edge.bench.results import Results, Row, read
from sketch_edge.errors import BenchError
from sketch_edge.layout import RESULTS, Layout
from sketch_edge.models import short_name
from sketch_edge.reporting import log_x, markdown_table, place_labels, pyplot, save_figure, step_front

COLUMNS = ("model", "input", "recipe", "runtime", "compute", "KiB", "top-1", "p50 us", "peak %", "RSS MiB", "front")


@dataclass(frozen=True)
class Compared:
    """A measured cell of one model, and whether it is on the front of all the models together."""

    model: str
    input_kind: str
    row: Row
    pareto: bool = False

    @property
    def point(self) -> tuple[float, float]:
        return (self.row.p50 or 0.0, self.row.top1 or 0.0)


def load_results(folders: list[Path]) -> list[Results]:
    """Each folder's bench results, checked to be of different models on the same test drawings."""
    if len(folders) < 2:
        raise BenchError("compare needs at least two artifacts folders, each benched (`make bench ARTIFACTS=...`)")
    loaded: list[Results] = []
    for folder in folders:
        path = Layout(folder).bench / RESULTS
        if not path.is_file():
            raise BenchError(f"{path}: no bench results here (run `sketch-edge bench --artifacts {folder}`)")
        results = read(path)
        if loaded and results.source.test_drawings != loaded[0].source.test_drawings:
            raise BenchError(
                f"{path}: {results.source.model} was tested on other drawings than {loaded[0].source.model} in {folders[0]}; "
                "train both on the same --data, classes, per-class and seed"
            )
        loaded.append(results)
    return loaded


def with_front(rows: list[Compared]) -> list[Compared]:
    """The rows, each ok one marked when no other is at least as fast and as accurate and better in one."""
    ok = [i for i, c in enumerate(rows) if c.row.status == "ok"]  # only ok cells can be on it
    front = pareto_front([(None, *rows[i].point) for i in ok])
    on = {i for i, f in zip(ok, front, strict=True) if f}
    return [replace(c, pareto=i in on) for i, c in enumerate(rows)]


def rows(loaded: list[Results], threads: int, batch: int) -> list[Compared]:
    """Every model's measured cells at (threads, batch), marked with the Pareto front across all of them."""
    out = [
        Compared(short_name(results.source.model), results.source.input_kind, r)
        for results in loaded
        for r in results.results
        if r.measured and r.threads == threads and r.batch == batch
    ]
    return sorted(with_front(out), key=lambda c: (c.point[0], -c.point[1]))


def compare(folders: list[Path], out: Path, threads: int = 1, batch: int = 1) -> dict[str, Any]:
    """Write compare.json, compare.md and compare.png to `out`; return what compare.json holds."""
    loaded = load_results(folders)
    table = rows(loaded, threads, batch)
    if not table:
        raise BenchError(f"no cell at {threads} thread(s), batch {batch} in any of the results (bench with --threads/--batches)")
    fields = ("recipe", "runtime", "compute", "bytes", "top1", "latency_us", "peak_fraction", "peak_rss_mb", "status")
    summary = {
        "threads": threads,
        "batch": batch,
        "test_samples": loaded[0].test_samples,
        "models": [
            {
                "folder": str(f),
                "model": r.source.model,
                "input_kind": r.source.input_kind,
                "macs": r.source.macs,
                "keras_test_top1": r.source.keras_test_top1,
            }
            for f, r in zip(folders, loaded, strict=True)
        ],
        "environments": sorted(
            {
                json.dumps({"cpu": r.environment.cpu, "cpu_flags": list(r.environment.cpu_flags), "cores": r.environment.cores})
                for r in loaded
            }
        ),
        "rows": [
            {"model": c.model, "input_kind": c.input_kind, **{k: c.row.to_json()[k] for k in fields}, "pareto": c.pareto} for c in table
        ],
    }
    out.mkdir(parents=True, exist_ok=True)
    fileio.write_json(out / "compare.json", summary)
    _plot(table, out / "compare.png", threads, batch)
    fileio.write_text(out / "compare.md", markdown(summary))
    return summary


def table_rows(summary: dict[str, Any]) -> list[list[str]]:
    def cell(r: dict[str, Any]) -> list[str]:
        peak = f"{100 * r['peak_fraction']:.1f}" if r["peak_fraction"] else "-"
        rss = f"{r['peak_rss_mb']:.0f}" if r["peak_rss_mb"] else "-"
        status = "yes" if r["pareto"] else ("" if r["status"] == "ok" else r["status"])
        size = f"{r['bytes'] / 1024:.0f}" if r["bytes"] else "-"
        cells = [r["model"], r["input_kind"], r["recipe"], r["runtime"], r["compute"], size, f"{r['top1']:.4f}"]
        return [*cells, f"{r['latency_us']['p50']:.1f}", peak, rss, status]

    return [cell(r) for r in summary["rows"]]


def markdown(summary: dict[str, Any]) -> str:
    models = ", ".join(
        f"{m['model']} ({m['input_kind']}, Keras top-1 {m['keras_test_top1']:.4f}, {m['macs'] or 0:,} MACs)" for m in summary["models"]
    )
    machines = "; ".join(
        f"{e['cpu']}, {e['cores']} cores, flags {' '.join(e['cpu_flags'])}" for e in map(json.loads, summary["environments"])
    )
    if len(summary["environments"]) > 1:
        machines += ". Results from different machines: compare ratios, not times"
    lines = [
        "# Models compared on the same test drawings",
        "",
        f"{summary['test_samples']} test drawings; {summary['threads']} thread(s), batch {summary['batch']}. Models: {models}.",
        f"Machine(s): {machines}.",
        "",
        "`front`: on the accuracy-latency Pareto front of all the models together.",
        "",
        *markdown_table(list(COLUMNS), table_rows(summary)),
        "",
        "![p50 latency against test top-1, every model](compare.png)",
        "",
    ]
    return "\n".join(lines)


def _plot(table: list[Compared], path: Path, threads: int, batch: int) -> None:
    plt = pyplot()
    models = list(dict.fromkeys(c.model for c in table))
    colours = {m: plt.get_cmap("tab10")(i % 10) for i, m in enumerate(models)}
    fig, ax = plt.subplots(figsize=(10, 6.5))
    for c in table:
        ax.scatter(*c.point, marker=marker(c.row.runtime), color=colours[c.model], s=60, edgecolors="black", linewidths=0.5, zorder=3)
    log_x(ax, f"p50 latency, {threads} thread(s), batch {batch} (us, log scale)")
    ax.set_xlim(min(c.point[0] for c in table) / 1.5, max(c.point[0] for c in table) * 1.5)
    named = [c for c in table if c.pareto]
    for model in models:  # each model's own front, thin, in its colour (marked on copies: the rows keep the joint front)
        of_model = [c for c in table if c.model == model]
        front = [c for c, mine in zip(of_model, with_front(of_model), strict=True) if mine.pareto]
        step_front(ax, [c.point for c in front], colour=colours[model], style=":")
        named += [c for c in front if not c.pareto]  # the joint front's points are named already
    step_front(ax, [c.point for c in table if c.pareto], width=1.5)
    # Only the points on a front are named: with every model's every cell the names would cover the plot; compare.md lists all.
    place_labels(ax, [(*c.point, f"{c.model} {c.row.recipe} ({c.row.runtime})") for c in named])
    ax.set_ylabel("test top-1")
    ax.set_title("dashed: Pareto front of all models; dotted: each model's own (front points named)", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], marker="o", color=colours[m], linestyle="", label=m) for m in models]
    handles += [Line2D([], [], marker=marker(rt), color="grey", linestyle="", label=rt) for rt in sorted({c.row.runtime for c in table})]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8, frameon=False)
    save_figure(fig, path)
