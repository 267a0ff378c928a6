"""tune.report: the table and report.md from tune results (read back as tune/results.json holds them)."""

from sketch_edge.bench.results import read
from sketch_edge.tune.report import COLUMNS, markdown, table_rows
from sketch_edge.tune.results import CandidateResult, Recommendation, TunedArtifact, TuneResults, TuneRow
from tests.helpers import EXAMPLES


def _results(recommended: Recommendation) -> TuneResults:
    best = TunedArtifact("tflite-int8", "litert", "ok", top1=0.9, p50_us=40.0, peak_gops=400.0, floor_us=20.0, floor_ratio=2.0)
    done = CandidateResult("edge-cnn[width=16]", "k1", "ok", val_top1=0.91, test_top1=0.9, parameters=1000, macs=10**6, best=best)
    rows = (
        TuneRow(1, "edge-cnn[width=16]", {"width": 16}, "ok", "k1", pareto=True, result=done),
        TuneRow(2, "edge-cnn[width=-1]", {"width": -1}, "invalid", reason="width must be at least 1"),
    )
    settings = {
        "data": {"source": "synthetic"},
        "target": "litert",
        "budget_minutes": 10,
        "limit": None,
        "max_p50_us": 50.0,
        "space": {"family": "edge-cnn", "params": [], "size": 2},
    }
    counts = {"ok": 1, "failed": 0, "invalid": 1, "stopped": 0, "not run": 0}
    return TuneResults(read(EXAMPLES / "results.json").environment, settings, 12.0, counts, recommended, rows)


def test_rows_show_the_figures_and_the_recommendation():
    summary = _results(Recommendation(1, model="edge-cnn[width=16]", val_top1=0.91, test_top1=0.9, p50_us=40.0, recipe="tflite-int8"))
    ok, invalid = table_rows(summary)
    assert len(ok) == len(COLUMNS) and ok[0] == "1" and ok[3] == "0.9100" and ok[8] == "40.0" and ok[10] == "2.00"
    assert ok[COLUMNS.index("front")] == "recommended" and invalid[1] == "invalid" and invalid[-1] == "width must be at least 1"
    assert invalid[3] == "-"  # nothing measured
    md = markdown(summary, plotted=True)
    assert "**Recommended within 50 us: #1**" in md and "sketch-edge train --model 'edge-cnn[width=16]'" in md
    assert "1 ok, 1 invalid" in md and "pareto.png" in md


def test_no_recommendation_says_why():
    md = markdown(_results(Recommendation(reason="no finished candidate within 5 us")), plotted=False)
    assert "**No recommendation within 50 us**: no finished candidate within 5 us." in md and "pareto.png" not in md


def test_results_round_trip():
    summary = _results(Recommendation(reason="none"))
    assert TuneResults.from_json(summary.to_json()) == summary
