"""Sources read as streams: the same drawings as a whole load, only the wanted ones decoded, files divided between workers."""

import json
import os

import numpy as np
import pytest

from sketch_edge.data import DataRequest, open_source, split, synthetic
from sketch_edge.data.dataset import TEST, TRAIN, VAL, assign, train_count
from sketch_edge.data.saved_split import SavedSplit
from sketch_edge.errors import DataError
from tests.helpers import SQUARE, write_ndjson


def _streamed(source, want=None):
    chunks = list(source.chunks() if want is None else source.chunks(want=want))
    return (
        np.concatenate([c.labels for c in chunks]),
        np.concatenate([c.positions for c in chunks]),
        np.concatenate([c.features("bitmap") for c in chunks]),
    )


def test_a_stream_is_the_whole_load_in_chunks(tmp_path):
    rows = np.random.default_rng(0).integers(0, 256, size=(700, 784), dtype=np.uint8)  # three chunks of 256
    np.save(tmp_path / "cat.npy", rows)
    np.save(tmp_path / "dog.npy", rows[::-1].copy())
    source = open_source(str(tmp_path), per_class=600)
    labels, positions, bitmaps = _streamed(source)
    assert np.array_equal(labels, np.repeat([0, 1], 600)) and np.array_equal(positions, np.tile(np.arange(600), 2))
    assert np.array_equal(bitmaps[:600, ..., 0], rows[:600].reshape(-1, 28, 28))
    assert np.array_equal(bitmaps[:, ..., 0], source.load().bitmaps)


def test_only_the_wanted_drawings_are_decoded(monkeypatch):
    made = []
    real = synthetic.draw
    monkeypatch.setattr(synthetic, "draw", lambda name, seed, position: made.append(position) or real(name, seed, position))
    source = open_source("synthetic", classes=["circle"], per_class=40)
    labels, positions, _ = _streamed(source, want=lambda label, p: p % 10 == 3)
    assert positions.tolist() == [3, 13, 23, 33] and made == [3, 13, 23, 33]


def test_a_drawing_is_the_same_whichever_classes_or_cap_are_asked():
    alone = open_source("synthetic", classes=["star"], per_class=12).load()
    mixed = open_source("synthetic", classes=["circle", "star"], per_class=30).load()
    assert np.array_equal(alone.bitmaps, mixed.bitmaps[30:42])


def test_split_blocks_of_ten_hold_one_validation_and_one_test_drawing():
    for seed in (0, 1, 7):
        for label in ("cat", "The Eiffel Tower", "zigzag"):
            parts = assign(seed, label, np.arange(10_000)).reshape(-1, 10)
            assert ((parts == VAL).sum(1) == 1).all() and ((parts == TEST).sum(1) == 1).all()
    assert not np.array_equal(assign(0, "cat", np.arange(100)), assign(1, "cat", np.arange(100)))
    assert not np.array_equal(assign(0, "cat", np.arange(100)), assign(0, "dog", np.arange(100)))


def test_a_drawings_split_does_not_depend_on_how_many_are_read():
    assert np.array_equal(assign(3, "cat", np.arange(37)), assign(3, "cat", np.arange(1000))[:37])
    assert np.array_equal(assign(3, "cat", np.array([512, 5])), assign(3, "cat", np.arange(513))[[512, 5]])


def test_train_count_is_the_number_of_training_positions():
    for size in (0, 1, 9, 10, 11, 25, 37, 1000, 12_345):
        assert train_count(2, "cat", size) == int((assign(2, "cat", np.arange(size)) == TRAIN).sum())


def test_saved_split_streams_what_the_whole_load_splits():
    request = DataRequest(classes=("circle", "square", "star"), per_class=40, seed=4)
    saved = SavedSplit.collect(request.open(), "bitmap", seed=4)
    splits = split(request.load(), seed=4)
    assert np.array_equal(saved.test_x, splits.test.features("bitmap")) and np.array_equal(saved.test_y, splits.test.y)
    assert np.array_equal(saved.val_x, splits.val.features("bitmap")) and np.array_equal(saved.val_y, splits.val.y)
    train = {b.tobytes() for b in splits.train.bitmaps}
    assert len(saved.calibration) == 96 and all(c[..., 0].tobytes() in train for c in saved.calibration)  # 100 a class wanted, 32 there


def test_saved_split_reads_only_the_head_of_each_file(tmp_path):
    """With 5 validation and test drawings a class, a malformed line at 2,000 is never reached; a full load fails on it."""
    lines = [json.dumps({"word": "cat", "drawing": SQUARE})] * 2000 + ["{not json"]
    (tmp_path / "cat.ndjson").write_text("\n".join(lines) + "\n")
    saved = SavedSplit.collect(open_source(str(tmp_path)), "strokes", seed=0, eval_per_class=5)
    assert saved.counts() == {"val": 5, "test": 5, "calibration": 300}
    with pytest.raises(DataError, match="cat.ndjson:2001: malformed JSON"):
        open_source(str(tmp_path)).load()


def test_eval_cap_keeps_validation_and_test_bounded():
    request = DataRequest(classes=("circle", "star"), per_class=100, seed=0, eval_per_class=4)
    saved = SavedSplit.collect(request.open(), "bitmap", seed=0, eval_per_class=4)
    assert saved.counts()["test"] == 8 and np.bincount(saved.test_y).tolist() == [4, 4]
    assert split(request.load(), seed=0, eval_per_class=4).counts() == {"train": 160, "val": 8, "test": 8}


def test_workers_divide_the_files(bitmap_folder):
    source = open_source(str(bitmap_folder))
    assert [s.name for s in source.worker_shards(0, 2)] == [str(bitmap_folder / "The Eiffel Tower.npy")]
    assert [s.name for s in source.worker_shards(1, 2)] == [str(bitmap_folder / "cat.npy")]
    with pytest.raises(DataError, match="2 file\\(s\\) for 3 workers; each worker reads its own files"):
        source.worker_shards(0, 3)


def test_a_file_that_changes_while_read_is_refused(tmp_path):
    write_ndjson(tmp_path / "cat.ndjson", [SQUARE] * 30)
    source = open_source(str(tmp_path))
    write_ndjson(tmp_path / "cat.ndjson", [SQUARE] * 31)
    with pytest.raises(DataError, match="cat.ndjson: changed during training"):
        list(source.chunks())
    os.remove(tmp_path / "cat.ndjson")
    with pytest.raises(DataError, match="cat.ndjson: disappeared during training"):
        list(source.chunks())


def test_a_truncated_npy_file_is_one_line(tmp_path):
    np.save(tmp_path / "cat.npy", np.zeros((300, 784), np.uint8))
    data = (tmp_path / "cat.npy").read_bytes()
    (tmp_path / "cat.npy").write_bytes(data[: len(data) - 1000])
    with pytest.raises(DataError, match="cat.npy: "):
        open_source(str(tmp_path)).load()


def test_a_model_of_quickdraw_data_carries_its_cc_by_attribution():
    from sketch_edge.data import QUICKDRAW_ATTRIBUTION, SYNTHETIC_ATTRIBUTION, DataRequest, attribution

    assert attribution(DataRequest().to_json()) == SYNTHETIC_ATTRIBUTION
    for source in ("../shared/quickdraw/numpy_bitmap", "tfds:quickdraw_bitmap"):
        assert attribution(DataRequest(source=source).to_json()) == QUICKDRAW_ATTRIBUTION
    assert "Quick, Draw!" in QUICKDRAW_ATTRIBUTION and "CC BY 4.0" in QUICKDRAW_ATTRIBUTION
