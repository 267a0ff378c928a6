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
from dataclasses import dataclass, replace
from pathlib import Path

from sketch_edge.bench.derive import pareto_front
from sketch_edge.bench.machine import environment
from sketch_edge.data import DataRequest
from sketch_edge.errors import RecordError, TuneError, unknown_name
from sketch_edge.export.recipes import RECIPES
from sketch_edge.isolation import run_job
from sketch_edge.layout import Layout
from sketch_edge.runtime import REFERENCE, RUNTIMES
from sketch_edge.train.distill import Teaching
from sketch_edge.tune.results import CandidateJob, CandidateResult, Recommendation, TuneResults, TuneRow
from sketch_edge.tune.space import Candidate, SearchSpace

INT8_RECIPES = ("tflite-int8", "onnx-int8")
"""The converters' full-int8 recipes: what a target runtime is benched with (those of its formats)."""


def targets() -> dict[str, tuple[str, ...]]:
    """Every runtime that runs one of the int8 recipes' files, and those recipes."""
    runs = {name: tuple(r for r in INT8_RECIPES if RECIPES[r].suffix in spec.suffixes) for name, spec in RUNTIMES.items()}
    return {name: recipes for name, recipes in runs.items() if recipes}


DEFAULT_TARGET = next(iter(targets()))
"""The first runtime in the registry's order of preference that runs an int8 recipe's files."""


def target_recipes(target: str) -> tuple[str, ...]:
    """The int8 recipes whose files the target runtime runs."""
    found = targets()
    if target not in found:
        raise TuneError(unknown_name("--target", target, found))
    return found[target]


@dataclass(frozen=True)
class TuneConfig:
    data: DataRequest
    space: SearchSpace
    out: Path  # an artifacts folder: the tune writes to out/tune/
    budget_s: float
    target: str = DEFAULT_TARGET
    limit: int | None = None  # at most this many candidates
    max_p50_us: float | None = None  # the recommendation's latency budget
    teaching: Teaching | None = None  # every candidate distils from these teachers (their targets cached in out/tune)

    @property
    def layout(self) -> Layout:
        return Layout(self.out)

    def key(self, candidate: Candidate) -> str:
        """A candidate's identity on resume: a distilled one is another candidate than the one trained on labels alone."""
        about = [candidate.name, self.data.to_json(), self.target]
        if self.teaching is not None:
            about.append({k: v for k, v in self.teaching.to_json().items() if k != "cache"})
        return hashlib.sha256(json.dumps(about, sort_keys=True).encode()).hexdigest()[:12]


CandidateRunner = Callable[[CandidateJob, float], str | None]
"""Runs one candidate job within a timeout: None when it wrote its result, else why not (one line)."""


def run_candidate(job: CandidateJob, timeout_s: float) -> str | None:
    return run_job(Path(job.out) / "tune_job.json", job, timeout_s)


MAX_ROWS_OF_A_KIND = 100
"""Invalid and not-run candidates listed in results.json (and printed); more are counted: a space of 100,000
points must not make 100,000 rows."""


def run(config: TuneConfig, progress: Callable[[TuneRow], None] = lambda row: None, runner: CandidateRunner = run_candidate) -> TuneResults:
    """Every candidate's row, the front and the recommendation (what results.json holds). Candidates finished by an
    earlier run are read, not rerun."""
    if config.budget_s <= 0:
        raise TuneError(f"--budget-minutes must be positive, not {config.budget_s / 60:g}")
    recipes = target_recipes(config.target)
    started = time.monotonic()
    rows: list[TuneRow] = []
    unlisted = {"invalid": 0, "not run": 0}
    points = config.space.ordered(config.data.seed, config.limit)
    resumable = config.layout.tune_candidates.is_dir()
    for number, values in enumerate(points, 1):
        first = not any(r.status in ("ok", "failed", "stopped") and not r.resumed for r in rows)
        row = _tune_one(config, number, config.space.candidate(values), recipes, started, runner, first)
        if row.status == "not run" and not resumable:
            unlisted["not run"] = len(points) - number + 1  # no earlier run left results to read: counted, not built
            break
        if row.status in unlisted and sum(r.status == row.status for r in rows) >= MAX_ROWS_OF_A_KIND:
            unlisted[row.status] += 1  # a space of many bad points is counted, not listed nor printed
            continue
        rows.append(row)
        progress(row)
    return summarize(config, rows, time.monotonic() - started, unlisted)


def _tune_one(
    config: TuneConfig, number: int, candidate: Candidate, recipes: tuple[str, ...], started: float, runner: CandidateRunner, first: bool
) -> TuneRow:
    """`first`: no candidate ran before this one in this run (a stop then means the budget cannot hold one)."""
    base = TuneRow(number, candidate.name, candidate.values, "invalid")
    if candidate.problem:
        return replace(base, reason=candidate.problem)
    key = config.key(candidate)
    folder = config.layout.tune_candidate(key)
    done = _finished(folder)
    if done is not None:
        return replace(base, status=done.status, key=key, reason=done.reason, resumed=True, result=done)
    remaining = config.budget_s - (time.monotonic() - started)
    if remaining <= 0:
        return replace(base, status="not run", reason="the budget was spent before its turn", key=key)
    folder.mkdir(parents=True, exist_ok=True)
    job = CandidateJob(candidate.name, key, config.data.to_json(), str(folder), config.target, recipes, config.teaching)
    began = time.monotonic()
    reason = runner(job, remaining)
    if reason is None and (done := _finished(folder)) is not None:
        return replace(base, status=done.status, key=key, reason=done.reason, result=done)
    ran = time.monotonic() - began
    if reason and reason.startswith("timed out"):
        hint = "the whole budget was too small for this one candidate" if first else "run the tune again to finish it"
        return replace(base, status="stopped", key=key, reason=f"the budget ran out after {ran:.0f} s of this candidate; {hint}")
    crashed = CandidateResult(candidate.name, key, "failed", seconds={"total": round(ran, 1)})
    return replace(base, status="failed", key=key, reason=reason or "the candidate wrote no result", result=crashed)


def _finished(folder: Path) -> CandidateResult | None:
    """A candidate's result when it finished (ok or failed); None when it never did or its file is unreadable."""
    try:
        result = CandidateResult.load(Layout(folder).tune_result)
    except RecordError:  # absent, unreadable, or of another version: the candidate runs again
        return None
    return result if result.status in ("ok", "failed") else None


def libraries(target: str) -> tuple[str, ...]:
    """What a tune's figures depend on: training (Keras on TensorFlow), the int8 recipes and the target runtime."""
    recipes = [RECIPES[name] for name in target_recipes(target)]
    return ("numpy", *REFERENCE.libraries, *RUNTIMES[target].libraries, *(lib for r in recipes for lib in r.libraries))


def summarize(config: TuneConfig, rows: list[TuneRow], seconds: float, unlisted: dict[str, int] | None = None) -> TuneResults:
    """Mark the Pareto front (validation top-1 against int8 p50) of the finished rows, recommend one."""
    ok = [i for i, r in enumerate(rows) if r.status == "ok" and r.result and r.p50_us is not None]
    front = pareto_front([(None, rows[i].p50_us or 0.0, rows[i].val_top1) for i in ok])
    on = {i for i, f in zip(ok, front, strict=True) if f}
    marked = [replace(r, pareto=i in on) for i, r in enumerate(rows)]
    settings = {
        "data": config.data.to_json(),
        "target": config.target,
        "budget_minutes": config.budget_s / 60,
        "limit": config.limit,
        "max_p50_us": config.max_p50_us,
        "space": {"family": config.space.family, "params": list(config.space.grids), "size": config.space.size},
        "teaching": None if config.teaching is None else {k: v for k, v in config.teaching.to_json().items() if k != "cache"},
    }
    return TuneResults(
        environment=environment(libraries(config.target)),
        settings=settings,
        seconds=round(seconds, 1),
        counts={
            status: sum(r.status == status for r in rows) + (unlisted or {}).get(status, 0)
            for status in ("ok", "failed", "invalid", "stopped", "not run")
        },
        recommended=recommend([marked[i] for i in ok], config.max_p50_us),
        candidates=tuple(r for r in marked if r.status != "not run"),
    )


def recommend(ok: list[TuneRow], max_p50_us: float | None) -> Recommendation:
    """The best validation top-1 among candidates within the latency budget (the faster of equals)."""
    fits = [r for r in ok if max_p50_us is None or (r.p50_us or 0.0) <= max_p50_us]
    if not fits:
        fastest = min(ok, key=lambda r: r.p50_us or 0.0, default=None)
        why = f"; the fastest, #{fastest.number}, takes {fastest.p50_us:.1f} us" if fastest else ""
        return Recommendation(reason=f"no finished candidate within {max_p50_us:g} us{why}" if ok else "no candidate finished")
    best = max(fits, key=lambda r: (r.val_top1, -(r.p50_us or 0.0)))
    result = best.result
    assert result is not None and result.best is not None  # `ok` rows have both
    return Recommendation(
        number=best.number,
        model=best.model,
        val_top1=result.val_top1,
        test_top1=result.test_top1,
        p50_us=result.best.p50_us,
        recipe=result.best.recipe,
        floor_ratio=result.best.floor_ratio,
    )
