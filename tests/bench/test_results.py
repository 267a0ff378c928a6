"""bench.results: results.json as typed records, read back by `compare`, `--baseline` and the tuner, every field checked.

`tests/examples/results.json` is a real `sketch-edge bench --quick` output, committed: a change of the schema
breaks this test (bump `Results.SCHEMA_VERSION`, say what changed, make the example again), not a user's `compare`."""

import json

import pytest

from sketch_edge.bench import results
from sketch_edge.bench.report import load_baseline
from sketch_edge.errors import BenchError
from tests.helpers import EXAMPLES, bench_results

EXAMPLE = EXAMPLES / "results.json"


def _write(tmp_path, data, raw=None):
    path = tmp_path / "results.json"
    path.write_text(raw if raw is not None else json.dumps(data))
    return path


def test_the_committed_example_reads_and_writes_back_unchanged(tmp_path):
    read = results.read(EXAMPLE)
    assert read.to_json() == json.loads(EXAMPLE.read_text())
    assert read.source.model and read.results and all(r.status in results.STATUSES for r in read.results)
    measured = [r for r in read.results if r.measured]
    assert measured and all(r.latency_us and r.latency_us.p50 > 0 and 0 <= (r.top1 or 0) <= 1 for r in measured)
    assert load_baseline(EXAMPLE) == read


def test_the_csv_columns_are_the_rows_fields_in_the_published_order():
    assert {c.split(".")[0] for c in results.CSV_COLUMNS} <= {f for f in results.Row.__dataclass_fields__}
    latency = [f"latency_us.{p}" for p in ("p50", "p90", "p99", "mean", "std", "min")]
    assert results.CSV_COLUMNS == (
        *("recipe", "format", "precision", "compute", "runtime", "threads", "batch", "status", "error", "top1", "top3", "map3"),
        *("agreement", *latency, "e2e_latency_us.p50", "p50_spread", "throughput_per_s", "load_ms", "first_call_ms"),
        *("peak_rss_mb", "rss_growth_mb", "bytes", "macs", "gmacs_per_s", "peak_fraction", "peak_kernel", "other_cpu", "noisy"),
        "pareto",
        *("latency_us.p50_low", "latency_us.p50_high", "amx_denied"),
    )  # what results.csv readers were given before the records: a change here is a change for them


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda d: d.pop("schema_version"), "schema_version None, this version reads 7: bench again"),
        (lambda d: d.update(schema_version=2), "schema_version 2, this version reads 7"),
        (lambda d: d.update(results="rows"), "results is 'rows', not a list"),
        (lambda d: d["results"][0].update(threads="1"), r"results\[0\].threads is '1', not a whole number"),
        (lambda d: d["results"][0].update(batch=True), r"results\[0\].batch is True, not a whole number"),
        (lambda d: d["results"][0].update(top1=1.5), r"results\[0\].top1 is 1.5, outside 0..1"),
        (lambda d: d["results"][0]["latency_us"].update(p50=-1), r"results\[0\].latency_us.p50 is -1.0, outside 0"),
        (lambda d: d["results"][0]["latency_us"].update(p99="slow"), r"results\[0\].latency_us.p99 is 'slow', not a finite number"),
        (lambda d: d["results"][0].update(latency_us=None), r"results\[0\]: a measured cell without its top-1 and p50"),
        (lambda d: d["results"][0].update(status="great"), r"results\[0\].status is 'great', not one of ok"),
        (lambda d: d["results"][0].pop("recipe"), r"results\[0\].recipe is missing"),
        (lambda d: d["results"][0].update(surprise=1), r"results\[0\] has an unknown field 'surprise'"),
        (lambda d: d["source"].pop("test_drawings"), "source.test_drawings is missing"),
        (lambda d: d.pop("environment"), "environment is missing"),
    ],
)
def test_each_bad_field_is_one_line_naming_the_file_and_the_field(tmp_path, edit, problem):
    data = bench_results([{"recipe": "onnx-fp32", "runtime": "onnxruntime", "top1": 0.9, "latency_us": {"p50": 200.0}}])
    edit(data)
    with pytest.raises(BenchError, match=problem) as error:
        results.read(_write(tmp_path, data))
    assert str(error.value).startswith(f"{tmp_path / 'results.json'}: not a results.json of this version") and "\n" not in str(error.value)


@pytest.mark.parametrize("raw", ['{"p50": NaN', "[" * 100_000, "", '{"schema_version": 3, "results": [{"top1": NaN}]}'])
def test_truncated_deep_or_nan_files_are_one_line(tmp_path, raw):
    with pytest.raises(BenchError, match="results.json: not a"):
        results.read(_write(tmp_path, None, raw))


def test_a_missing_file_says_to_bench(tmp_path):
    with pytest.raises(BenchError, match="no bench results here"):
        results.read(tmp_path / "results.json")


def test_an_answer_naming_no_cell_key_is_one_line(tmp_path):
    data = json.loads(EXAMPLE.read_text())
    data["answers"][0]["cell"] = "not a key"
    with pytest.raises(BenchError, match=r"answers\[0\]\.cell is 'not a key', not a cell key"):
        results.read(_write(tmp_path, data))
