import pytest

from sketch_edge.data import load_source
from sketch_edge.errors import DataError

tfds = pytest.importorskip("tensorflow_datasets")


def test_class_subset_and_cap_with_mock_data():
    with tfds.testing.mock_data(num_examples=3000):
        data = load_source("tfds:quickdraw_bitmap", classes=["cat", "The Eiffel Tower"], per_class=3)
    assert data.labels == ("cat", "The Eiffel Tower")
    assert data.counts() == {"cat": 3, "The Eiffel Tower": 3}
    assert data.bitmaps.shape == (6, 28, 28) and data.bitmaps.dtype.name == "uint8"


def test_unknown_class_with_mock_data():
    with tfds.testing.mock_data(num_examples=10), pytest.raises(DataError, match="did you mean 'cat'"):
        load_source("tfds:quickdraw_bitmap", classes=["catt"])


def test_offline_failure_says_how_to_use_a_local_folder(tmp_path):
    with pytest.raises(DataError, match=r"tfds:quickdraw_bitmap: cannot load .*use a local folder \(DATA=path/to/folder\)"):
        load_source("tfds:quickdraw_bitmap", tfds_data_dir=str(tmp_path))


def test_only_quickdraw_bitmap_is_known():
    with pytest.raises(DataError, match="unknown TFDS dataset .*; valid: quickdraw_bitmap"):
        load_source("tfds:sketch_rnn/quickdraw")
