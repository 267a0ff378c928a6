"""`sketch-edge compare`: several models' bench results on one table and one accuracy-latency plot.

Each artifacts folder holds one trained model (a bitmap or a stroke model) and its
`bench/results.json`. Rows compare only on the same test drawings, so every results
file must name the same ones (`source.test_drawings`: the source and the test
positions, whatever the input encoding); anything else is a one-line error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sketch_edge import fileio
from sketch_edge.bench import results_file
from sketch_edge.bench.report import RUNTIME_MARKERS, log_x, place_labels, save_figure, step_front, write_table
from sketch_edge.bench.stage import mark_pareto
from sketch_edge.errors import BenchError
from sketch_edge.layout import Layout
from sketch_edge.models import short_name

COLUMNS = ("model", "input", "recipe", "runtime", "compute", "kB", "top-1", "p50 us", "peak %", "RSS MB", "front")


def load_results(folders: list[Path]) -> list[dict[str, Any]]:
    """Each folder's bench results, checked to be of different models on the same test drawings."""
    if len(folders) < 2:
        raise BenchError("compare needs at least two artifacts folders, each benched (`make bench ARTIFACTS=...`)")
    loaded = []
    for folder in folders:
        path = Layout(folder).bench / "results.json"
        if not path.is_file():
            raise BenchError(f"{path}: no bench results here (run `sketch-edge bench --artifacts {folder}`)")
        results = results_file.read(path)
        drawings, model = results["source"]["test_drawings"], results["source"]["model"]
        if loaded and drawings != loaded[0]["source"]["test_drawings"]:
            raise BenchError(
                f"{path}: {model} was tested on other drawings than {loaded[0]['source']['model']} in {folders[0]}; "
                "train both on the same --data, classes, per-class and seed"
            )
        loaded.append(results)
    return loaded


def rows(loaded: list[dict[str, Any]], threads: int, batch: int) -> list[dict[str, Any]]:
    """Every model's measured cells at (threads, batch), marked with the Pareto front across all of them."""
    out = []
    for results in loaded:
        source = results["source"]
        for r in results["results"]:
            if r["status"] in ("ok", "low-accuracy") and r["threads"] == threads and r["batch"] == batch:
                out.append(r | {"model": short_name(source["model"]), "input_kind": source.get("input_kind", "bitmap")})
    mark_pareto(out)  # only ok cells can be on it
    return sorted(out, key=lambda r: (r["latency_us"]["p50"], -r["top1"]))


def compare(folders: list[Path], out: Path, threads: int = 1, batch: int = 1) -> dict[str, Any]:
    """Write compare.json, compare.md and compare.png to `out`; return what compare.json holds."""
    loaded = load_results(folders)
    table = rows(loaded, threads, batch)
    if not table:
        raise BenchError(f"no cell at {threads} thread(s), batch {batch} in any of the results (bench with --threads/--batches)")
    summary = {
        "threads": threads,
        "batch": batch,
        "test_samples": loaded[0]["test_samples"],
        "models": [
            {"folder": str(f), **{k: r["source"][k] for k in ("model", "input_kind", "macs", "keras_test_top1")}}
            for f, r in zip(folders, loaded, strict=True)
        ],
        "environments": sorted({json.dumps({k: r["environment"][k] for k in ("cpu", "cpu_flags", "cores")}) for r in loaded}),
        "rows": [
            {
                k: r.get(k)
                for k in (
                    "model",
                    "input_kind",
                    "recipe",
                    "runtime",
                    "compute",
                    "bytes",
                    "top1",
                    "latency_us",
                    "peak_fraction",
                    "peak_rss_mb",
                    "status",
                    "pareto",
                )
            }
            for r in table
        ],
    }
    out.mkdir(parents=True, exist_ok=True)
    fileio.write_json(out / "compare.json", summary)
    _plot(table, out / "compare.png", threads, batch)
    fileio.write_text(out / "compare.md", markdown(summary, loaded))
    return summary


def table_rows(summary: dict[str, Any]) -> list[list[str]]:
    def cell(r: dict[str, Any]) -> list[str]:
        peak = f"{100 * r['peak_fraction']:.1f}" if r["peak_fraction"] else "-"
        rss = f"{r['peak_rss_mb']:.0f}" if r["peak_rss_mb"] else "-"
        status = "yes" if r["pareto"] else ("" if r["status"] == "ok" else r["status"])
        return [
            r["model"],
            r["input_kind"],
            r["recipe"],
            r["runtime"],
            r["compute"],
            f"{r['bytes'] / 1024:.0f}",
            f"{r['top1']:.4f}",
            f"{r['latency_us']['p50']:.1f}",
            peak,
            rss,
            status,
        ]

    return [cell(r) for r in summary["rows"]]


def markdown(summary: dict[str, Any], loaded: list[dict[str, Any]]) -> str:
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
        *write_table(list(COLUMNS), table_rows(summary)),
        "",
        "![p50 latency against test top-1, every model](compare.png)",
        "",
    ]
    return "\n".join(lines)


def _plot(table: list[dict[str, Any]], path: Path, threads: int, batch: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = list(dict.fromkeys(r["model"] for r in table))
    colours = {m: plt.get_cmap("tab10")(i % 10) for i, m in enumerate(models)}
    fig, ax = plt.subplots(figsize=(10, 6.5))
    for r in table:
        ax.scatter(
            r["latency_us"]["p50"],
            r["top1"],
            marker=RUNTIME_MARKERS.get(r["runtime"], "x"),
            color=colours[r["model"]],
            s=60,
            edgecolors="black",
            linewidths=0.5,
            zorder=3,
        )
    log_x(ax, f"p50 latency, {threads} thread(s), batch {batch} (us, log scale)")
    ax.set_xlim(min(r["latency_us"]["p50"] for r in table) / 1.5, max(r["latency_us"]["p50"] for r in table) * 1.5)
    named = [r for r in table if r.get("pareto")]
    for model in models:  # each model's own front, thin, in its colour (marked on copies: the rows keep the joint front)
        rows_of_model = [r for r in table if r["model"] == model]
        own = [dict(r) for r in rows_of_model]
        mark_pareto(own)
        front = [r for r, mine in zip(rows_of_model, own, strict=True) if mine["pareto"]]
        step_front(ax, front, colour=colours[model], style=":")
        named += [r for r in front if not r["pareto"]]  # the joint front's points are named already
    step_front(ax, [r for r in table if r.get("pareto")], width=1.5)
    # Only the points on a front are named: with every model's every cell the names would cover the plot; compare.md lists all.
    place_labels(ax, named, lambda r: f"{r['model']} {r['recipe']} ({r['runtime']})")
    ax.set_ylabel("test top-1")
    ax.set_title("dashed: Pareto front of all models; dotted: each model's own (front points named)", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], marker="o", color=colours[m], linestyle="", label=m) for m in models]
    handles += [
        Line2D([], [], marker=RUNTIME_MARKERS.get(rt, "x"), color="grey", linestyle="", label=rt)
        for rt in sorted({r["runtime"] for r in table})
    ]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8, frameon=False)
    save_figure(fig, path)
