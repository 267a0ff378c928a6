"""The bench stage on the small exported model shared with the export tests."""

import json
import shutil

import pytest

from sketch_edge.bench import report
from sketch_edge.bench.stage import BenchConfig, run
from sketch_edge.errors import BenchError

pytestmark = pytest.mark.slow
RECIPES = {"keras": "keras", "tflite-fp32": "litert", "tflite-int8": "litert", "onnx-fp32": "onnxruntime", "onnx-int8": "onnxruntime"}


@pytest.fixture(scope="module")
def benched(exported, tmp_path_factory):
    root = tmp_path_factory.mktemp("bench-artifacts")
    shutil.copytree(exported[0], root, dirs_exist_ok=True)
    manifest = json.loads((root / "export" / "manifest.json").read_text())
    manifest["source"]["path"] = str(root / "model.keras")
    (root / "export" / "manifest.json").write_text(json.dumps(manifest))
    config = BenchConfig(artifacts=root, out=root / "bench", recipes=tuple(RECIPES),
                         threads=(1,), batches=(1, 4), quick=True)  # fmt: skip
    results = run(config)
    report.write_all(dict(results), config.out, baseline=json.loads(json.dumps({k: v for k, v in results.items() if k != "latencies"})))
    return root, results


def test_one_row_per_cell_with_every_field(benched):
    _, results = benched
    rows = results["results"]
    assert {(r["recipe"], r["batch"]) for r in rows} == {
        (n, b) for n in ("keras", "tflite-fp32", "tflite-int8", "onnx-fp32", "onnx-int8") for b in (1, 4)
    }
    runtimes = {r["recipe"]: r["runtime"] for r in rows}
    assert runtimes == {
        "keras": "keras",
        "tflite-fp32": "litert",
        "tflite-int8": "litert",
        "onnx-fp32": "onnxruntime",
        "onnx-int8": "onnxruntime",
    }
    for r in rows:
        assert r["status"] == "ok", r["error"]
        assert 0 < r["top1"] <= r["top3"] <= 1 and r["top1"] <= r["map3"] <= r["top3"]
        assert r["latency_us"]["min"] <= r["latency_us"]["p50"] <= r["latency_us"]["p99"]
        assert r["throughput_per_s"] > 0 and r["load_ms"] > 0 and r["peak_rss_mb"] > r["rss_growth_mb"] >= 0
        assert r["macs"] > 0 and r["gmacs_per_s"] > 0 and 0 < r["peak_fraction"]
        assert sum(map(sum, r["confusion"])) == results["test_samples"]


def test_fp32_artifacts_agree_with_keras(benched):
    _, results = benched
    for r in results["results"]:
        if r["precision"] == "fp32":
            assert r["agreement"] == 1.0


def test_peaks_and_environment(benched):
    _, results = benched
    assert results["peaks"]["1"]["fp32_gflops"] > 1 and results["peaks"]["1"]["int8_gops"] > 1
    env = results["environment"]
    assert env["cores"] >= 1 and env["libraries"]["onnxruntime"] == "1.32.0" and env["cpu"]


def test_outputs_on_disk(benched):
    root, _ = benched
    out = root / "bench"
    on_disk = json.loads((out / "results.json").read_text())
    assert len(on_disk["results"]) == 10 and "latencies" not in on_disk
    csv_lines = (out / "results.csv").read_text().splitlines()
    assert csv_lines[0].startswith("recipe,format,precision,runtime,threads,batch,status") and len(csv_lines) == 11
    md = (out / "report.md").read_text()
    assert "p50 vs base" in md and "| tflite-int8" in md and "1.00x" in md
    for png in ("latency_vs_accuracy.png", "latency_cdf.png", "size.png", "confusion.png"):
        assert (out / png).read_bytes()[:4] == b"\x89PNG"


def test_changed_file_is_refused_but_the_rest_runs(benched, tmp_path):
    root, _ = benched
    copy = tmp_path / "a"
    shutil.copytree(root, copy)
    manifest = json.loads((copy / "export" / "manifest.json").read_text())
    manifest["source"]["path"] = str(copy / "model.keras")
    (copy / "export" / "manifest.json").write_text(json.dumps(manifest))
    with open(copy / "export" / "onnx-fp32.onnx", "ab") as f:
        f.write(b"tampered")
    results = run(BenchConfig(artifacts=copy, out=copy / "bench", recipes=("keras", "onnx-fp32", "tflite-fp32"),
                              threads=(1,), batches=(1,), quick=True))  # fmt: skip
    status = {r["recipe"]: (r["status"], r["error"]) for r in results["results"]}
    assert status["tflite-fp32"] == ("ok", None)
    assert status["onnx-fp32"][0] == "failed" and "sha256 differs from the manifest" in status["onnx-fp32"][1]


def test_bad_requests(tmp_path, benched):
    with pytest.raises(BenchError, match="no manifest"):
        run(BenchConfig(artifacts=tmp_path, out=tmp_path / "bench"))
    with pytest.raises(BenchError, match="unknown runtime 'tensorrt'"):
        run(BenchConfig(artifacts=benched[0], out=tmp_path / "bench", runtimes=("tensorrt",)))
    with pytest.raises(BenchError, match="unknown recipe 'onnx-int4'"):
        run(BenchConfig(artifacts=benched[0], out=tmp_path / "bench", recipes=("onnx-int4",)))


def test_unwritable_output_folder(benched, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(BenchError, match="cannot write here"):
        run(BenchConfig(artifacts=benched[0], out=blocker / "bench", recipes=("onnx-fp32",), quick=True))
