"""The training stage end to end on tiny synthetic data (one epoch)."""

import json

import numpy as np
import pytest

from sketch_edge.data import DataRequest
from sketch_edge.errors import DataError
from sketch_edge.train import TrainConfig, run
from sketch_edge.train.report import TrainReport

pytestmark = pytest.mark.slow

CLASSES = ("circle", "square", "triangle", "star")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("artifacts")
    report = run(TrainConfig(data=DataRequest(classes=CLASSES, per_class=30, seed=1), model="cnn-seed", out=out, epochs=1, verbose=False))
    return out, report.to_json()  # the assertions read the report as train_report.json holds it


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
    assert report["steps_per_epoch"] == 96 // report["batch_size"] or report["steps_per_epoch"] == 1
    assert report["distribution"] | {"drawings_per_second_per_worker": None} == {
        "strategy": "none (one process)",
        "workers": 1,
        "global_batch": report["batch_size"],
        "per_worker_batch": report["batch_size"],
        "drawings_per_second_per_worker": None,
        "weights_identical_across_workers": True,
    }


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


def test_steps_per_epoch_bounds_an_epoch(tmp_path):
    report = run(
        TrainConfig(
            data=DataRequest(classes=CLASSES, per_class=30, seed=1),
            model="cnn-seed",
            out=tmp_path,
            epochs=2,
            steps_per_epoch=3,
            verbose=False,
        )
    )
    assert report.steps_per_epoch == 3 and report.epochs_run == 2


def test_two_local_workers_train_what_one_does(tmp_path):
    """Same global batch and epochs, both distilled from the same teacher: both workers finish with identical weights,
    the chief alone writes, and the model is as good as one process's (within 2 points on 400 test drawings)."""
    import subprocess
    import sys

    args = ["train", "--classes", "circle,square,star,lightning", "--per-class", "1000", "--seed", "3"]
    teacher = subprocess.run(
        [sys.executable, "-m", "sketch_edge", *args, "--model", "cnn-seed", "--epochs", "1", "--out", str(tmp_path / "teacher")],
        capture_output=True,
        text=True,
    )
    assert teacher.returncode == 0, teacher.stderr[-2000:]
    args += ["--model", "cnn-seed", "--epochs", "6", "--batch-size", "64", "--teacher", str(tmp_path / "teacher")]
    two = subprocess.run(
        [sys.executable, "-m", "sketch_edge", *args, "--workers", "2", "--out", str(tmp_path / "two")], capture_output=True, text=True
    )
    assert two.returncode == 0, two.stderr[-2000:]
    one = subprocess.run([sys.executable, "-m", "sketch_edge", *args, "--out", str(tmp_path / "one")], capture_output=True, text=True)
    assert one.returncode == 0, one.stderr[-2000:]
    reports = {n: json.loads((tmp_path / n / "train_report.json").read_text()) for n in ("one", "two")}
    assert reports["two"]["distribution"]["workers"] == 2 and reports["two"]["distribution"]["per_worker_batch"] == 32
    assert reports["two"]["distribution"]["strategy"] == "MultiWorkerMirroredStrategy"
    assert reports["two"]["distribution"]["weights_identical_across_workers"] is True
    for key in ("splits", "classes", "steps_per_epoch", "epochs_run", "input", "parameters"):
        assert reports["two"][key] == reports["one"][key]
    assert reports["two"]["distillation"]["teachers"] == reports["one"]["distillation"]["teachers"]
    assert len(list((tmp_path / "two").glob("teacher_targets-*.npz"))) == 2  # each worker's own files' targets
    assert abs(reports["two"]["test"]["top1"] - reports["one"]["test"]["top1"]) <= 0.02, (reports["one"]["test"], reports["two"]["test"])
    names = {n: sorted(p.name for p in (tmp_path / n).iterdir() if not p.name.startswith("teacher_targets-")) for n in ("one", "two")}
    assert names["one"] == names["two"]
    print({n: (r["test"]["top1"], r["seconds"], r["distribution"]["drawings_per_second_per_worker"]) for n, r in reports.items()})


def test_consistent_teaching_is_recorded_and_computes_no_targets(tmp_path):
    from sketch_edge.train.distill import Teaching

    request = DataRequest(classes=CLASSES, per_class=30, seed=1)
    run(TrainConfig(data=request, model="cnn-seed", out=tmp_path / "teacher", epochs=1, verbose=False))
    teaching = Teaching((str(tmp_path / "teacher"),), temperature=2.0, mix=0.5, consistent=True)
    report = run(TrainConfig(data=request, model="cnn-seed", out=tmp_path / "student", epochs=1, teaching=teaching, verbose=False))
    taught = report.distillation
    assert taught is not None and taught.consistent and (taught.targets_seconds, taught.cached) == (0.0, False)
    assert TrainReport.load(tmp_path / "student" / "train_report.json").distillation == taught
    assert not list((tmp_path / "student").glob("teacher_targets-*.npz"))


def test_a_stroke_teacher_teaches_a_bitmap_student_and_its_targets_are_cached(tmp_path):
    """The teacher reads the points, the student the raster of the same drawings; the report names the teacher,
    the targets are the teacher's softened probabilities of the training drawings, and a second run reads them."""
    from sketch_edge.data.dataset import TRAIN, assign
    from sketch_edge.fileio import sha256_file
    from sketch_edge.models.saved import load_trained
    from sketch_edge.train.distill import Teaching, soften

    request = DataRequest(classes=CLASSES, per_class=30, seed=1)
    teacher = run(TrainConfig(data=request, model="seq-conv", out=tmp_path / "teacher", epochs=1, verbose=False))
    teaching = Teaching((str(tmp_path / "teacher"),), temperature=3.0, mix=0.7, cache=str(tmp_path / "student"))
    config = TrainConfig(data=request, model="cnn-seed", out=tmp_path / "student", epochs=1, teaching=teaching, verbose=False)
    report = run(config)
    taught = report.distillation
    assert taught is not None and (taught.temperature, taught.mix, taught.cached) == (3.0, 0.7, False)
    assert [(t.model, t.input_kind, t.test_top1, t.sha256) for t in taught.teachers] == [
        ("seq-conv", "strokes", teacher.test.top1, sha256_file(tmp_path / "teacher" / "model.keras"))
    ]
    assert report.input_kind == "bitmap" and report.to_json()["distillation"]["teachers"][0]["path"] == str(tmp_path / "teacher")
    (cache,) = (tmp_path / "student").glob("teacher_targets-*.npz")
    with np.load(cache) as data:
        rows = data["rows"]
    source = request.open()
    strokes = np.concatenate(
        [c.features("strokes") for c in source.chunks(None, lambda label, p: assign(1, source.labels[label], p) == TRAIN)]
    )
    model = load_trained(tmp_path / "teacher" / "model.keras")
    expected = soften(np.asarray(model(strokes, training=False)), 3.0)
    assert rows.shape == (report.splits["train"], len(CLASSES))
    assert np.allclose(np.sort(rows, axis=0), np.sort(expected, axis=0), atol=1e-5)  # the same rows (the cache orders by key)
    again = run(config)
    assert again.distillation is not None and again.distillation.cached
    assert sorted(p.name for p in (tmp_path / "student").iterdir()) == sorted(
        ["labels.txt", "model.keras", "split.npz", "train_curves.png", "train_report.json", cache.name]
    )
