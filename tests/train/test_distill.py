"""train.distill: teachers checked before training, softened targets found by drawing, the cache, bad numbers."""

import json

import numpy as np
import pytest

from sketch_edge import fileio
from sketch_edge.data import DataRequest
from sketch_edge.errors import DataError, TeacherError
from sketch_edge.train import distill
from sketch_edge.train.distill import Targets, Teaching, check_numbers, check_teacher, drawing_keys, soften
from tests.helpers import EXAMPLES

LABELS = ("circle", "square", "star")
REQUEST = DataRequest(classes=LABELS, per_class=40, seed=5)
FILES = {"circle.npy": {"bytes": 10, "sha256": "a" * 64}, "square.npy": {"bytes": 10, "sha256": "b" * 64}}


def _teacher(tmp_path, name="teacher", **changes):
    """A teacher folder: a model file and the committed example report, changed to the student's data unless `changes`."""
    folder = tmp_path / name
    folder.mkdir()
    (folder / "model.keras").write_bytes(b"a model")
    report = json.loads((EXAMPLES / "train_report.json").read_text())
    report["classes"] = list(LABELS)
    report["data"] = {"source": "folder", "request": REQUEST.to_json(), "files": FILES}
    report["files"] = {"model.keras": fileio.sha256_file(folder / "model.keras"), "split.npz": "c" * 64}
    for key, value in changes.items():
        report[key] = value
    (folder / "train_report.json").write_text(json.dumps(report))
    return folder


def test_a_teacher_on_the_students_drawings_is_recorded(tmp_path):
    folder = _teacher(tmp_path)
    teacher = check_teacher(folder, REQUEST, LABELS, ("bitmap", "strokes"), FILES)
    report = json.loads((folder / "train_report.json").read_text())
    assert teacher.path == str(folder) and teacher.model == report["model"] and teacher.input_kind == "bitmap"
    assert teacher.test_top1 == report["test"]["top1"] and teacher.sha256 == fileio.sha256_file(folder / "model.keras")


def _data_of(**request):
    return {"source": "folder", "request": {**REQUEST.to_json(), **request}, "files": FILES}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"classes": ["circle", "star", "square"]}, r"trained on the same classes in another order \(circle, star, square\)"),
        ({"classes": ["circle", "square", "cat"]}, r"trained on other classes"),
        ({"data": _data_of(seed=6)}, r"trained on another split \(seed 6, the student's 5\)"),
        ({"data": _data_of(per_class=50)}, r"trained on another split \(per_class 50, the student's 40\)"),
        ({"data": _data_of(eval_per_class=10)}, r"another split \(eval_per_class 10"),
        ({"data": {**_data_of(), "files": {**FILES, "circle.npy": {"bytes": 10, "sha256": "d" * 64}}}}, r"other data files.*circle.npy"),
        ({"files": {"model.keras": "0" * 64}}, r"model.keras does not match the sha256 its train_report.json records"),
        ({"input": {"kind": "strokes"}}, r"reads strokes, which the student's data does not have \(it has bitmap\)"),
        ({"schema_version": 1}, r"schema_version 1, this version reads 3"),
    ],
)
def test_a_teacher_that_cannot_teach_is_one_line_naming_it(tmp_path, changes, message):
    folder = _teacher(tmp_path, **changes)
    with pytest.raises(TeacherError, match=message) as caught:
        check_teacher(folder, REQUEST, LABELS, ("bitmap",), FILES)
    assert str(caught.value).startswith(f"teacher {folder}: ") and "\n" not in str(caught.value)


def test_consistent_teaching_refuses_a_teacher_of_another_input_kind(tmp_path):
    """A stroke teacher cannot answer the student's augmented bitmaps: one line naming it, before any training."""
    from types import SimpleNamespace

    from sketch_edge.train.distill import check_teachers

    source = SimpleNamespace(labels=LABELS, kinds=("bitmap", "strokes"), shards=())
    folder = _teacher(tmp_path, input={"kind": "strokes"})
    assert check_teachers(Teaching((str(folder),)), REQUEST, source, "bitmap", FILES)[0].input_kind == "strokes"
    with pytest.raises(TeacherError, match=r"reads strokes; --consistent runs each teacher on the student's own bitmap batch") as caught:
        check_teachers(Teaching((str(folder),), consistent=True), REQUEST, source, "bitmap", FILES)
    assert str(caught.value).startswith(f"teacher {folder}: ") and "\n" not in str(caught.value)


def test_a_changed_model_file_is_refused(tmp_path):
    folder = _teacher(tmp_path)
    (folder / "model.keras").write_bytes(b"another model")
    with pytest.raises(TeacherError, match="changed since training"):
        check_teacher(folder, REQUEST, LABELS, ("bitmap",), FILES)


def test_generated_data_is_compared_by_its_source(tmp_path):
    folder = _teacher(tmp_path, data={"source": "synthetic", "request": REQUEST.to_json()})
    check_teacher(folder, REQUEST, LABELS, ("bitmap",), {})  # synthetic with the same request: the same drawings
    with pytest.raises(TeacherError, match=r"trained on 'synthetic', the student reads '/data'"):
        check_teacher(folder, DataRequest(source="/data", classes=LABELS, per_class=40, seed=5), LABELS, ("bitmap",), {})


def test_folders_without_a_model_or_a_report(tmp_path):
    with pytest.raises(TeacherError, match="no such folder"):
        check_teacher(tmp_path / "missing", REQUEST, LABELS, ("bitmap",), FILES)
    (tmp_path / "empty").mkdir()
    with pytest.raises(TeacherError, match=r"no model.keras in it \(train one there first"):
        check_teacher(tmp_path / "empty", REQUEST, LABELS, ("bitmap",), FILES)
    (tmp_path / "empty" / "model.keras").write_bytes(b"x")
    with pytest.raises(TeacherError, match="no train_report.json beside its model"):
        check_teacher(tmp_path / "empty", REQUEST, LABELS, ("bitmap",), FILES)


@pytest.mark.parametrize("temperature", [0, -1, float("nan"), float("inf"), 1e-310, 1e300, 0.09, 101])
def test_a_temperature_must_lie_where_softening_is_defined_in_float32(temperature):
    with pytest.raises(TeacherError, match=r"--temperature .*must be a number in \[0.1, 100\]"):
        check_numbers(temperature, 0.5)
    with pytest.raises(TeacherError):
        Teaching(("t",), temperature, 0.5)


@pytest.mark.parametrize("mix", [0, -0.1, 1.5, float("nan")])
def test_a_mix_must_be_a_fraction(mix):
    with pytest.raises(TeacherError, match=r"--mix .*a fraction in \(0, 1\]"):
        check_numbers(2.0, mix)


def test_softening_keeps_the_order_and_spreads_the_probability():
    probs = np.array([[0.7, 0.2, 0.1], [0.05, 0.05, 0.9]])
    assert np.allclose(soften(probs, 1.0), probs)
    soft = soften(probs, 4.0)
    assert np.allclose(soft.sum(1), 1) and (soft.argsort(1) == probs.argsort(1)).all()
    assert (soft.max(1) < probs.max(1)).all()  # flatter: the runner-up classes get more
    assert np.allclose(soften(probs, 1e6), 1 / 3, atol=1e-5)
    assert np.isfinite(soften(np.array([[1.0, 0.0, 0.0]]), 2.0)).all()  # a hard zero is clipped, not log(0)


def test_targets_are_found_by_file_class_and_position():
    keys = np.concatenate([drawing_keys(0, np.array([0, 0, 1]), np.array([3, 7, 3])), drawing_keys(1, np.array([2]), np.array([3]))])
    rows = np.arange(len(keys) * 3, dtype=np.float32).reshape(-1, 3)
    order = np.argsort(keys)
    targets = Targets(keys[order], rows[order])
    found = targets.lookup(0, np.array([1, 0]), np.array([3, 7]))
    assert (found == rows[[2, 1]]).all()
    assert (targets.lookup(1, np.array([2]), np.array([3])) == rows[[3]]).all()
    with pytest.raises(DataError, match="has no teacher target"):
        targets.lookup(1, np.array([0]), np.array([3]))  # the same class and position in another file


def test_the_cache_is_read_when_it_is_whole_and_ignored_when_not(tmp_path):
    path = tmp_path / "teacher_targets-x.npz"
    assert distill._read_cache(path) is None
    np.savez(path, keys=np.array([1, 2]), rows=np.ones((2, 3), np.float32))
    assert distill._read_cache(path) is not None
    np.savez(path, keys=np.array([1, 2]), rows=np.full((2, 3), np.nan, np.float32))
    assert distill._read_cache(path) is None
    path.write_bytes(b"not a zip")
    assert distill._read_cache(path) is None


def test_a_teacher_whose_outputs_are_not_the_student_s_classes_is_refused_before_training(tmp_path):
    import keras

    from sketch_edge.train.distill import load_teachers
    from sketch_edge.train.report import Teacher

    inputs = keras.Input((28, 28, 1))
    keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(keras.layers.Flatten()(inputs))).save(tmp_path / "model.keras")
    teacher = Teacher(path=str(tmp_path), model="cnn-seed", input_kind="bitmap", test_top1=0.9, sha256="0" * 64)
    with pytest.raises(TeacherError, match=r"model.keras: gives 3 outputs, and the student has 4 classes"):
        load_teachers((teacher,), 4)
    assert len(load_teachers((teacher,), 3)) == 1
