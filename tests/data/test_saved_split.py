"""The split saved beside a model: what export and bench evaluate on, exactly, and one-line errors when it is not there."""

import json
import zipfile

import numpy as np
import pytest

from sketch_edge.data import DataRequest, split
from sketch_edge.data.local import fingerprint, open_folder
from sketch_edge.data.saved_split import SavedSplit
from sketch_edge.errors import DataError
from sketch_edge.fileio import sha256_file


@pytest.fixture(scope="module")
def saved():
    request = DataRequest(per_class=20, classes=("circle", "square", "star"), seed=1)
    data = request.load()
    splits = split(data, seed=1)
    return data, splits, SavedSplit.collect(request.open(), "bitmap", seed=1, about={"request": {"source": "synthetic"}})


def test_it_holds_the_split_the_model_was_tested_on(saved):
    data, splits, s = saved
    assert np.array_equal(s.test_x, splits.test.features("bitmap")) and np.array_equal(s.test_y, splits.test.y)
    assert np.array_equal(s.val_x, splits.val.features("bitmap")) and s.labels == data.labels
    ranks = {i: int((data.y[:i] == data.y[i]).sum()) for i in range(len(data))}  # a drawing's position in its class
    assert s.test_positions.tolist() == [ranks[i] for i in splits.index["test"]]
    assert s.val_positions.tolist() == [ranks[i] for i in splits.index["val"]]


def test_calibration_comes_from_training_drawings_only(saved):
    data, splits, s = saved
    train = {b.tobytes() for b in splits.train.bitmaps}
    assert len(s.calibration) == 48 and all(c[..., 0].tobytes() in train for c in s.calibration)  # 100 a class wanted, 16 there


def test_test_drawings_name_the_drawings_not_their_encoding():
    request = DataRequest(per_class=20, classes=("circle", "star"), seed=1)
    bitmaps = SavedSplit.collect(request.open(), "bitmap", seed=1, about={"request": request.to_json()})
    strokes = SavedSplit.collect(request.open(), "strokes", seed=1, about={"request": request.to_json()})
    other = SavedSplit.collect(request.open(), "bitmap", seed=2, about={"request": request.to_json()})
    assert bitmaps.test_drawings() == strokes.test_drawings() != other.test_drawings()


def test_round_trip(saved, tmp_path):
    _, _, s = saved
    s.save(tmp_path / "split.npz")
    back = SavedSplit.load(tmp_path / "split.npz")
    assert back.labels == s.labels and back.kind == "bitmap" and back.source == s.source
    for name in ("calibration", "val_x", "val_y", "val_positions", "test_x", "test_y", "test_positions"):
        assert np.array_equal(getattr(back, name), getattr(s, name)) and getattr(back, name).dtype == getattr(s, name).dtype


def test_missing_corrupt_and_foreign_files_are_one_line(saved, tmp_path):
    with pytest.raises(DataError, match="no saved split beside the model"):
        SavedSplit.load(tmp_path / "split.npz")
    (tmp_path / "split.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DataError, match="split.npz: not a readable split file"):
        SavedSplit.load(tmp_path / "split.npz")
    np.savez(tmp_path / "split.npz", test_x=np.zeros(3))
    with pytest.raises(DataError, match="not a sketch-edge split \\(missing meta, calibration"):
        SavedSplit.load(tmp_path / "split.npz")


def test_inconsistent_contents_are_refused(saved, tmp_path):
    _, _, s = saved
    s.save(tmp_path / "split.npz")
    with zipfile.ZipFile(tmp_path / "split.npz") as archive:
        arrays = {name[:-4]: np.load(archive.open(name)) for name in archive.namelist()}
    arrays["test_y"] = arrays["test_y"] + 7
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DataError, match="the test labels are outside the 3 classes"):
        SavedSplit.load(tmp_path / "bad.npz")
    meta = json.loads(str(arrays["meta"]))
    np.savez(tmp_path / "old.npz", **(arrays | {"meta": np.array(json.dumps(meta | {"format": 99}))}))
    with pytest.raises(DataError, match="split file format 99 is not 2"):
        SavedSplit.load(tmp_path / "old.npz")


def test_hand_edited_meta_and_arrays_are_one_line(saved, tmp_path):
    _, _, s = saved
    s.save(tmp_path / "split.npz")
    with zipfile.ZipFile(tmp_path / "split.npz") as archive:
        arrays = {name[:-4]: np.load(archive.open(name)) for name in archive.namelist()}
    meta = json.loads(str(arrays["meta"]))
    for name, bad in [("nokind", {k: v for k, v in meta.items() if k != "kind"}), ("labels", meta | {"labels": [1, 2, 3]})]:
        np.savez(tmp_path / f"{name}.npz", **(arrays | {"meta": np.array(json.dumps(bad))}))
        with pytest.raises(DataError, match="its meta object lacks the input kind or the class names"):
            SavedSplit.load(tmp_path / f"{name}.npz")
    np.savez(tmp_path / "nan.npz", **(arrays | {"test_x": np.full_like(arrays["test_x"], np.nan, dtype=np.float32)}))
    with pytest.raises(DataError, match="test_x holds float32 values that are not all finite numbers"):
        SavedSplit.load(tmp_path / "nan.npz")
    np.savez(tmp_path / "text.npz", **(arrays | {"val_y": np.array(["a"] * len(arrays["val_y"]))}))
    with pytest.raises(DataError, match="val_y holds <U1 values"):
        SavedSplit.load(tmp_path / "text.npz")


def test_a_folder_source_records_its_files(bitmap_folder):
    assert fingerprint(open_folder(bitmap_folder)) == {
        name: {"bytes": (bitmap_folder / name).stat().st_size, "sha256": sha256_file(bitmap_folder / name)}
        for name in ("The Eiffel Tower.npy", "cat.npy")
    }
