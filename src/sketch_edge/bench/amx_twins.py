"""report.md's AMX section: each cell run with AMX and with it denied to its process (bench.plan.amx_twins), side by
side, so the report says what AMX does to each runtime on this CPU, and not only which cell the answer took."""

from __future__ import annotations

from sketch_edge.bench.plan import AMX_DENIED_KEY
from sketch_edge.bench.results import Results
from sketch_edge.reporting import fmt, markdown_table


def pairs(results: Results) -> list[list[str]]:
    """(recipe, runtime, p50 with AMX, p50 denied, denied / with) for every measured twin pair."""
    by_key = {r.key: r for r in results.results if r.measured}
    found = []
    for key, denied in by_key.items():
        alone = by_key.get(key.removesuffix(AMX_DENIED_KEY)) if denied.amx_denied else None
        if alone is None or not alone.p50 or not denied.p50:
            continue
        found.append([denied.recipe, denied.runtime, fmt(alone.p50, ".1f"), fmt(denied.p50, ".1f"), f"{denied.p50 / alone.p50:.2f}x"])
    return found


def amx_section(results: Results) -> list[str]:
    rows = pairs(results)
    if not rows:
        return []
    has = "amx_int8" in results.environment.cpu_flags
    said = "This CPU has AMX." if has else "This CPU has no AMX (the twins were asked for): the pairs show only run-to-run noise."
    return [
        "## AMX",
        "",
        f"{said} Each batch-1 one-thread cell ran twice, each time in a fresh process: as the runtime chose, and "
        "with AMX denied to the process before the runtime loaded (a seccomp filter: `sketch_edge/amx.py`). Below 1.00x "
        "the runtime is faster without AMX on this model; an app gets that with `sketch_edge.runtime.deny_amx()` or "
        "`sketch-edge predict --deny-amx`.",
        "",
        *markdown_table(["recipe", "runtime", "p50 us with AMX", "p50 us denied", "denied / with"], rows),
        "",
    ]
