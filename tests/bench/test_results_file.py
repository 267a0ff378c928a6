"""bench.results_file: a results.json read back by `compare` and `--baseline`, every field it uses checked."""

import json

import pytest

from sketch_edge.bench import results_file
from sketch_edge.bench.report import load_baseline
from sketch_edge.errors import BenchError

ROW = {
    "key": "onnx-fp32/onnxruntime/t1/b1",
    "recipe": "onnx-fp32",
    "runtime": "onnxruntime",
    "compute": "fp32",
    "status": "ok",
    "threads": 1,
    "batch": 1,
    "bytes": 1000,
    "top1": 0.9,
    "agreement": 1.0,
    "throughput_per_s": 5000.0,
    "peak_fraction": 0.1,
    "latency_us": {"p50": 200.0, "p90": 210.0, "p99": 300.0, "mean": 201.0, "std": 5.0, "min": 190.0},
}
RESULTS = {
    "schema": results_file.SCHEMA,
    "environment": {"cpu": "x", "cpu_flags": ["avx2"], "cores": 2},
    "source": {"model": "cnn-seed", "test_drawings": "ab" * 32},
    "test_samples": 80,
    "results": [ROW],
}


def _write(tmp_path, data, raw=None):
    path = tmp_path / "results.json"
    path.write_text(raw if raw is not None else json.dumps(data))
    return path


def test_a_whole_file_reads_back(tmp_path):
    assert results_file.read(_write(tmp_path, RESULTS)) == RESULTS == load_baseline(_write(tmp_path, RESULTS))


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda d: d.pop("schema"), "schema None, expected 2; bench again"),
        (lambda d: d.update(results="rows"), "results is not a list of rows"),
        (lambda d: d["results"][0].update(threads="1"), r"results\[0\].threads: expected a number, got str"),
        (lambda d: d["results"][0].update(batch=True), r"results\[0\].batch: expected a number, got bool"),
        (lambda d: d["results"][0].update(top1=1.5), r"results\[0\].top1: must be from 0 to 1, got 1.5"),
        (lambda d: d["results"][0]["latency_us"].update(p50=-1), r"results\[0\].latency_us.p50: must be from 0"),
        (lambda d: d["results"][0]["latency_us"].update(p99="slow"), r"results\[0\].latency_us.p99: expected a number, got str"),
        (lambda d: d["results"][0].update(latency_us=None), r"results\[0\]: a measured cell without its top-1 and p50"),
        (lambda d: d["results"][0].pop("recipe"), r"results\[0\].recipe is not text"),
        (lambda d: d["source"].pop("test_drawings"), "source.test_drawings is not a digest"),
        (lambda d: d.pop("environment"), "no field 'environment'"),
    ],
)
def test_each_bad_field_is_one_line_naming_the_file_and_the_field(tmp_path, edit, problem):
    data = json.loads(json.dumps(RESULTS))
    edit(data)
    with pytest.raises(BenchError, match=problem) as error:
        results_file.read(_write(tmp_path, data))
    assert str(error.value).startswith(f"{tmp_path / 'results.json'}: not a results.json of this version")


@pytest.mark.parametrize("raw", ['{"p50": NaN', "[" * 100_000, "", '{"schema": 2, "results": [{"top1": NaN}]}'])
def test_truncated_deep_or_nan_files_are_one_line(tmp_path, raw):
    with pytest.raises(BenchError, match="results.json: not a"):
        results_file.read(_write(tmp_path, None, raw))


def test_a_missing_file_says_to_bench(tmp_path):
    with pytest.raises(BenchError, match="no bench results here"):
        results_file.read(tmp_path / "results.json")
