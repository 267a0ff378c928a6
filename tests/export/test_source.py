"""The export stage's reading of what train left: a hand-edited training report is a one-line error naming the field."""

import json

import pytest

from sketch_edge.errors import ExportError
from sketch_edge.export.stage import _describe_source
from sketch_edge.layout import Layout

REPORT = {"model": "cnn-seed", "classes": ["a", "b"], "input": {"kind": "bitmap"}, "data": {"request": {}}, "test": {"top1": 0.9}}


@pytest.mark.parametrize(
    ("report", "problem"),
    [
        ({k: v for k, v in REPORT.items() if k != "model"}, "lacks or mistypes the field 'model'"),
        (REPORT | {"input": "bitmap"}, "lacks or mistypes the field"),
        (REPORT | {"input": {"kind": "audio"}}, "lacks or mistypes the field 'audio'"),
        (REPORT | {"test": {"top1": "high"}}, "test.top1 expected a number, got str"),
        (REPORT | {"test": {"top1": float("nan")}}, "test.top1 expected a finite number, got nan"),
        (REPORT | {"test": {"top1": 1.5}}, "test.top1 must be from 0 to 1, got 1.5"),
        ([REPORT], "lacks or mistypes the field"),
    ],
)
def test_a_malformed_training_report_names_the_field(tmp_path, report, problem):
    layout = Layout(tmp_path)
    layout.model.write_bytes(b"PK model")
    layout.train_report.write_text(json.dumps(report))
    with pytest.raises(ExportError, match=problem) as error:
        _describe_source(layout)
    assert "train_report.json" in str(error.value)


def test_a_good_report(tmp_path):
    layout = Layout(tmp_path)
    layout.model.write_bytes(b"PK model")
    layout.train_report.write_text(json.dumps(REPORT))
    source = _describe_source(layout)
    assert source.labels == ("a", "b") and source.split_sha256 == "" and len(source.sha256) == 64
