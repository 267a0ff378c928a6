"""sketch_edge.webpage (`sketch-edge web`): the page folder from the manifest's ONNX artifacts and onnxruntime-web, all or nothing."""

from __future__ import annotations

import json

import pytest

from sketch_edge import webpage as web_build
from sketch_edge.errors import SketchEdgeError
from tests.helpers import manifest_json


def _artifacts(tmp_path, rows):
    export = tmp_path / "artifacts" / "export"
    export.mkdir(parents=True)
    for row in rows:
        (export / row["path"]).write_bytes(b"onnx bytes of " + row["name"].encode())
    (export / "manifest.json").write_text(json.dumps(manifest_json(rows)))
    return tmp_path / "artifacts"


def _row(name, fmt="onnx", precision="fp32", status="ok"):
    return {"name": name, "format": fmt, "precision": precision, "status": status, "path": f"{name}.{fmt}", "bytes": 10}


@pytest.fixture
def ort_dist(tmp_path, monkeypatch):
    dist = tmp_path / "dist"
    dist.mkdir()
    for name in web_build.ORT_FILES:
        (dist / name).write_text(f"// {name}")
    monkeypatch.setattr(web_build, "ORT_DIST", dist)
    return dist


def test_builds_a_self_contained_folder_with_int8_first(tmp_path, ort_dist):
    rows = [
        _row("onnx-fp32"),
        _row("onnx-int8", precision="int8"),
        _row("onnx-int8-dynamic", precision="dynamic-int8"),
        _row("tflite-int8", "tflite", "int8"),
    ]
    artifacts = _artifacts(tmp_path, rows)
    entries = web_build.build(artifacts, artifacts / "web")
    assert [e["name"] for e in entries] == ["onnx-int8", "onnx-fp32"] and entries[0]["default"] and not entries[1]["default"]
    site = artifacts / "web"
    assert json.loads((site / "models.json").read_text()) == entries
    assert (site / "models" / "onnx-int8.onnx").read_bytes() == b"onnx bytes of onnx-int8"
    assert {p.name for p in (site / "vendor").iterdir()} == {*web_build.ORT_FILES, *(f"{name}.gz" for name in web_build.GZIPPED)}
    assert {"index.html", "app.js", "raster.js", "drawing.js", "onnx-metadata.js", "style.css"} <= {p.name for p in site.iterdir()}


def test_no_usable_onnx_model(tmp_path, ort_dist):
    artifacts = _artifacts(tmp_path, [_row("onnx-int8", precision="int8", status="failed"), _row("tflite-fp32", "tflite")])
    with pytest.raises(SketchEdgeError, match="no .onnx artifact passed export"):
        web_build.build(artifacts, artifacts / "web")


def test_a_model_file_gone_since_export(tmp_path, ort_dist):
    artifacts = _artifacts(tmp_path, [_row("onnx-fp32")])
    (artifacts / "export" / "onnx-fp32.onnx").unlink()
    with pytest.raises(SketchEdgeError, match="onnx-fp32.onnx listed in the manifest but missing"):
        web_build.build(artifacts, artifacts / "web")


def test_a_path_outside_the_export_folder_is_refused(tmp_path, ort_dist):
    artifacts = _artifacts(tmp_path, [_row("onnx-fp32")])
    manifest = json.loads((artifacts / "export" / "manifest.json").read_text())
    manifest["artifacts"][0]["path"] = "../../elsewhere.onnx"
    (artifacts / "export" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(SketchEdgeError, match="leaves the export folder"):
        web_build.build(artifacts, artifacts / "web")


def test_no_manifest(tmp_path, ort_dist):
    with pytest.raises(SketchEdgeError, match=f"no manifest \\(run `sketch-edge export --artifacts {tmp_path}` first\\)"):
        web_build.build(tmp_path, tmp_path / "web")


def test_missing_onnxruntime_web_leaves_the_old_page_alone(tmp_path, ort_dist):
    artifacts = _artifacts(tmp_path, [_row("onnx-fp32")])
    (artifacts / "web").mkdir()
    (artifacts / "web" / "index.html").write_text("the previous page")
    (ort_dist / web_build.ORT_FILES[-1]).unlink()
    with pytest.raises(SketchEdgeError, match="npm ci"):
        web_build.build(artifacts, artifacts / "web")
    assert (artifacts / "web" / "index.html").read_text() == "the previous page"
    assert [p.name for p in artifacts.iterdir() if p.name.startswith(".web")] == []


def test_names_from_a_hand_edited_manifest_reach_the_terminal_escaped(tmp_path, ort_dist, capsys):
    from sketch_edge.cli import main

    hostile = "onnx-fp32\x1b[2J\x07\u202e"
    artifacts = _artifacts(tmp_path, [{**_row("onnx-fp32"), "name": hostile}])
    assert main(["web", "--artifacts", str(artifacts)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out and "\\x1b[2J" in out


def test_the_first_model_is_the_one_the_bench_of_these_files_answered_for_the_browser(tmp_path, ort_dist):
    from dataclasses import replace

    from sketch_edge.bench.answer import BROWSER
    from sketch_edge.bench.results import Answer, read
    from sketch_edge.manifest import Manifest
    from tests.helpers import EXAMPLES

    artifacts = _artifacts(tmp_path, [_row("onnx-fp32"), _row("onnx-int8", precision="int8")])
    sha = Manifest.load(artifacts / "export" / "manifest.json").source.sha256
    example = read(EXAMPLES / "results.json")
    answered = Answer(target=BROWSER, description="the page", cell="onnx-fp32/onnxruntime/t1/b1", recipe="onnx-fp32")
    bench = artifacts / "bench"
    bench.mkdir()
    replace(example, source=replace(example.source, sha256=sha), answers=(answered,)).save(bench / "results.json")
    assert web_build.build(artifacts, artifacts / "web")[0]["name"] == "onnx-fp32"
    # a bench of other files (an export since) is not an answer for these
    replace(example, answers=(answered,)).save(bench / "results.json")
    assert web_build.build(artifacts, artifacts / "web")[0]["name"] == web_build.FALLBACK_DEFAULT
