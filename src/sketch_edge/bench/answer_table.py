"""The answer as people read it: one table for the terminal's last lines and report.md's first section, and the
cells behind each row (bench.answer decides; this only words it)."""

from __future__ import annotations

from sketch_edge.bench.results import Answer, Results
from sketch_edge.reporting import fmt, markdown_table

HEADER = ("target", "ship", "us (95%)", "top-1 % (95%)", "ties")
MEASURES = {
    "p50": "p50 of the runtime's call",
    "e2e": "p50 of the predictor's whole call",
    "per-drawing": "p50 per drawing at the cell's batch",
}


def shipped(a: Answer) -> str:
    """The cell as a person names it: recipe on runtime, with threads and batch where they are not one."""
    if a.cell is None:
        return ""
    _, _, threads, batch, *denied = a.cell.split("/")
    extra = ("" if (threads, batch) == ("t1", "b1") else f" {threads} {batch}") + (" no-AMX" if denied else "")
    return f"{a.recipe} / {a.runtime}{extra}"


def _span(low_high: tuple[float, float] | None, spec: str, scale: float = 1) -> str:
    return "" if low_high is None else f"{format(low_high[0] * scale, spec)}-{format(low_high[1] * scale, spec)}"


def rows(answers: tuple[Answer, ...]) -> list[list[str]]:
    table = []
    for a in answers:
        if a.cell is None:
            table.append([a.target, f"none: {a.note}", "", "", ""])
            continue
        table.append(
            [
                a.target,
                shipped(a),
                f"{fmt(a.us, '.1f')}{' !' if a.noisy else ''} ({_span(a.us_interval, '.1f')})",
                f"{fmt(a.top1 and 100 * a.top1, '.1f')} ({_span(a.top1_interval, '.1f', 100)})",
                f"{len(a.same_accuracy)}/{len(a.same_latency)} of {a.candidates - 1}" if a.candidates > 1 else "alone",
            ]
        )
    return table


def details(answers: tuple[Answer, ...]) -> list[str]:
    """Per target, a paragraph: what its figure is, how this machine stands for it, and the cells it cannot be told
    apart from."""
    lines = []
    for a in answers:
        if a.cell is None:
            continue
        said = [f"**{a.target}**, {a.description}: `{a.cell}`, {MEASURES.get(a.measure, a.measure)} {fmt(a.us, '.1f')} us"]
        if a.per_s is not None and a.measure == "per-drawing":
            said.append(f"{a.per_s:,.0f} drawings per second")
        if a.note:
            said.append(a.note)
        lines.append("; ".join(said) + ".")
        lines.append(f"As accurate: {', '.join(f'`{k}`' for k in a.same_accuracy) or 'no other cell'}.")
        lines.append(f"As fast: {', '.join(f'`{k}`' for k in a.same_latency) or 'no other cell'}.")
        lines.append("")
    return lines


def explanation(results: Results) -> str:
    """How the table was decided, in one paragraph (bench.answer has the why)."""
    rounds = (
        f"the range of the {results.settings.repeat} rounds' p50s"
        if results.settings.repeat > 1
        else "the median's 95% interval over one process's calls (`--repeat 3` measures the wider spread across processes)"
    )
    return (
        f"For each target, the fastest file whose test top-1 cannot be told apart from the target's most accurate "
        f"(McNemar at two sigma on the {results.test_samples:,} test drawings, as the export gate tests). `top-1 %`: "
        f"its 95% Wilson interval. `us`: {rounds}. `ties` A/B of N: of the target's N other cells, A cannot be told "
        f"apart from it in top-1 and B have a `us` interval that overlaps its own (named below). `!`: timed while "
        f"other processes were busy."
    )


def section(results: Results) -> list[str]:
    """report.md's first section: the table, how it was decided, and the cells behind each answer."""
    if not results.answers:
        return []
    return [
        "## Which file to ship",
        "",
        *markdown_table(HEADER, rows(results.answers)),
        "",
        explanation(results),
        "",
        *details(results.answers),
    ]
