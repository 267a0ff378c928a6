"""train.report: the training report as a typed record; the committed example reads and writes back unchanged."""

import json

import pytest

from sketch_edge.errors import RecordError
from sketch_edge.train.report import TrainReport
from tests.helpers import EXAMPLES


def test_the_committed_example_round_trips(tmp_path):
    report = TrainReport.load(EXAMPLES / "train_report.json")
    assert report.to_json() == json.loads((EXAMPLES / "train_report.json").read_text())
    assert report.epochs_run == len(report.history.val_accuracy) and report.best_val_top1 == max(report.history.val_accuracy)
    assert report.input_kind == "bitmap" and 0 <= report.test.top1 <= 1
    report.save(tmp_path / "again.json")
    assert TrainReport.load(tmp_path / "again.json") == report


def test_a_report_of_schema_2_still_reads(tmp_path):
    """Schema 3 added `distillation.consistent` with a default: a model trained before can still be a teacher."""
    data = json.loads((EXAMPLES / "train_report.json").read_text())
    (tmp_path / "train_report.json").write_text(json.dumps(data | {"schema_version": 2}))
    assert TrainReport.load(tmp_path / "train_report.json") == TrainReport.load(EXAMPLES / "train_report.json")
    (tmp_path / "train_report.json").write_text(json.dumps(data | {"schema_version": 1}))
    with pytest.raises(RecordError, match="schema_version 1, this version reads 3"):
        TrainReport.load(tmp_path / "train_report.json")


def test_a_missing_report_names_the_file(tmp_path):
    with pytest.raises(RecordError, match=r"train_report.json: no such file"):
        TrainReport.load(tmp_path / "train_report.json")
