"""The tune loop with a stand-in for the candidate process: rows, budget, resume, recommendation (and the report).

The stand-in writes the result a candidate process would (figures made up per
width); the real process runs in test_tune_e2e.py."""

import json
import time
from dataclasses import replace
from pathlib import Path

import pytest

from sketch_edge import fileio
from sketch_edge.data import DataRequest
from sketch_edge.errors import TuneError
from sketch_edge.layout import Layout
from sketch_edge.tune.report import write_all
from sketch_edge.tune.results import CandidateJob, CandidateResult, TunedArtifact
from sketch_edge.tune.space import SearchSpace
from sketch_edge.tune.stage import TuneConfig, run, target_recipes

# width -> (validation top-1, p50 us): 24 is dominated by 16 (slower and worse)
FIGURES = {8: (0.80, 10.0), 16: (0.90, 20.0), 24: (0.85, 30.0), 32: (0.95, 40.0)}


class FakeCandidates:
    def __init__(self, fail: set[int] = frozenset(), time_out: set[int] = frozenset()):
        self.jobs: list[dict] = []
        self.fail, self.time_out = fail, time_out

    def __call__(self, job: CandidateJob, timeout_s: float) -> str | None:
        self.jobs.append(job)
        width = int(job.model.split("width=")[1].split(",")[0])
        if width in self.time_out:
            return f"timed out after {timeout_s:.0f} s"
        if width in self.fail:
            reason = "train: training diverged: the loss is nan in epoch 1"
            result = CandidateResult(job.model, job.key, "failed", reason=reason, seconds={"total": 1.0})
        else:
            val, p50 = FIGURES[width]
            best = TunedArtifact("tflite-int8", "litert", "ok", p50_us=p50, floor_us=p50 / 2, floor_ratio=2.0, top1=val)
            result = CandidateResult(
                job.model,
                job.key,
                "ok",
                val_top1=val,
                test_top1=val - 0.01,
                parameters=width * 1000,
                macs=width * 10**5,
                train_seconds=1.0,
                best=best,
                artifacts=(best,),
                seconds={"total": 2.0},
            )
        fileio.write_json(Layout(Path(job.out)).tune_result, result.to_json())
        return None


def config(tmp_path, widths=(8, 16, 24, 32), **options) -> TuneConfig:
    space = SearchSpace("edge-cnn", ({"width": list(widths), "epochs": [1]},))
    return TuneConfig(DataRequest(per_class=20), space, tmp_path, options.pop("budget_s", 600), **options)


def by_width(summary):
    return {row.values["width"]: row for row in summary.candidates}


def test_every_candidate_is_a_row_and_the_front_and_recommendation_follow_validation(tmp_path):
    runner = FakeCandidates()
    summary = run(config(tmp_path, max_p50_us=35), runner=runner)
    write_all(summary, Layout(tmp_path).tune)
    rows = by_width(summary)
    assert len(runner.jobs) == 4 and {r.status for r in rows.values()} == {"ok"}
    assert {w for w, r in rows.items() if r.pareto} == {8, 16, 32}
    assert summary.recommended.number == rows[16].number  # the best within 35 us; 32 is better but slower
    assert [job.recipes for job in runner.jobs] == [("tflite-int8",)] * 4
    out = Layout(tmp_path).tune
    assert json.loads((out / "results.json").read_text())["recommended"] == summary.recommended.to_json()
    assert (out / "pareto.png").stat().st_size > 0 and len((out / "results.csv").read_text().splitlines()) == 5
    assert "Recommended within 35 us: #" in (out / "report.md").read_text()


def test_no_candidate_within_the_latency_budget_is_said(tmp_path):
    summary = run(config(tmp_path, widths=(16, 32), max_p50_us=5), runner=FakeCandidates())
    assert summary.recommended.number is None
    assert "no finished candidate within 5 us; the fastest" in summary.recommended.reason


def test_an_interrupted_tune_resumes_from_what_it_finished(tmp_path):
    first = FakeCandidates(time_out={24})
    rows = by_width(run(config(tmp_path), runner=first))
    assert rows[24].status == "stopped" and "the budget ran out after" in rows[24].reason
    again = FakeCandidates()
    rows = by_width(run(config(tmp_path), runner=again))
    assert [job.model for job in again.jobs] == [rows[24].model]  # only the one that did not finish
    assert all(rows[w].resumed for w in (8, 16, 32)) and rows[24].status == "ok"
    other_target = FakeCandidates()
    run(config(tmp_path, target="onnxruntime"), runner=other_target)
    assert len(other_target.jobs) == 4 and other_target.jobs[0].recipes == ("onnx-int8",)  # other settings: other candidates


def test_failures_are_rows_and_the_tune_goes_on(tmp_path):
    space = SearchSpace("edge-cnn", ({"width": [8, -1, 16], "epochs": [1]},))
    runner = FakeCandidates(fail={8})
    summary = run(TuneConfig(DataRequest(per_class=20), space, tmp_path, 600), runner=runner)
    rows = by_width(summary)
    assert (rows[-1].status, rows[-1].reason) == ("invalid", "width must be at least 1")
    assert rows[8].status == "failed" and "diverged" in rows[8].reason
    assert rows[16].status == "ok" and summary.recommended.number == rows[16].number
    assert summary.counts == {"ok": 1, "failed": 1, "invalid": 1, "stopped": 0, "not run": 0}


def test_a_spent_budget_runs_nothing_more(tmp_path):
    runner = FakeCandidates(time_out={8, 16, 24, 32})

    def slow(job: CandidateJob, timeout_s: float) -> str | None:
        time.sleep(timeout_s)  # as a candidate the budget stops
        return runner(job, timeout_s)

    summary = run(config(tmp_path, budget_s=0.3, limit=3), runner=slow)
    assert [r.status for r in summary.candidates] == ["stopped"] and len(runner.jobs) == 1
    assert summary.candidates[0].reason.endswith("the whole budget was too small for this one candidate")
    assert summary.counts["not run"] == 2  # counted, not listed as rows


def test_bad_target_and_budget(tmp_path):
    with pytest.raises(TuneError, match="unknown --target 'keras'.*litert"):
        target_recipes("keras")
    assert target_recipes("openvino") == ("tflite-int8", "onnx-int8")
    with pytest.raises(TuneError, match="must be positive"):
        run(config(tmp_path, budget_s=0), runner=FakeCandidates())


def test_a_distilling_tune_hands_its_teachers_to_every_candidate_and_says_so(tmp_path):
    from sketch_edge.train.distill import Teaching

    plain = FakeCandidates()
    run(config(tmp_path, widths=(8, 16)), runner=plain)
    teaching = Teaching(("/models/teacher",), temperature=3.0, mix=0.7, cache=str(Layout(tmp_path).tune))
    taught = FakeCandidates()
    summary = run(config(tmp_path, widths=(8, 16), teaching=teaching), runner=taught)
    assert len(taught.jobs) == 2  # not the undistilled candidates of the first run, read back
    assert {job.key for job in taught.jobs}.isdisjoint(job.key for job in plain.jobs)
    assert all(job.teaching == teaching for job in taught.jobs) and all(job.teaching is None for job in plain.jobs)
    job = taught.jobs[0]
    assert CandidateJob.from_json(json.loads(json.dumps(job.to_json()))) == job  # it crosses to the candidate's process
    assert summary.settings["teaching"] == {"teachers": ["/models/teacher"], "temperature": 3.0, "mix": 0.7, "consistent": False}
    write_all(summary, Layout(tmp_path).tune)
    report = (Layout(tmp_path).tune / "report.md").read_text()
    assert "Every candidate was distilled from 1 teacher(s), `/models/teacher`" in report and "temperature 3, mix 0.7 (each" in report
    assert "--teacher '/models/teacher' --temperature 3 --mix 0.7`" in report
    consistent = FakeCandidates()
    summary = run(config(tmp_path, widths=(8, 16), teaching=replace(teaching, cache=None, consistent=True)), runner=consistent)
    assert len(consistent.jobs) == 2 and all(job.teaching.consistent for job in consistent.jobs)  # other candidates again
    write_all(summary, Layout(tmp_path).tune)
    report = (Layout(tmp_path).tune / "report.md").read_text()
    assert "the teachers run on each augmented batch (consistent)" in report and "--mix 0.7 --consistent`" in report
