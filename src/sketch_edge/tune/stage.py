"""The tune stage: every candidate of the space, one at a time in its own process, within a time budget.

The front and the recommendation use validation top-1: the model is chosen on the
drawings it was tuned on, and its test top-1 stays an honest estimate (a choice
made on the test split would flatter it). Latency is the best int8 artifact's
p50 (batch 1, one thread, the target runtime).

A candidate's key is a digest of its model name, the data request and the target,
so a tune run again with the same settings finds what it finished (its
`tune_result.json`) and goes on from there; a candidate the budget stopped is run
again next time. Rows: `ok`, `failed` (with its stage and reason), `invalid` (the
space gave a combination that cannot be built), `stopped` (the budget ran out
while it ran), `not run` (no budget left).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sketch_edge import fileio
from sketch_edge.bench.stage import environment, mark_pareto
from sketch_edge.data import DataRequest
from sketch_edge.errors import SketchEdgeError, unknown_name
from sketch_edge.export.recipes import RECIPES
from sketch_edge.isolation import run_module
from sketch_edge.layout import Layout
from sketch_edge.runtime import RUNTIMES
from sketch_edge.tune.space import Candidate, SearchSpace

INT8_RECIPES = ("tflite-int8", "onnx-int8")
"""The converters' full-int8 recipes: what a target runtime is benched with (those of its formats)."""


class TuneError(SketchEdgeError):
    """The tune cannot start: unknown target, bad budget."""


def target_recipes(target: str) -> tuple[str, ...]:
    """The int8 recipes whose files the target runtime runs."""
    runs = {name: tuple(r for r in INT8_RECIPES if RECIPES[r].suffix in spec.suffixes) for name, spec in RUNTIMES.items()}
    targets = {name: recipes for name, recipes in runs.items() if recipes}
    if target not in targets:
        raise TuneError(unknown_name("--target", target, targets))
    return targets[target]


@dataclass(frozen=True)
class TuneConfig:
    data: DataRequest
    space: SearchSpace
    out: Path  # an artifacts folder: the tune writes to out/tune/
    budget_s: float
    target: str = "litert"
    limit: int | None = None  # at most this many candidates
    max_p50_us: float | None = None  # the recommendation's latency budget

    @property
    def layout(self) -> Layout:
        return Layout(self.out)

    def key(self, candidate: Candidate) -> str:
        text = json.dumps([candidate.name, self.data.to_json(), self.target], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


Runner = Callable[[dict[str, Any], float], str | None]
"""Runs one candidate job within a timeout: None when it wrote its result, else why not (one line)."""


def run_candidate(job: dict[str, Any], timeout_s: float) -> str | None:
    job_file = Path(job["out"]) / "tune_job.json"
    fileio.write_json(job_file, job)
    return run_module("sketch_edge.tune.candidate", job_file, timeout_s)


def run(
    config: TuneConfig, progress: Callable[[dict[str, Any]], None] = lambda row: None, runner: Runner = run_candidate
) -> dict[str, Any]:
    """Every candidate's row, the front and the recommendation (what results.json holds). Candidates finished by an
    earlier run are read, not rerun."""
    if config.budget_s <= 0:
        raise TuneError(f"--budget-minutes must be positive, not {config.budget_s / 60:g}")
    recipes = target_recipes(config.target)
    started = time.monotonic()
    rows = []
    for candidate in config.space.candidates(config.data.seed, config.limit):
        first = not any(r["status"] in ("ok", "failed", "stopped") and not r.get("resumed") for r in rows)
        row = _tune_one(config, candidate, recipes, started, runner, first)
        rows.append(row)
        progress(row)
    return summarize(config, rows, time.monotonic() - started)


def _tune_one(
    config: TuneConfig, candidate: Candidate, recipes: tuple[str, ...], started: float, runner: Runner, first: bool
) -> dict[str, Any]:
    """`first`: no candidate ran before this one in this run (a stop then means the budget cannot hold one)."""
    base = {"model": candidate.name, "values": candidate.values}
    if candidate.problem:
        return {**base, "status": "invalid", "reason": candidate.problem}
    key = config.key(candidate)
    folder = config.layout.tune_candidate(key)
    done = _finished(folder)
    if done is not None:
        return {**base, **done, "key": key, "resumed": True}
    remaining = config.budget_s - (time.monotonic() - started)
    if remaining <= 0:
        return {**base, "status": "not run", "reason": "the budget was spent before its turn", "key": key}
    folder.mkdir(parents=True, exist_ok=True)
    job = {
        "model": candidate.name,
        "key": key,
        "data": config.data.to_json(),
        "out": str(folder),
        "target": config.target,
        "recipes": list(recipes),
    }
    began = time.monotonic()
    reason = runner(job, remaining)
    if reason is None and (done := _finished(folder)) is not None:
        return {**base, **done, "key": key}
    ran = time.monotonic() - began
    if reason and reason.startswith("timed out"):
        hint = "the whole budget was too small for this one candidate" if first else "run the tune again to finish it"
        return {**base, "status": "stopped", "key": key, "reason": f"the budget ran out after {ran:.0f} s of this candidate; {hint}"}
    return {
        **base,
        "status": "failed",
        "key": key,
        "reason": reason or "the candidate wrote no result",
        "seconds": {"total": round(ran, 1)},
    }


def _finished(folder: Path) -> dict[str, Any] | None:
    """A candidate's result when it finished (ok or failed); None when it never did or its file is unreadable."""
    try:
        result = json.loads(Layout(folder).tune_result.read_text())
    except (OSError, ValueError):
        return None
    return result if isinstance(result, dict) and result.get("status") in ("ok", "failed") else None


def libraries(target: str) -> tuple[str, ...]:
    """What a tune's figures depend on: training (Keras on TensorFlow), the int8 recipes and the target runtime."""
    recipes = [RECIPES[name] for name in target_recipes(target)]
    names = ["numpy", "keras", "tensorflow", *RUNTIMES[target].libraries, *(lib for r in recipes for lib in r.libraries)]
    return tuple(dict.fromkeys(names))


def point(row: dict[str, Any]) -> dict[str, Any]:
    """A row as `bench.stage.mark_pareto` and the bench's plot helpers read a cell."""
    return {"latency_us": {"p50": row["best"]["p50_us"]}, "top1": row["val_top1"], "threads": 1, "batch": 1, "status": "ok"}


def summarize(config: TuneConfig, rows: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    """Number the rows, mark the Pareto front of the finished ones, recommend one."""
    for number, row in enumerate(rows, 1):
        row["number"] = number
    ok = [r for r in rows if r["status"] == "ok"]
    points = [point(r) for r in ok]
    mark_pareto(points)
    for row, marked in zip(ok, points, strict=True):
        row["pareto"] = marked["pareto"]
    return {
        "environment": environment(libraries(config.target)),
        "settings": {
            "data": config.data.to_json(),
            "target": config.target,
            "budget_minutes": config.budget_s / 60,
            "limit": config.limit,
            "max_p50_us": config.max_p50_us,
            "space": {"family": config.space.family, "params": list(config.space.grids), "size": config.space.size},
        },
        "seconds": round(seconds, 1),
        "counts": {status: sum(r["status"] == status for r in rows) for status in ("ok", "failed", "invalid", "stopped", "not run")},
        "recommended": recommend(ok, config.max_p50_us),
        "candidates": [r for r in rows if r["status"] != "not run"],
    }


def recommend(ok: list[dict[str, Any]], max_p50_us: float | None) -> dict[str, Any]:
    """The best validation top-1 among candidates within the latency budget (the faster of equals)."""
    fits = [r for r in ok if max_p50_us is None or r["best"]["p50_us"] <= max_p50_us]
    if not fits:
        fastest = min(ok, key=lambda r: r["best"]["p50_us"], default=None)
        why = f"; the fastest, #{fastest['number']}, takes {fastest['best']['p50_us']:.1f} us" if fastest else ""
        return {"number": None, "reason": f"no finished candidate within {max_p50_us:g} us{why}" if ok else "no candidate finished"}
    best = max(fits, key=lambda r: (r["val_top1"], -r["best"]["p50_us"]))
    return {
        "number": best["number"],
        "model": best["model"],
        "val_top1": best["val_top1"],
        "test_top1": best["test_top1"],
        "p50_us": best["best"]["p50_us"],
        "recipe": best["best"]["recipe"],
        "floor_ratio": best["best"]["floor_ratio"],
    }
