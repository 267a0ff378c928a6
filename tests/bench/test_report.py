"""bench.report: the table, report.md, results.csv and the plots, rendered from the committed example results."""

from dataclasses import replace

import numpy as np

from sketch_edge.bench import report
from sketch_edge.bench.results import CSV_COLUMNS, Peak, read
from tests.helpers import EXAMPLES

RESULTS = read(EXAMPLES / "results.json")


def test_table_has_one_row_per_cell_and_marks_the_front():
    header, rows = report.table_rows(RESULTS, None)
    assert header[:3] == ["recipe", "runtime", "compute"] and len(rows) == len(RESULTS.results)
    for row, cell in zip(rows, RESULTS.results, strict=True):
        assert row[0] == cell.recipe + (" *" if cell.pareto else "") and row[1] == cell.runtime
        assert row[header.index("p50 us")].startswith(f"{cell.p50:.1f}")


def test_a_baseline_adds_ratio_columns_and_equal_runs_read_1x():
    header, rows = report.table_rows(RESULTS, RESULTS)
    assert header[-5:] == ["p50 vs base", "p99 vs base", "thru vs base", "top1 vs base", "rss vs base"]
    assert all(cell == "1.00x" for row in rows for cell in row[-5:] if cell)


def test_noise_marks_and_advice():
    noisy = replace(RESULTS, results=tuple(replace(r, noisy=True, other_cpu=0.5) for r in RESULTS.results))
    _, rows = report.table_rows(noisy, None)
    assert all(row[9].endswith(" !") for row in rows)
    (note, *_) = report.noise_notes(noisy)
    assert note.startswith(f"! {len(rows)} cell(s) timed while") and "--pin" in note
    pinned = replace(noisy, settings=replace(noisy.settings, pin_core=1))
    assert "--pin" not in report.noise_notes(pinned)[0]  # not advised to a run that was pinned
    beaten = {t: {k: replace(p, beaten_by=("a/b/t1/b1",)) for k, p in kinds.items()} for t, kinds in RESULTS.peaks.items()}
    notes = report.noise_notes(replace(RESULTS, peaks=beaten))
    assert any("not this CPU's ceiling" in n and "a/b/t1/b1" in n for n in notes)


def test_short_reasons_keep_the_first_line_within_the_width():
    assert report.short_reason("line one\nline two") == "line one"
    assert len(report.short_reason("x" * 500)) == report.SHORT_REASON and report.short_reason("x" * 500).endswith("…")


def test_write_all_writes_every_output(tmp_path):
    latencies = {r.key: np.linspace(1, 2, 50) * (r.p50 or 1) for r in RESULTS.results}
    report.write_all(RESULTS, latencies, tmp_path, None)
    assert read(tmp_path / "results.json") == RESULTS
    csv = (tmp_path / "results.csv").read_text().splitlines()
    assert csv[0] == ",".join(CSV_COLUMNS) and len(csv) == 1 + len(RESULTS.results)
    md = (tmp_path / "report.md").read_text()
    assert md.startswith(f"# Bench of {RESULTS.source.model}") and RESULTS.environment.cpu in md and "## Peaks" in md
    assert "LiteRT's Python API has no per-op profiler" in md  # the example has LiteRT cells, profiled by nothing
    for png in ("latency_vs_accuracy.png", "latency_cdf.png", "size.png", "confusion.png"):
        assert (tmp_path / png).read_bytes()[:4] == b"\x89PNG"


def test_peaks_line_names_each_kind():
    line = report.peaks_line(replace(RESULTS, peaks={"1": {"int8": Peak(400.4, "k")}}))
    assert line == "peaks: 1 thread(s) int8 400 GOP/s"


def test_the_mobile_section_names_each_files_client_its_check_coverage_size_and_batch1_p50():
    lines = report._mobile_section(RESULTS)
    assert lines[0] == "## Mobile" and "stand-in for a phone" in lines[2]
    rows = {line.split(" | ")[0].strip("| "): line.split(" | ") for line in lines if line.startswith("| ") and "-mobile-" in line}
    assert set(rows) == {"tflite-mobile-int8", "onnx-mobile-int8", "ort-mobile-int8"}  # the example's mobile files
    assert rows["tflite-mobile-int8"][1] == "MediaPipe Tasks ImageClassifier (Android, iOS, web, Python)"
    assert rows["tflite-mobile-int8"][2].startswith("ok, same top-1 as LiteRT on 100.00%")
    assert rows["ort-mobile-int8"][2].startswith("the same outputs as onnx-mobile-int8 to")
    assert rows["onnx-mobile-int8"][2] == "read by its usability checker"
    assert "NNAPI YES (40/40 nodes)" in rows["ort-mobile-int8"][3] and "CoreML MLProgram NO" in rows["ort-mobile-int8"][3]
    cell = next(r for r in RESULTS.results if r.recipe == "ort-mobile-int8" and r.batch == 1)
    assert rows["ort-mobile-int8"][4] == f"{cell.bytes / 1024:.1f}" and rows["ort-mobile-int8"][5].startswith(
        f"{cell.latency_us.p50:.1f} (onnxruntime)"
    )
    assert report._mobile_section(replace(RESULTS, mobile={})) == []


def test_report_md_opens_with_the_answer_per_target(tmp_path):
    text = report.markdown(RESULTS, None, tmp_path)
    sections = [line for line in text.splitlines() if line.startswith("## ")]
    assert sections[0] == "## Which file to ship" and RESULTS.answers
    first = text.split("## This run")[0]
    for a in RESULTS.answers:
        assert f"| {a.target} |" in first and (a.cell is None or f"`{a.cell}`" in first)


def test_the_amx_section_sets_each_cell_beside_its_twin_with_amx_denied(tmp_path):
    from sketch_edge.bench.amx_twins import amx_section, pairs
    from sketch_edge.bench.plan import AMX_DENIED_KEY

    cell = next(r for r in RESULTS.results if r.measured and r.batch == 1 and r.recipe == "tflite-int8")
    twin = replace(cell, key=cell.key + AMX_DENIED_KEY, amx_denied=True, latency_us=replace(cell.latency_us, p50=cell.p50 / 2))
    with_twin = replace(RESULTS, results=(*RESULTS.results, twin))
    assert pairs(with_twin) == [["tflite-int8", cell.runtime, f"{cell.p50:.1f}", f"{cell.p50 / 2:.1f}", "0.50x"]]
    text = report.markdown(with_twin, None, tmp_path)
    assert "## AMX" in text and "0.50x" in text and amx_section(RESULTS) == []  # no twins, no section
    header, rows = report.table_rows(with_twin, None)
    assert [row[1] for row in rows].count(f"{cell.runtime} no-AMX") == 1


def test_a_profile_is_shown_beside_the_cells_p50_and_what_each_profiler_counts(tmp_path):
    import json

    key = next(k for k in RESULTS.profiles if k.endswith("/b1"))
    cell = next(r for r in RESULTS.results if r.key == key)
    (tmp_path / RESULTS.profiles[key]).parent.mkdir(parents=True, exist_ok=True)
    summary = {"calls": 200, "op_us_per_call": 3 * cell.p50, "ops": [{"op": "Conv", "us_per_call": 3 * cell.p50, "share": 1.0}]}
    (tmp_path / RESULTS.profiles[key]).write_text(json.dumps(summary))
    text = report.markdown(RESULTS, None, tmp_path)
    assert report.PROFILE_NOTE in text
    assert f"`{key}`: {3 * cell.p50:.1f} us of operator time per call over 200 calls, its p50 {cell.p50:.1f} us" in text
