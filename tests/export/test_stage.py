"""export.stage's reading of what train left: a hand-edited training report is a one-line error naming the field.

The report is the committed example (`tests/examples/train_report.json`, a real `sketch-edge train` output) with one
field spoilt each time."""

import json

import pytest

from sketch_edge.errors import ExportError
from sketch_edge.export.stage import _describe_source
from sketch_edge.layout import Layout
from tests.helpers import EXAMPLES

REPORT = json.loads((EXAMPLES / "train_report.json").read_text())


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda r: r.pop("model"), "model is missing"),
        (lambda r: r.update(input="bitmap"), "input is 'bitmap', not an object"),
        (lambda r: r.update(input={"kind": "audio"}), "input.kind is 'audio', not one of bitmap"),
        (lambda r: r["test"].update(top1="high"), "test.top1 is 'high', not a finite number"),
        (lambda r: r["test"].update(top1=None), "test.top1 is None, not a finite number"),  # NaN is written as null
        (lambda r: r["test"].update(top1=1.5), r"test.top1 is 1.5, outside 0..1"),
        (lambda r: r["data"].pop("request"), "data.request is missing"),
        (lambda r: r.pop("schema_version"), "schema_version None, this version reads 3: train again"),
    ],
)
def test_a_malformed_training_report_names_the_field(tmp_path, edit, problem):
    layout = Layout(tmp_path)
    layout.model.write_bytes(b"PK model")
    report = json.loads(json.dumps(REPORT))
    edit(report)
    layout.train_report.write_text(json.dumps(report))
    with pytest.raises(ExportError, match=problem) as error:
        _describe_source(layout)
    assert "train_report.json" in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("text", ["[]", "{not json", ""])
def test_a_report_that_is_no_object_is_one_line(tmp_path, text):
    layout = Layout(tmp_path)
    layout.model.write_bytes(b"PK model")
    layout.train_report.write_text(text)
    with pytest.raises(ExportError, match="train_report.json"):
        _describe_source(layout)


def test_a_good_report(tmp_path):
    layout = Layout(tmp_path)
    layout.model.write_bytes(b"PK model")
    layout.train_report.write_text(json.dumps(REPORT))
    source = _describe_source(layout)
    assert source.labels == tuple(REPORT["classes"]) and source.split_sha256 == "" and len(source.sha256) == 64
    assert source.keras_test_top1 == REPORT["test"]["top1"] and source.model == REPORT["model"]
