"""The data layer on the real QuickDraw subset in ../shared/quickdraw (skipped where it is absent)."""

import numpy as np
import pytest

from sketch_edge.data import load_source, split
from tests.helpers import SHARED_QUICKDRAW, needs_real_data

pytestmark = [needs_real_data, pytest.mark.real_data]


def test_numpy_bitmap_folder_splits_3200_400_400():
    data = load_source(str(SHARED_QUICKDRAW / "numpy_bitmap"))
    assert len(data.labels) == 10 and data.description["format"] == "numpy_bitmap"
    splits = split(data, seed=0)
    for part, expected in (("train", 3200), ("val", 400), ("test", 400)):
        assert set(getattr(splits, part).counts().values()) == {expected}


def test_simplified_ndjson_with_spaces_and_recognized_filter():
    data = load_source(str(SHARED_QUICKDRAW / "simplified"), recognized_only=True)
    assert len(data.labels) == 344 and "The Eiffel Tower" in data.labels
    assert data.description["format"] == "simplified ndjson"
    skipped = data.description["skipped"]["not recognized"]
    assert len(data) + skipped == 344 * 25 and skipped > 0
    assert data.bitmaps.shape == (len(data), 28, 28) and np.all(data.bitmaps.max(axis=(1, 2)) > 0)
