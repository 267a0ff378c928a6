"""`sketch-edge tune` for real on tiny data: two candidates distilled from the shared model, exported to int8, benched;
then resumed."""

import json

import pytest

from sketch_edge.cli import main
from sketch_edge.layout import Layout
from tests.helpers import TINY_DATA

pytestmark = pytest.mark.slow


def test_a_two_candidate_search_then_a_resume(exported, tmp_path, capsys):
    space = tmp_path / "space.json"
    # Without augmentation, 20 epochs leave no validation drawing within 0.08 of a tie (10 epochs with it left five within
    # 0.05, and int8 flipped two on a Xeon): int8 moves these probabilities by about 0.01, on any CPU's kernels.
    params = {"width": [16, 24], "depth": [2], "dense": [64], "epochs": [20], "augment": [0]}
    space.write_text(json.dumps({"family": "edge-cnn", "params": params}))
    argv = [
        "tune",
        "--space",
        str(space),
        "--classes",
        ",".join(TINY_DATA["classes"]),
        "--per-class",
        str(TINY_DATA["per_class"]),
        "--seed",
        str(TINY_DATA["seed"]),
        "--budget-minutes",
        "10",
        "--out",
        str(tmp_path / "out"),
        "--max-p50-us",
        "1000",
        "--teacher",
        str(exported[0]),
    ]
    assert main(argv) == 0
    out = Layout(tmp_path / "out").tune
    summary = json.loads((out / "results.json").read_text())
    rows = summary["candidates"]
    assert [r["status"] for r in rows] == ["ok", "ok"], [r.get("reason") for r in rows]
    for row in rows:
        result = row["result"]
        best = result["best"]
        assert best["recipe"] == "tflite-int8" and best["runtime"] == "litert" and best["p50_us"] > 0
        assert best["floor_us"] == pytest.approx(2 * result["macs"] / (best["peak_gops"] * 1e9) * 1e6)
        assert best["floor_ratio"] == pytest.approx(best["p50_us"] / best["floor_us"])
        assert 0 < result["val_top1"] <= 1 and result["parameters"] > 0 and result["seconds"]["train"] > 0
        folder = Layout(out / "candidates" / row["key"])
        assert folder.model.is_file() and folder.manifest.is_file() and (folder.bench / "results.json").is_file()
    assert rows[0]["result"]["macs"] != rows[1]["result"]["macs"]
    taught = [json.loads(Layout(out / "candidates" / r["key"]).train_report.read_text())["distillation"] for r in rows]
    assert [t["teachers"][0]["path"] for t in taught] == [str(exported[0])] * 2
    assert [t["cached"] for t in taught] == [False, True]  # the second candidate read the first one's targets
    assert (
        len(list(out.glob("teacher_targets-*.npz"))) == 1
        and "Every candidate was distilled from 1 teacher(s)" in (out / "report.md").read_text()
    )
    assert summary["recommended"]["number"] in (1, 2) and summary["environment"]["cpu_flags"]
    assert (out / "pareto.png").stat().st_size > 0 and "Recommended within 1000 us" in (out / "report.md").read_text()
    assert "recommended: #" in capsys.readouterr().out

    assert main(argv) == 0  # everything finished: read back, nothing retrained
    again = json.loads((out / "results.json").read_text())["candidates"]
    assert all(r["resumed"] for r in again) and [r["result"]["best"] for r in again] == [r["result"]["best"] for r in rows]
