"""Tune outputs: results.json / results.csv, report.md and the Pareto plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sketch_edge import fileio
from sketch_edge.bench.report import log_x, place_labels, save_figure, step_front, write_table
from sketch_edge.tune.stage import point

COLUMNS = (
    "#",
    "status",
    "parameters (of the space)",
    "val top-1",
    "test top-1",
    "int8 top-1",
    "params",
    "MACs",
    "int8 p50 us",
    "floor us",
    "x floor",
    "train s",
    "total s",
    "front",
    "reason",
)


def _space_values(row: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in row["values"].items())


def _fmt(value: Any, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def table_rows(summary: dict[str, Any]) -> list[list[str]]:
    def cell(r: dict[str, Any]) -> list[str]:
        best = r.get("best") or {}
        front = "yes" if r.get("pareto") else ""
        if summary["recommended"].get("number") == r["number"]:
            front = "recommended"
        return [
            str(r["number"]),
            r["status"] + (" (resumed)" if r.get("resumed") else ""),
            _space_values(r),
            _fmt(r.get("val_top1"), ".4f"),
            _fmt(r.get("test_top1"), ".4f"),
            _fmt(best.get("top1"), ".4f"),
            _fmt(r.get("parameters"), ","),
            _fmt(r.get("macs"), ","),
            _fmt(best.get("p50_us"), ".1f"),
            _fmt(best.get("floor_us"), ".1f"),
            _fmt(best.get("floor_ratio"), ".2f"),
            _fmt(r.get("train_seconds"), ".0f"),
            _fmt(r.get("seconds", {}).get("total"), ".0f"),
            front,
            r.get("reason") or "",
        ]

    return [cell(r) for r in summary["candidates"]]


def write_all(summary: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    fileio.write_json(out / "results.json", summary)
    fileio.write_csv(out / "results.csv", COLUMNS, table_rows(summary))
    ok = [r for r in summary["candidates"] if r["status"] == "ok"]
    if ok:
        _plot(summary, ok, out / "pareto.png")
    fileio.write_text(out / "report.md", markdown(summary, bool(ok)))


def markdown(summary: dict[str, Any], plotted: bool) -> str:
    env, settings, rec = summary["environment"], summary["settings"], summary["recommended"]
    counts = ", ".join(f"{n} {status}" for status, n in summary["counts"].items() if n)
    resumed = sum(bool(r.get("resumed")) for r in summary["candidates"])
    counts += f"; {resumed} of them finished by an earlier run and read back" if resumed else ""
    peaks = [r["best"]["peak_gops"] for r in summary["candidates"] if r["status"] == "ok" and r["best"].get("peak_gops")]
    peak_text = f" Its int8 GEMM peak, measured with each candidate: {min(peaks):.0f}-{max(peaks):.0f} GOP/s." if peaks else ""
    budget = f" within {settings['max_p50_us']:g} us" if settings["max_p50_us"] is not None else ""
    if rec.get("number") is not None:
        advice = (
            f"**Recommended{budget}: #{rec['number']}**, validation top-1 {rec['val_top1']:.4f} (test {rec['test_top1']:.4f}), "
            f"{rec['recipe']} p50 {rec['p50_us']:.1f} us ({_fmt(rec['floor_ratio'], '.2f')}x its floor). "
            f"Train it again with `sketch-edge train --model '{rec['model']}'`."
        )
    else:
        advice = f"**No recommendation{budget}**: {rec['reason']}."
    lines = [
        "# Tune report",
        "",
        f"Target: {settings['target']}, int8, batch 1, one thread. Budget {settings['budget_minutes']:g} min; "
        f"took {summary['seconds']:.0f} s. Candidates: {counts}; a space of {settings['space']['size']:,} "
        f"{settings['space']['family']} models. Data: {settings['data']['source']}.",
        f"Machine: {env['cpu']}, {env['cores']} cores, flags {' '.join(env['cpu_flags'])}.{peak_text}",
        "",
        advice,
        "",
        "The front and the recommendation go by validation top-1; test top-1 is reported, never used to choose. "
        "`x floor`: p50 over the floor, MACs x 2 / the target runtime's measured int8 GEMM peak (one thread): "
        "how close the model runs to what its arithmetic needs.",
        "",
        *write_table(list(COLUMNS), table_rows(summary)),
        "",
    ]
    if plotted:
        lines += ["![int8 p50 against validation top-1 of every finished candidate](pareto.png)", ""]
    return "\n".join(lines)


def _plot(summary: dict[str, Any], ok: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = [point(r) | {"number": r["number"], "pareto": r["pareto"]} for r in ok]
    fig, ax = plt.subplots(figsize=(9, 6))
    for p in points:
        ax.scatter(
            p["latency_us"]["p50"],
            p["top1"],
            s=50,
            color="tab:blue" if p["pareto"] else "lightgrey",
            edgecolors="black",
            linewidths=0.5,
            zorder=3,
        )
    rec, budget = summary["recommended"].get("number"), summary["settings"]["max_p50_us"]
    log_x(ax, f"int8 p50 latency, batch 1, one thread, {summary['settings']['target']} (us, log scale)")
    xs = [p["latency_us"]["p50"] for p in points] + ([budget] if budget else [])
    ax.set_xlim(min(xs) / 1.3, max(xs) * 1.3)
    step_front(ax, [p for p in points if p["pareto"]], width=1.5)
    if budget:
        ax.axvline(budget, color="tab:red", linestyle=":", label=f"--max-p50-us {budget:g}")
    for p in points:
        if p["number"] == rec:
            ax.scatter(
                p["latency_us"]["p50"],
                p["top1"],
                s=220,
                facecolors="none",
                edgecolors="tab:red",
                linewidths=2,
                zorder=4,
                label=f"recommended (#{rec})",
            )
    place_labels(ax, points, lambda p: f"#{p['number']}")
    ax.set_ylabel("validation top-1")
    ax.set_title("Candidates (blue: Pareto front, dashed); numbers are the report's rows", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    if rec or budget:
        ax.legend(loc="lower right", fontsize=8)
    save_figure(fig, path)
