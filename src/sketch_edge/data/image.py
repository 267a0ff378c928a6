"""Any picture of a sketch -> the 28x28 bitmap a model trained on QuickDraw expects.

Photos, scans and canvas exports come in every size, polarity and colour; the
QuickDraw bitmaps are white ink on black, the drawing centred with its longer side
spanning the same share of the frame as `raster.rasterize` gives it. Pillow is
imported here only, so bitmap and stroke inputs never load it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sketch_edge.data.raster import SIDE
from sketch_edge.errors import DataError

if TYPE_CHECKING:
    from PIL import Image

MAX_PIXELS = 50_000_000
"""Larger images are refused before decoding: a sketch never needs more, a decompression bomb does."""

MAX_SIDE = 16_384
"""Either side longer than this is refused before decoding: a 50,000,000 x 1 strip is no sketch."""

WORK_SIDE = 1024
"""Images are scaled down to at most this many pixels a side before any float copy, so memory stays small."""

INK_THRESHOLD = 0.25
"""Share of the strongest ink a pixel needs to count as part of the drawing when cropping."""

DRAWING_SPAN = 26
"""Pixels a rasterized drawing's longer side covers with at least INK_THRESHOLD ink: its 25-pixel extent
(line included, `raster.rasterize`) plus the partly covered pixels at both ends; `tests/data/test_image.py` checks it."""


def open_image(path: str | Path) -> Image.Image:
    """Open an image file, refusing undecodable and absurdly large ones with a one-line error."""
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(path)  # lazy: reads the header only
        _check_size(image, str(path))
        image.load()
    except FileNotFoundError:
        raise DataError(f"{path}: no such image file") from None
    except DataError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as exc:
        raise DataError(f"{path}: cannot decode it as an image ({exc})") from None
    return image


def bitmap_from_image(image: Image.Image, where: str = "image") -> np.ndarray:
    """A PIL image of any size and mode -> (28, 28) uint8, 0 = background, 255 = ink."""
    from PIL import Image

    _check_size(image, where)
    if max(image.size) > WORK_SIDE:
        scale = WORK_SIDE / max(image.size)
        size = (max(1, round(image.size[0] * scale)), max(1, round(image.size[1] * scale)))
        image = image.resize(size, Image.Resampling.BOX, reducing_gap=2.0)
    ink = _ink(image)
    strongest = float(ink.max())
    if strongest <= 0:
        raise DataError(f"{where}: no drawing found (the image is one flat colour)")
    rows, cols = np.nonzero(ink >= INK_THRESHOLD * strongest)
    crop = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1] * (255.0 / strongest)
    # pad to a square, drawing centred, then scale its longer side to the span QuickDraw bitmaps give it
    side = max(crop.shape)
    square = np.zeros((side, side), dtype=np.float32)
    top, left = (side - crop.shape[0]) // 2, (side - crop.shape[1]) // 2
    square[top : top + crop.shape[0], left : left + crop.shape[1]] = crop
    small = Image.fromarray(square, mode="F").resize((DRAWING_SPAN, DRAWING_SPAN), Image.Resampling.BOX)
    out = np.zeros((SIDE, SIDE), dtype=np.float32)
    start = (SIDE - DRAWING_SPAN) // 2
    out[start : start + DRAWING_SPAN, start : start + DRAWING_SPAN] = np.asarray(small)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def fit_picture(image: Image.Image, size: tuple[int, int], channels: int) -> np.ndarray:
    """A PIL image of any size and mode -> (H, W, C) uint8 pixels for a picture model: transparency over white (as a
    browser shows it), converted to `channels` (1 or 3), resized bilinearly to `size` (height, width). The image
    folder's split and the predictor both go through here, so a model is checked on what an app will feed it."""
    from PIL import Image

    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        canvas = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(canvas, image.convert("RGBA"))
    image = image.convert("RGB" if channels == 3 else "L")
    height, width = size
    if image.size != (width, height):
        image = image.resize((width, height), Image.Resampling.BILINEAR)
    pixels = np.asarray(image, dtype=np.uint8)
    return pixels if channels == 3 else pixels[..., None]


def _check_size(image: Image.Image, where: str) -> None:
    width, height = image.size
    if width > MAX_SIDE or height > MAX_SIDE:
        raise DataError(f"{where}: {width}x{height} pixels has a side over {MAX_SIDE:,}; refusing to decode it")
    if width * height > MAX_PIXELS:
        raise DataError(f"{where}: {width}x{height} pixels is too large for a sketch (limit {MAX_PIXELS:,} pixels); refusing to decode it")
    if width == 0 or height == 0:
        raise DataError(f"{where}: the image is empty ({width}x{height})")


def _ink(image: Image.Image) -> np.ndarray:
    """Float ink strength per pixel, 0 = background: alpha where the background is transparent, else the
    grey levels, inverted when the border (the background) is light."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        alpha = np.asarray(image.convert("RGBA"), dtype=np.float32)[..., 3]
        if alpha.min() < 255:
            return alpha
    grey = np.asarray(image.convert("L"), dtype=np.float32)
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    background = float(np.median(border))
    ink = grey - background if background < 128 else background - grey
    return np.maximum(ink, 0.0)
