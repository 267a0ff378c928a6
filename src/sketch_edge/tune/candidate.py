"""One tune candidate in a fresh process: train, export its int8 artifacts, bench them on the target runtime.

Run as `python -m sketch_edge.tune.candidate JOB.json`. The candidate's folder is
an ordinary artifacts folder (model.keras, export/, bench/), so any candidate can
be exported, benched or compared like a model trained by hand. What the tune
needs of it goes to `result.json`, written last: its presence means finished.
A failure of the candidate's own (training diverged, an export failed) is a
result with its stage and reason; only a crash leaves no result.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from sketch_edge.bench.results import Results, Row
from sketch_edge.errors import SketchEdgeError, first_line
from sketch_edge.isolation import serve
from sketch_edge.layout import Layout
from sketch_edge.tune.results import CandidateJob, CandidateResult, TunedArtifact


def work(job: CandidateJob) -> CandidateResult:
    from sketch_edge.quiet import import_tensorflow

    import_tensorflow()
    from sketch_edge.bench.plan import BenchConfig
    from sketch_edge.bench.report import write_all as write_bench_report
    from sketch_edge.bench.stage import run as bench
    from sketch_edge.data import DataRequest
    from sketch_edge.export.stage import ExportConfig
    from sketch_edge.export.stage import run as export
    from sketch_edge.train import TrainConfig
    from sketch_edge.train import run as train

    out = Path(job.out)
    laps = _Laps()
    result = CandidateResult(job.model, job.key, "failed")
    stage = "train"
    try:
        report = train(TrainConfig(DataRequest.from_json(job.data), job.model, out, teaching=job.teaching, verbose=False))
        laps.lap("train")
        result = CandidateResult(
            job.model,
            job.key,
            "failed",
            val_top1=report.best_val_top1,
            test_top1=report.test.top1,
            parameters=report.parameters,
            epochs_run=report.epochs_run,
            train_seconds=report.seconds,
        )
        stage = "export"
        manifest = export(ExportConfig(artifacts=out, recipes=job.recipes))
        laps.lap("export")
        ok = [a.name for a in manifest.artifacts if a.status == "ok"]
        failed = {a.name: a.error for a in manifest.artifacts if a.status != "ok"}
        result = replace(result, macs=manifest.source.macs, export_failed=failed)
        if not ok:
            return _failed(result, stage, "; ".join(f"{name}: {error}" for name, error in failed.items()), laps)
        stage = "bench"
        config = BenchConfig(artifacts=out, recipes=tuple(ok), runtimes=(job.target,), threads=(1,), batches=(1,), profile=False)
        results, latencies = bench(config)
        write_bench_report(results, latencies, config.layout.bench, None)  # the folder stays one `sketch-edge compare` reads
        laps.lap("bench")
    except SketchEdgeError as exc:
        return _failed(result, stage, first_line(exc), laps)
    artifacts = tuple(_artifact(cell, results, job.target) for cell in results.results)
    best = min((a for a in artifacts if a.p50_us is not None), key=lambda a: a.p50_us or 0.0, default=None)
    result = replace(result, artifacts=artifacts)
    if best is None:
        return _failed(result, "bench", "; ".join(f"{a.recipe}: {a.error}" for a in artifacts), laps)
    return replace(result, status="ok", best=best, seconds=laps.seconds(), cpu_flags=results.environment.cpu_flags)


def _artifact(cell: Row, results: Results, target: str) -> TunedArtifact:
    """A benched int8 artifact with its floor: MACs x 2 / the int8 GEMM peak of the runtime that ran it, one thread."""
    p50 = cell.p50 if cell.status == "ok" else None
    gops = [k.gops for k in results.peak_kernels if k.runtime == target and "int8" in k.kinds and k.threads == 1 and k.gops]
    peak = max(gops, default=None)
    floor = 2 * cell.macs / (peak * 1e9) * 1e6 if peak and cell.macs else None
    return TunedArtifact(
        recipe=cell.recipe,
        runtime=cell.runtime,
        status=cell.status,
        error=cell.error,
        top1=cell.top1,
        bytes=cell.bytes,
        p50_us=p50,
        peak_gops=peak,
        floor_us=floor,
        floor_ratio=p50 / floor if p50 and floor else None,
    )


class _Laps:
    """Seconds of each stage of the candidate, and in all."""

    def __init__(self) -> None:
        self.started = self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name], self.last = round(now - self.last, 1), now

    def seconds(self) -> dict[str, float]:
        return {**self.laps, "total": round(time.perf_counter() - self.started, 1)}


def _failed(result: CandidateResult, stage: str, reason: str, laps: _Laps) -> CandidateResult:
    return replace(result, status="failed", reason=f"{stage}: {reason}", seconds=laps.seconds())


def main() -> None:
    serve(CandidateJob, work, lambda job: Layout(Path(job.out)).tune_result)


if __name__ == "__main__":
    main()
