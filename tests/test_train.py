"""The training stage end to end on tiny synthetic data (one epoch)."""

import json

import numpy as np
import pytest

from sketch_edge.data import DataRequest
from sketch_edge.errors import DataError
from sketch_edge.train import TrainConfig, run

pytestmark = pytest.mark.slow

CLASSES = ("circle", "square", "triangle", "star")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("artifacts")
    report = run(TrainConfig(data=DataRequest(classes=CLASSES, per_class=30, seed=1), model="cnn-seed", out=out, epochs=1, verbose=False))
    return out, report


def test_writes_every_output(trained):
    out, report = trained
    assert sorted(p.name for p in out.iterdir()) == ["labels.txt", "model.keras", "split.npz", "train_curves.png", "train_report.json"]
    assert (out / "labels.txt").read_text().splitlines() == list(CLASSES)
    assert json.loads((out / "train_report.json").read_text()) == report


def test_report_contents(trained):
    _, report = trained
    assert report["model"] == "cnn-seed" and report["classes"] == list(CLASSES)
    assert report["splits"] == {"train": 96, "val": 12, "test": 12}
    assert report["epochs_run"] == 1 and report["seconds"] > 0
    assert set(report["history"]) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert 0 <= report["test"]["top1"] <= report["test"]["top3"] <= 1
    assert report["data"]["source"] == "synthetic" and report["data"]["request"]["per_class"] == 30
    assert report["input"]["shape"] == [28, 28, 1]


def test_saved_model_loads_in_safe_mode_and_reproduces_the_test_score(trained):
    import keras

    from sketch_edge.data import split
    from sketch_edge.metrics import topk_accuracy

    out, report = trained
    model = keras.saving.load_model(out / "model.keras", safe_mode=True)
    test = split(DataRequest(classes=CLASSES, per_class=30, seed=1).load(), seed=1).test
    probs = model.predict(test.features("bitmap").astype(np.float32), verbose=0)
    assert topk_accuracy(probs, test.y, 1) == pytest.approx(report["test"]["top1"])


def test_bad_data_fails_before_writing_anything(tmp_path):
    with pytest.raises(DataError):
        run(
            TrainConfig(data=DataRequest(source=str(tmp_path / "missing")), model="cnn-seed", out=tmp_path / "out", epochs=1, verbose=False)
        )
    assert not (tmp_path / "out").exists()
