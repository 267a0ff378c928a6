import json

import numpy as np
import pytest

from sketch_edge.data.drawing import parse_drawing
from sketch_edge.data.raster import rasterize, rasterize_many
from sketch_edge.errors import DataError
from tests.helpers import SHARED_QUICKDRAW, SQUARE, needs_real_data


def test_bitmap_format_and_centering():
    bitmap = rasterize(SQUARE)
    assert bitmap.shape == (28, 28) and bitmap.dtype == np.uint8
    assert bitmap.max() == 255 and bitmap[14, 14] == 0  # a hollow square: ink on the border, none inside
    ys, xs = np.indices(bitmap.shape)
    ink = bitmap.astype(float) / bitmap.sum()
    assert abs((ink * ys).sum() - 13.5) < 0.6 and abs((ink * xs).sum() - 13.5) < 0.6  # centred
    # the official padding leaves the outermost pixels nearly blank
    assert bitmap[0].max() < 64 and bitmap[:, 0].max() < 64


def test_small_drawing_is_centred_not_scaled():
    # QuickDraw centres by the bounding box; a drawing that does not span 0-255 stays small
    bitmap = rasterize([[[0, 40], [0, 40]]]).astype(float)
    ys, xs = np.nonzero(bitmap)
    assert 8 <= ys.mean() <= 19 and 8 <= xs.mean() <= 19


def test_single_point_stroke_draws_a_dot():
    assert rasterize([[[100], [100]]]).max() > 0


def test_empty_drawing_is_an_error():
    with pytest.raises(DataError, match="empty drawing"):
        rasterize([])


def test_many():
    assert rasterize_many([SQUARE, SQUARE]).shape == (2, 28, 28)


@needs_real_data
@pytest.mark.real_data
@pytest.mark.parametrize("cls", ["airplane", "cat", "house"])
def test_matches_the_official_bitmaps(cls):
    """The real subset's first ndjson lines and first bitmap rows are the same drawings."""
    lines = (SHARED_QUICKDRAW / "simplified" / f"{cls}.ndjson").read_text().splitlines()
    ours = np.stack([rasterize(parse_drawing(json.loads(line)["drawing"], cls)[0]) for line in lines]).astype(float)
    official = np.load(SHARED_QUICKDRAW / "numpy_bitmap" / f"{cls}.npy")[: len(lines)].reshape(-1, 28, 28).astype(float)
    per_drawing = np.abs(ours - official).mean(axis=(1, 2))
    assert per_drawing.mean() < 1.5, per_drawing  # measured about 1 of 255 per pixel
    assert abs(ours.sum() / official.sum() - 1) < 0.015  # same amount of ink: same line width
