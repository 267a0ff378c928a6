import numpy as np
import pytest

from sketch_edge.data import DataRequest, load_source, split
from sketch_edge.data.sequence import CHANNELS, ON, STEPS
from sketch_edge.errors import DataError


@pytest.fixture(scope="module")
def doodles():
    return load_source("synthetic", per_class=20, classes=["circle", "square", "star"])


def test_split_is_stratified_and_deterministic(doodles):
    a, b = split(doodles, seed=3), split(doodles, seed=3)
    assert a.counts() == {"train": 48, "val": 6, "test": 6}
    for part in ("train", "val", "test"):
        assert np.array_equal(getattr(a, part).y, getattr(b, part).y)
        assert np.array_equal(getattr(a, part).bitmaps, getattr(b, part).bitmaps)
    assert a.test.counts() == {"circle": 2, "square": 2, "star": 2}


def test_splits_do_not_overlap(doodles):
    s = split(doodles, seed=0)
    keys = [{b.tobytes() for b in getattr(s, p).bitmaps} for p in ("train", "val", "test")]
    assert not (keys[0] & keys[1]) and not (keys[0] & keys[2]) and not (keys[1] & keys[2])


def test_another_seed_gives_another_split(doodles):
    assert not np.array_equal(split(doodles, seed=0).test.bitmaps, split(doodles, seed=1).test.bitmaps)


def test_features_by_input_kind(doodles):
    bitmaps = doodles.features("bitmap")
    assert bitmaps.shape == (60, 28, 28, 1) and bitmaps.dtype == np.uint8
    strokes = doodles.features("strokes")
    assert strokes.shape == (60, STEPS, CHANNELS) and strokes.dtype == np.float32
    assert set(np.unique(strokes[:, :, 2:])) == {0.0, ON}


def test_bitmap_only_source_has_no_strokes(bitmap_folder):
    with pytest.raises(DataError, match="has no 'strokes' input"):
        load_source(str(bitmap_folder)).features("strokes")


def test_too_small_to_split():
    with pytest.raises(DataError, match="at least 3"):
        load_source("synthetic", per_class=2)


def test_data_request_round_trips_to_json():
    request = DataRequest(source="synthetic", classes=("circle", "star"), per_class=5)
    assert request.to_json()["classes"] == ["circle", "star"]
    assert DataRequest.from_json(request.to_json()) == request
    assert request.load().labels == ("circle", "star")
