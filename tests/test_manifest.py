"""The typed manifest: round trip, one-line errors naming the wrong field, artifact paths kept inside the export folder."""

import json

import pytest

from sketch_edge.errors import ManifestError
from sketch_edge.manifest import Manifest, resolve
from tests.helpers import manifest_json

ROW = {"name": "onnx-int8", "format": "onnx", "precision": "int8", "compute": "int8", "path": "onnx-int8.onnx", "bytes": 5}


def _write(tmp_path, data):
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(data))
    return path


def test_round_trip(tmp_path):
    manifest = Manifest.load(_write(tmp_path, manifest_json([ROW])))
    assert manifest.artifact("onnx-int8").compute == "int8" and manifest.source.labels == ("a", "b") and manifest.failed() == []
    manifest.save(tmp_path / "again.json")
    assert Manifest.load(tmp_path / "again.json") == manifest


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: [m], "the file is not a JSON object"),
        (lambda m: {k: v for k, v in m.items() if k != "schema_version"}, "schema_version None, this version reads 6: export again"),
        (lambda m: m | {"schema_version": 1}, "schema_version 1, this version reads 6"),
        (lambda m: m | {"artifacts": {}}, "artifacts is .*, not a list"),
        (lambda m: m | {"artifacts": []}, "lists no artifacts"),
        (lambda m: m | {"source": "model.keras"}, "source is not a JSON object"),
        (lambda m: {k: v for k, v in m.items() if k != "source"}, "source is missing"),
        (lambda m: m | {"source": {**m["source"], "labels": 5}}, "source.labels is 5, not a list"),
        (lambda m: m | {"source": {**m["source"], "keras_test_top1": "high"}}, "source.keras_test_top1 is 'high', not a finite number"),
        (lambda m: m | {"artifacts": [{**m["artifacts"][0], "compute": None}]}, r"artifacts\[0\].compute is None, not text"),
        (lambda m: m | {"artifacts": [{k: v for k, v in m["artifacts"][0].items() if k != "path"}]}, r"artifacts\[0\].path is missing"),
        (lambda m: m | {"artifacts": [m["artifacts"][0] | {"surprise": 1}]}, r"artifacts\[0\] has an unknown field 'surprise'"),
    ],
)
def test_malformed_manifests_name_the_field(tmp_path, edit, message):
    path = _write(tmp_path, edit(manifest_json([ROW])))
    with pytest.raises(ManifestError, match=message) as error:
        Manifest.load(path)
    assert str(path) in str(error.value) and "\n" not in str(error.value)


def test_unreadable_and_missing(tmp_path):
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(ManifestError, match="not a readable manifest"):
        Manifest.load(tmp_path / "manifest.json")
    with pytest.raises(ManifestError, match="no manifest"):
        Manifest.load(tmp_path / "absent.json")


@pytest.mark.parametrize("path", ["../../../somewhere/else.onnx", "/etc/passwd", ".", "sub/../../x.onnx"])
def test_artifact_paths_stay_inside_the_export_folder(tmp_path, path):
    manifest = Manifest.from_json(manifest_json([ROW | {"path": path}]))
    with pytest.raises(ManifestError, match="leaves the export folder"):
        resolve(tmp_path, manifest.artifacts[0])


def test_a_path_inside_resolves(tmp_path):
    manifest = Manifest.from_json(manifest_json([ROW | {"path": "sub/m.onnx"}]))
    assert resolve(tmp_path, manifest.artifacts[0]) == (tmp_path / "sub" / "m.onnx").resolve()
