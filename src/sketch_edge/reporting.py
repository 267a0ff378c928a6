"""How every stage shows its figures: one table for the terminal and Markdown, and the plot helpers.

The bench, compare, export and tune each build (header, rows) of text once; this
module prints them (rich, every cell made safe with `display.markup`) or writes
them as Markdown, and draws the accuracy-latency plots the same way everywhere:
a log latency axis with plain ticks, the Pareto front as a step line, every point
named without overlap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sketch_edge import fileio
from sketch_edge.display import markup

Point = tuple[float, float]  # (p50 latency in us, top-1)


Progress = Callable[[int, int, str], None]
"""(steps done, steps in all, what the last one was): a long stage's progress, which the CLI prints as it comes."""


WIDEST_CELL = 24
"""A column is given at most this many characters when tables are laid out; a longer cell wraps inside it."""


def print_table(header: Sequence[str], rows: Sequence[Sequence[Any]], title: str, keys: int = 1) -> None:
    """Rich tables on the terminal, as wide as it is (80 columns when output is not a terminal): the columns that do
    not fit go to a further table, each repeating the first `keys` columns, so no cell is cut or wrapped mid-figure."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for number, group in enumerate(column_groups(header, rows, console.width, keys)):
        shown = title if number == 0 else f"{title} (continued)"
        table = Table(title=markup(shown) if shown else None)
        for i in group:
            table.add_column(header[i], overflow="fold")  # a long name wraps; it is never cut to "…"
        for row in rows:
            table.add_row(*(markup(str(row[i])) for i in group))
        console.print(table)


def column_groups(header: Sequence[str], rows: Sequence[Sequence[Any]], width: int, keys: int = 1) -> list[list[int]]:
    """The columns of each table, in order: the first `keys` in every one, the rest packed while they fit `width`
    (a rich table's column takes its content plus 3 characters of padding and rule)."""

    def needs(i: int) -> int:
        widest = max([len(str(header[i])), *(len(str(row[i])) for row in rows)])
        return min(widest, WIDEST_CELL) + 3

    fixed = list(range(min(keys, len(header))))
    groups: list[list[int]] = []
    used = 1 + sum(needs(i) for i in fixed)
    current: list[int] = []
    for i in range(len(fixed), len(header)):
        if current and used + needs(i) > width:
            groups.append(fixed + current)
            current, used = [], 1 + sum(needs(j) for j in fixed)
        current.append(i)
        used += needs(i)
    return [*groups, fixed + current]


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """The lines of a Markdown table (a `|` inside a cell is shown as `/`)."""
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(str(cell).replace("|", "/") for cell in row) + " |" for row in rows),
    ]


def fmt(value: Any, spec: str = "", empty: str = "") -> str:
    """A figure for a table cell; `empty` where it was not measured."""
    return empty if value is None else format(value, spec)


def step_front(ax: Any, front: Sequence[Point], colour: Any = "black", width: float = 1, style: str = "--") -> None:
    """The Pareto front as a step line; it dominates everything right of and below it, so it runs to the right edge."""
    ordered = sorted(front)
    if ordered:
        xs = [x for x, _ in ordered] + [ax.get_xlim()[1]]
        ys = [y for _, y in ordered] + [ordered[-1][1]]
        ax.step(xs, ys, where="post", color=colour, linewidth=width, linestyle=style, zorder=2)


def log_x(ax: Any, label: str) -> None:
    """A log latency axis with plain numbers on its ticks (30, 40, 60, 100, 20,000), not powers of ten."""
    from matplotlib.ticker import LogFormatter

    class Plain(LogFormatter):  # LogFormatter picks which ticks to label; this writes 20,000 where it wrote 2e+04
        def _num_to_string(self, x: float, vmin: float, vmax: float) -> str:
            return f"{x:,.0f}" if x >= 1 else f"{x:g}"

    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(Plain(labelOnlyBase=False, minor_thresholds=(3, 1)))
    ax.xaxis.set_minor_formatter(Plain(labelOnlyBase=False, minor_thresholds=(3, 1)))
    ax.tick_params(axis="x", which="minor", labelsize=7)
    ax.set_xlabel(label)


_OFFSETS = [(side * 7, dy) for step in range(10) for dy in (5 + 11 * step, -12 - 11 * step) for side in (1, -1)]
"""Label positions tried in turn, in points: right and left of the point, further up and down at each step."""


def place_labels(ax: Any, points: Sequence[tuple[float, float, str]]) -> None:
    """Name each (x, y, text) point at the first offset whose text box overlaps no label or point placed before
    (in pixels)."""
    fig = ax.figure
    to_px = ax.transData.transform
    pixels = [to_px((x, y)) for x, y, _ in points]
    taken = [(px - 6, py - 6, px + 6, py + 6) for px, py in pixels]
    scale = fig.dpi / 72
    for (x, y, text), (px, py) in sorted(zip(points, pixels, strict=True), key=lambda item: item[1][0]):
        width, height = 4.3 * len(text) * scale, 9 * scale
        for dx, dy in _OFFSETS:
            left = px + dx * scale if dx > 0 else px + dx * scale - width
            box = (left, py + dy * scale, left + width, py + dy * scale + height)
            if not any(box[0] < t[2] and t[0] < box[2] and box[1] < t[3] and t[1] < box[3] for t in taken):
                break
        taken.append(box)
        ax.annotate(
            text,
            (x, y),
            textcoords="offset points",
            xytext=(dx, dy),
            fontsize=7,
            ha="left" if dx > 0 else "right",
            arrowprops={"arrowstyle": "-", "color": "grey", "linewidth": 0.5},
        )


def save_figure(fig: Any, path: Path) -> None:
    """Written to a temporary file and renamed: a plot is never half-written."""
    import matplotlib.pyplot as plt

    fig.tight_layout(rect=(0, 0.06, 1, 1))
    with fileio.atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend (no display, any machine)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
