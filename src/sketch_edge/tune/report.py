"""Tune outputs: results.json / results.csv, report.md and the Pareto plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sketch_edge import fileio
from sketch_edge.layout import REPORT, RESULTS, RESULTS_CSV
from sketch_edge.reporting import fmt, log_x, markdown_table, place_labels, pyplot, save_figure, step_front
from sketch_edge.tune.results import TuneResults, TuneRow

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


def _space_values(row: TuneRow) -> str:
    return ", ".join(f"{k}={v}" for k, v in row.values.items())


def table_rows(summary: TuneResults) -> list[list[str]]:
    def cell(r: TuneRow) -> list[str]:
        result = r.result
        best = result.best if result else None
        front = "yes" if r.pareto else ""
        if summary.recommended.number == r.number:
            front = "recommended"
        return [
            str(r.number),
            r.status + (" (resumed)" if r.resumed else ""),
            _space_values(r),
            fmt(result and result.val_top1, ".4f", "-"),
            fmt(result and result.test_top1, ".4f", "-"),
            fmt(best and best.top1, ".4f", "-"),
            fmt(result and result.parameters, ",", "-"),
            fmt(result and result.macs, ",", "-"),
            fmt(best and best.p50_us, ".1f", "-"),
            fmt(best and best.floor_us, ".1f", "-"),
            fmt(best and best.floor_ratio, ".2f", "-"),
            fmt(result and result.train_seconds, ".0f", "-"),
            fmt(result.seconds.get("total") if result else None, ".0f", "-"),
            front,
            r.reason or "",
        ]

    return [cell(r) for r in summary.candidates]


def write_all(summary: TuneResults, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    summary.save(out / RESULTS)
    fileio.write_csv(out / RESULTS_CSV, COLUMNS, table_rows(summary))
    ok = [r for r in summary.candidates if r.status == "ok" and r.p50_us is not None]
    if ok:
        _plot(summary, ok, out / "pareto.png")
    fileio.write_text(out / REPORT, markdown(summary, bool(ok)))


def markdown(summary: TuneResults, plotted: bool) -> str:
    env, settings, rec = summary.environment, summary.settings, summary.recommended
    counts = ", ".join(f"{n} {status}" for status, n in summary.counts.items() if n)
    resumed = sum(r.resumed for r in summary.candidates)
    counts += f"; {resumed} of them finished by an earlier run and read back" if resumed else ""
    peaks = [
        r.result.best.peak_gops for r in summary.candidates if r.status == "ok" and r.result and r.result.best and r.result.best.peak_gops
    ]
    peak_text = f" Its int8 GEMM peak, measured with each candidate: {min(peaks):.0f}-{max(peaks):.0f} GOP/s." if peaks else ""
    budget = f" within {settings['max_p50_us']:g} us" if settings["max_p50_us"] is not None else ""
    teaching = settings.get("teaching")
    taught = "".join(f" --teacher '{t}'" for t in teaching["teachers"]) if teaching else ""
    if teaching:
        taught += f" --temperature {teaching['temperature']:g} --mix {teaching['mix']:g}"
        taught += " --consistent" if teaching.get("consistent") else ""
    if rec.number is not None:
        advice = (
            f"**Recommended{budget}: #{rec.number}**, validation top-1 {rec.val_top1:.4f} (test {rec.test_top1:.4f}), "
            f"{rec.recipe} p50 {rec.p50_us:.1f} us ({fmt(rec.floor_ratio, '.2f', '-')}x its floor). "
            f"Train it again with `sketch-edge train --model '{rec.model}'{taught}`."
        )
    else:
        advice = f"**No recommendation{budget}**: {rec.reason}."
    lines = [
        "# Tune report",
        "",
        f"Target: {settings['target']}, int8, batch 1, one thread. Budget {settings['budget_minutes']:g} min; "
        f"took {summary.seconds:.0f} s. Candidates: {counts}; a space of {settings['space']['size']:,} "
        f"{settings['space']['family']} models. Data: {settings['data']['source']}.",
        f"Machine: {env.cpu}, {env.cores} cores, flags {' '.join(env.cpu_flags)}.{peak_text}",
        *([_teaching_line(teaching)] if teaching else []),
        "",
        advice,
        "",
        "The front and the recommendation go by validation top-1; test top-1 is reported, never used to choose. "
        "`x floor`: p50 over the floor, MACs x 2 / the target runtime's measured int8 GEMM peak (one thread): "
        "how close the model runs to what its arithmetic needs.",
        "",
        *markdown_table(list(COLUMNS), table_rows(summary)),
        "",
    ]
    if plotted:
        lines += ["![int8 p50 against validation top-1 of every finished candidate](pareto.png)", ""]
    return "\n".join(lines)


def _teaching_line(teaching: dict[str, Any]) -> str:
    teachers = ", ".join(f"`{t}`" for t in teaching["teachers"])
    return (
        f"Every candidate was distilled from {len(teaching['teachers'])} teacher(s), {teachers}: the loss mixes the labels with the "
        f"teachers' averaged probabilities at temperature {teaching['temperature']:g}, mix {teaching['mix']:g}"
        f"{', the teachers run on each augmented batch (consistent)' if teaching.get('consistent') else ''}"
        " (each candidate's train_report.json names its teachers with their test top-1 and sha256)."
    )


def _plot(summary: TuneResults, ok: list[TuneRow], path: Path) -> None:
    plt = pyplot()
    points = [(r.p50_us or 0.0, r.result.val_top1 or 0.0 if r.result else 0.0) for r in ok]
    fig, ax = plt.subplots(figsize=(9, 6))
    for r, (x, y) in zip(ok, points, strict=True):
        ax.scatter(x, y, s=50, color="tab:blue" if r.pareto else "lightgrey", edgecolors="black", linewidths=0.5, zorder=3)
    rec, budget = summary.recommended.number, summary.settings["max_p50_us"]
    log_x(ax, f"int8 p50 latency, batch 1, one thread, {summary.settings['target']} (us, log scale)")
    xs = [x for x, _ in points] + ([budget] if budget else [])
    ax.set_xlim(min(xs) / 1.3, max(xs) * 1.3)
    step_front(ax, [p for r, p in zip(ok, points, strict=True) if r.pareto], width=1.5)
    if budget:
        ax.axvline(budget, color="tab:red", linestyle=":", label=f"--max-p50-us {budget:g}")
    for r, (x, y) in zip(ok, points, strict=True):
        if r.number == rec:
            ax.scatter(x, y, s=220, facecolors="none", edgecolors="tab:red", linewidths=2, zorder=4, label=f"recommended (#{rec})")
    place_labels(ax, [(x, y, f"#{r.number}") for r, (x, y) in zip(ok, points, strict=True)])
    ax.set_ylabel("validation top-1")
    ax.set_title("Candidates (blue: Pareto front, dashed); numbers are the report's rows", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    if rec or budget:
        ax.legend(loc="lower right", fontsize=8)
    save_figure(fig, path)
