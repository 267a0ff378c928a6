"""A user's CI gates on a bench (exit 3), and whether the bench ran whole (exit 4)."""

from __future__ import annotations

from collections.abc import Iterable

from sketch_edge.bench.results import Results, Row
from sketch_edge.errors import GateError, IncompleteError


def check_gates(results: Results, min_top1: float | None, max_p50_us: dict[str, float]) -> None:
    """A user's CI gate: every cell at least `min_top1`, every batch-1 cell of a recipe at most its p50 limit."""
    failures = []
    if min_top1 is not None:
        for r in results.results:
            if r.top1 is None or r.top1 < min_top1:
                shown = "no top-1 (the cell failed)" if r.top1 is None else f"top-1 {r.top1:.4f}"
                failures.append(f"{r.key}: {shown} < {min_top1}")
    for recipe, limit in max_p50_us.items():
        cells = [r for r in results.results if r.recipe == recipe and r.batch in (1, None)]
        if not cells:
            failures.append(f"{recipe}: no batch-1 cell was benched, so its p50 limit cannot be checked")
        for r in cells:
            if r.p50 is None or r.p50 > limit:
                shown = "no p50 (the cell failed)" if r.p50 is None else f"p50 {r.p50:.1f} us"
                failures.append(f"{r.key}: {shown} > {limit:g} us")
    if failures:
        raise GateError(f"{len(failures)} gate(s) failed: " + "; ".join(failures))


def check_complete(rows: Iterable[Row]) -> None:
    """Exit status 4 when some cells did not run (a failed export, a changed file, a crash): not a clean success."""
    failed = [r for r in rows if r.status == "failed"]
    if failed:
        shown = "; ".join(f"{r.key}: {r.error}" for r in failed[:5])
        raise IncompleteError(f"{len(failed)} cell(s) did not run: {shown}" + (" ..." if len(failed) > 5 else ""))
