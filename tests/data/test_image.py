"""Pictures of sketches -> the QuickDraw bitmap: polarity, transparency, cropping and centring, refusals."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from sketch_edge.data.image import DRAWING_SPAN, INK_THRESHOLD, MAX_PIXELS, MAX_SIDE, WORK_SIDE, bitmap_from_image, open_image
from sketch_edge.data.raster import rasterize
from sketch_edge.errors import DataError
from tests.helpers import SQUARE, TRIANGLE

BITMAP = rasterize(TRIANGLE)


def _photo(bitmap: np.ndarray, factor: int = 10, pad: tuple[int, int, int, int] = (40, 200, 90, 15)) -> np.ndarray:
    """The bitmap blown up and placed off-centre on a larger canvas, as in a screenshot."""
    big = np.kron(bitmap, np.ones((factor, factor), np.uint8))
    top, bottom, left, right = pad
    return np.pad(big, ((top, bottom), (left, right)))


@pytest.mark.parametrize(
    "make",
    [
        lambda a: Image.fromarray(a),  # light ink on dark
        lambda a: Image.fromarray(255 - a),  # dark ink on light
        lambda a: Image.fromarray(255 - a).convert("RGB"),
        lambda a: Image.fromarray(np.stack([np.zeros_like(a)] * 3 + [a], axis=-1), "RGBA"),  # black ink, transparent paper
    ],
    ids=["light-on-dark", "dark-on-light", "rgb", "transparent"],
)
def test_any_polarity_and_placement_gives_back_the_bitmap(make):
    out = bitmap_from_image(make(_photo(BITMAP)))
    assert out.shape == (28, 28) and out.dtype == np.uint8
    assert np.abs(out.astype(float) - BITMAP).mean() < 1.0  # an exact 10x blow-up comes back (almost) exactly


def test_drawing_span_matches_the_rasterizer():
    rows, cols = np.nonzero(rasterize(SQUARE) >= INK_THRESHOLD * 255)
    assert rows.max() - rows.min() + 1 == cols.max() - cols.min() + 1 == DRAWING_SPAN


def test_a_flat_image_has_no_drawing():
    with pytest.raises(DataError, match="no drawing found"):
        bitmap_from_image(Image.new("L", (50, 40), 200))


def test_undecodable_and_missing_files(tmp_path):
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(DataError, match="notes.png: cannot decode it as an image"):
        open_image(tmp_path / "notes.png")
    with pytest.raises(DataError, match="no such image file"):
        open_image(tmp_path / "absent.png")


def test_a_decompression_bomb_is_refused_before_decoding(tmp_path):
    side = int(MAX_PIXELS**0.5) + 100
    Image.new("1", (side, side)).save(tmp_path / "bomb.png")  # a few kB on disk, gigabytes once decoded in RGB
    assert (tmp_path / "bomb.png").stat().st_size < 100_000
    with pytest.raises(DataError, match="too large for a sketch"):
        open_image(tmp_path / "bomb.png")


def test_a_strip_with_an_absurd_side_is_refused_before_decoding(tmp_path):
    Image.new("L", (MAX_SIDE + 1, 1)).save(tmp_path / "strip.png")
    with pytest.raises(DataError, match=f"has a side over {MAX_SIDE:,}"):
        open_image(tmp_path / "strip.png")


def test_a_large_photo_is_scaled_down_before_any_float_copy(monkeypatch):
    from sketch_edge.data import image as image_module

    seen = []
    real_ink = image_module._ink
    monkeypatch.setattr(image_module, "_ink", lambda img: seen.append(img.size) or real_ink(img))
    big = Image.new("L", (6000, 2000), 255)
    big.paste(0, (1000, 500, 5000, 1500))  # a dark bar on white
    bitmap = bitmap_from_image(big)
    assert seen == [(WORK_SIDE, round(2000 * WORK_SIDE / 6000))] and bitmap.max() == 255
