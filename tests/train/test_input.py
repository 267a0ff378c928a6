"""The training stream: only training drawings, classes mixed in every batch, cached or not, errors as one line."""

import numpy as np
import pytest

from sketch_edge.data import DataRequest, split
from sketch_edge.errors import DataError
from sketch_edge.train import input as train_input
from tests.helpers import SQUARE, write_ndjson

tf = pytest.importorskip("tensorflow")

REQUEST = DataRequest(classes=("circle", "square", "star"), per_class=40, seed=5)


def _batches(source, count, batch_size=16, errors=None, workers=1, worker=0):
    shards = source.worker_shards(worker, workers)
    ds = train_input.train_stream(source, shards, "bitmap", 5, batch_size, 0.0, errors or train_input.Errors(), worker=worker)
    return [(x.numpy(), y.numpy()) for x, y in ds.take(count)]


@pytest.mark.parametrize("cache", [True, False])
def test_batches_hold_training_drawings_only_and_mix_the_classes(monkeypatch, cache):
    if not cache:
        monkeypatch.setattr(train_input, "CACHE_BYTES", 0)
    train = {b.tobytes() for b in split(REQUEST.load(), seed=5).train.bitmaps}
    batches = _batches(REQUEST.open(), 40)  # 640 drawings: several passes over the 96 training ones
    seen = set()
    for x, y in batches:
        assert x.shape == (16, 28, 28, 1) and x.dtype == np.float32 and y.shape == (16, 3)
        assert len(set(y.argmax(1))) >= 2
        for image in x.astype(np.uint8)[..., 0]:
            assert image.tobytes() in train
            seen.add(image.tobytes())
    assert seen == train  # every training drawing came, none of validation or test


def test_a_worker_reads_only_its_own_files():
    source = REQUEST.open()
    for worker in (0, 1):
        labels = {int(i) for _, y in _batches(source, 4, workers=2, worker=worker) for i in y.argmax(1)}
        assert labels == {0, 2} if worker == 0 else labels == {1}


def test_train_size_counts_the_training_positions():
    source = REQUEST.open()
    assert train_input.train_size(source, source.shards, 5) == len(split(REQUEST.load(), seed=5).train) == 96


def test_a_file_that_changes_during_training_is_the_error(tmp_path, monkeypatch):
    monkeypatch.setattr(train_input, "CACHE_BYTES", 0)  # re-read every pass, as a large source is
    write_ndjson(tmp_path / "cat.ndjson", [SQUARE] * 20)
    write_ndjson(tmp_path / "dog.ndjson", [SQUARE] * 20)
    source = DataRequest(source=str(tmp_path)).open()
    errors = train_input.Errors()
    ds = train_input.train_stream(source, source.shards, "strokes", 0, 8, False, errors)
    write_ndjson(tmp_path / "dog.ndjson", [SQUARE] * 25)
    with pytest.raises(tf.errors.OpError):
        list(ds.take(20))
    assert len(errors.seen) == 1 and isinstance(errors.seen[0], DataError)
    assert "dog.ndjson: changed during training" in str(errors.seen[0])


@pytest.mark.parametrize("strength", [1.0, 3.0])
def test_augmentation_strength_scales_the_shifts(strength):
    """One ink pixel at the centre (column 13 once mirrored) moves at most 5% x strength of 28 pixels, its ink
    spread to the next pixel by interpolation, and over many draws about that far."""
    augmenter = train_input._bitmap_augmenter(seed=0, strength=strength)
    image = np.zeros((512, 28, 28, 1), np.float32)
    image[:, 14, 14, 0] = 255
    out = np.asarray(augmenter(image, training=True))[..., 0]
    rows, cols = np.nonzero(out.max(axis=0) > 0)
    reach = max(np.abs(rows - 14).max(), np.minimum(np.abs(cols - 14), np.abs(cols - 13)).max())
    limit = 0.05 * strength * 28
    assert limit - 1 <= reach <= np.ceil(limit)


def test_each_drawing_brings_its_own_teacher_targets():
    """Rows made from each drawing's (class, position): after the shuffle every image still carries its own row."""
    from sketch_edge.data.dataset import TRAIN, assign
    from sketch_edge.train.distill import Targets, drawing_keys

    source = REQUEST.open()
    keys, rows, which = [], [], {}
    for index, shard in enumerate(source.shards):
        for chunk in source.chunks((shard,), lambda label, positions: assign(5, source.labels[label], positions) == TRAIN):
            keys.append(drawing_keys(index, chunk.labels, chunk.positions))
            rows.append(np.stack([chunk.labels, chunk.positions, np.zeros(len(chunk))], axis=1).astype(np.float32))
            which.update(
                {
                    image.tobytes(): (label, position)
                    for image, label, position in zip(chunk.features("bitmap"), chunk.labels, chunk.positions, strict=True)
                }
            )
    order = np.argsort(np.concatenate(keys))
    targets = Targets(np.concatenate(keys)[order], np.concatenate(rows)[order])
    ds = train_input.train_stream(source, source.shards, "bitmap", 5, 16, 0.0, train_input.Errors(), teachers=targets)
    for x, y, taught in ds.take(12):
        assert taught.shape == (16, 3)
        for image, row in zip(x.numpy().astype(np.uint8), taught.numpy(), strict=True):
            assert tuple(row[:2]) == which[image.tobytes()]
        assert (taught.numpy()[:, 0] == y.numpy().argmax(1)).all()


def test_a_run_seed_shuffles_differently_on_the_same_split():
    source = REQUEST.open()

    def first_batch(run_seed):
        ds = train_input.train_stream(source, source.shards, "bitmap", 5, 16, 0.0, train_input.Errors(), run_seed=run_seed)
        return next(iter(ds))[0].numpy()

    assert (first_batch(None) == first_batch(5)).all()  # the default is the data's seed
    assert not (first_batch(5) == first_batch(6)).all()
