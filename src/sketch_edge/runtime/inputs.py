"""Whatever an app holds -> a float32 batch of model inputs, through the training code's own conversions.

For bitmap models, one item or a list of items, each one of: a 28x28 array (uint8
or float 0-255, also 28x28x1 or 784 long; an array with a leading batch axis is a
batch), a PIL image or image file, a QuickDraw drawing (strokes in simplified or
raw form, or an ndjson record holding one). Stroke models read drawings only: a
bitmap has lost the order of the points. A picture model trained elsewhere reads images
and pixel arrays of any size (`as_pictures`). Anything else is a `DataError` naming the item.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sketch_edge.data.dataset import InputSpec
from sketch_edge.data.drawing import Drawing, parse_drawing
from sketch_edge.data.image import bitmap_from_image, fit_picture, open_image
from sketch_edge.data.raster import SIDE, rasterize
from sketch_edge.data.sequence import to_sequences
from sketch_edge.errors import DataError

PIXELS = SIDE * SIDE


def as_bitmaps(x: Any) -> tuple[np.ndarray, bool]:
    """(batch of (N, 28, 28, 1) in 0-255, whether `x` was one item rather than a batch). uint8 arrays stay uint8 (the
    adapters map them to the tensor's type by table, `runtime.base.InputTensor`); everything else is float32."""
    if isinstance(x, np.ndarray) and x.dtype == np.uint8 and x.shape == (SIDE, SIDE):  # an app's bitmap: one reshape
        return x.reshape(1, SIDE, SIDE, 1), True
    batch, single = _bitmaps(x)
    return batch[..., None], single


def _bitmaps(x: Any) -> tuple[np.ndarray, bool]:
    if isinstance(x, np.ndarray):
        return _array_batch(x)
    if _is_single(x):
        return _item(x, "input")[None], True
    if isinstance(x, Sequence) and not isinstance(x, str | bytes):
        if len(x) == 0:
            raise DataError("input: an empty batch (nothing to predict)")
        items = []
        for i, item in enumerate(x):
            if not _is_single(item) and not (isinstance(item, np.ndarray) and item.ndim in (1, 2, 3)):
                raise DataError(f"item {i}: expected an array, image, file or drawing, got {_describe(item)}")
            items.append(_item(item, f"item {i}"))
        return np.stack(items), False
    raise DataError(f"input: expected an array, image, file or drawing (or a list of them), got {_describe(x)}")


def as_sequences(x: Any) -> tuple[np.ndarray, bool]:
    """(batch of (N, STEPS, 4) float32 point rows, whether `x` was one drawing rather than a batch)."""
    if _is_drawing(x) or isinstance(x, dict):
        return to_sequences([_drawing(x, "input")]), True
    if isinstance(x, Sequence) and not isinstance(x, str | bytes):
        if len(x) == 0:
            raise DataError("input: an empty batch (nothing to predict)")
        drawings = []
        for i, item in enumerate(x):
            if not (_is_drawing(item) or isinstance(item, dict)):
                raise DataError(f"item {i}: {_STROKES_ONLY}, not {_describe(item)}")
            drawings.append(_drawing(item, f"item {i}"))
        return to_sequences(drawings), False
    raise DataError(f"input: {_STROKES_ONLY}, not {_describe(x)}")


_STROKES_ONLY = "this model reads strokes (input kind 'strokes'): give drawings or ndjson records"


def _is_single(x: Any) -> bool:
    return isinstance(x, str | Path | dict) or _is_pil(x) or _is_drawing(x)


def _is_pil(x: Any) -> bool:
    image_module = sys.modules.get("PIL.Image")  # an app can only hold a PIL image if PIL is loaded
    return image_module is not None and isinstance(x, image_module.Image)


def _is_drawing(x: Any) -> bool:
    """Strokes `[[[x...], [y...]], ...]`, as opposed to a list of drawings or of other items."""
    if not isinstance(x, list | tuple) or not x:
        return False
    stroke = x[0]
    if not isinstance(stroke, list | tuple) or len(stroke) not in (2, 3) or not isinstance(stroke[0], list | tuple | np.ndarray):
        return False
    return not any(isinstance(v, list | tuple | dict | np.ndarray) for v in stroke[0][:1])  # numbers, not nested items


def _item(x: Any, where: str) -> np.ndarray:
    if isinstance(x, np.ndarray):
        batch, single = _array_batch(x, where)
        if not single:
            raise DataError(f"{where}: a batch inside a batch (array of shape {x.shape})")
        return batch[0]
    if isinstance(x, str | Path):
        return bitmap_from_image(open_image(x), str(x)).astype(np.float32)
    if _is_pil(x):
        return bitmap_from_image(x, where).astype(np.float32)
    return rasterize(_drawing(x, where)).astype(np.float32)


def _drawing(x: Any, where: str) -> Drawing:
    """A drawing, or the drawing of an ndjson record, checked and in simplified form."""
    if isinstance(x, dict):
        if "drawing" not in x:
            raise DataError(f"{where}: a record without a 'drawing' field")
        x = x["drawing"]
    return parse_drawing(_plain_lists(x), where)[0]


def _plain_lists(x: Any) -> Any:
    """Tuples and numpy rows in a drawing -> lists, the JSON shape `parse_drawing` checks."""
    if isinstance(x, tuple | list):
        return [_plain_lists(v) for v in x]
    if isinstance(x, np.ndarray):
        return x.tolist()
    return x


def _array_batch(x: np.ndarray, where: str = "input") -> tuple[np.ndarray, bool]:
    if x.dtype == np.uint8 and x.shape == (SIDE, SIDE):  # the commonest call, kept cheap: any uint8 bitmap is valid
        return x[None], True
    if x.dtype.kind not in "uif":
        raise DataError(f"{where}: bitmaps must be uint8 or float arrays, got dtype {x.dtype}")
    shape = x.shape
    if shape in ((SIDE, SIDE), (SIDE, SIDE, 1), (PIXELS,)):
        batch, single = x.reshape(1, SIDE, SIDE), True
    elif x.ndim >= 2 and (shape[1:] in ((SIDE, SIDE), (SIDE, SIDE, 1), (PIXELS,))):
        batch, single = x.reshape(len(x), SIDE, SIDE), False
    else:
        raise DataError(
            f"{where}: this model reads bitmaps (input kind 'bitmap'): 28x28 (or 28x28x1, or 784 long), with an optional batch axis; "
            f"got shape {shape}"
        )
    if len(batch) == 0:
        raise DataError(f"{where}: an empty batch (nothing to predict)")
    if x.dtype.kind == "f" and not np.isfinite(batch).all():
        raise DataError(f"{where}: the array has NaN or infinite values")
    if x.dtype != np.uint8 and (batch.min() < 0 or batch.max() > 255):
        raise DataError(f"{where}: values must lie in 0-255 (0 = background, 255 = ink), got {batch.min():g} to {batch.max():g}")
    return (batch if x.dtype == np.uint8 else batch.astype(np.float32)), single


def as_pictures(x: Any, spec: InputSpec) -> tuple[np.ndarray, bool]:
    """For a picture model trained elsewhere: (batch in the model's own range, whether `x` was one item). Each item an
    image file, a PIL image, or an (H, W), (H, W, 1) or (H, W, 3) array of 0-255 pixels of any size (a 4-d array is a
    batch), resized bilinearly to the contract's size and converted to its channels, then mapped into its range."""
    if isinstance(x, np.ndarray) and x.ndim == 4:
        if len(x) == 0:
            raise DataError("input: an empty batch (nothing to predict)")
        items, single = [_picture(item, spec, f"item {i}") for i, item in enumerate(x)], False
    elif _is_single(x) or isinstance(x, np.ndarray):
        items, single = [_picture(x, spec, "input")], True
    elif isinstance(x, Sequence) and not isinstance(x, str | bytes):
        if len(x) == 0:
            raise DataError("input: an empty batch (nothing to predict)")
        items, single = [_picture(item, spec, f"item {i}") for i, item in enumerate(x)], False
    else:
        raise DataError(f"input: expected an image, image file or pixel array (or a list of them), got {_describe(x)}")
    return spec.model_input(np.stack(items)), single


def _picture(x: Any, spec: InputSpec, where: str) -> np.ndarray:
    if isinstance(x, str | Path):
        image = open_image(x)
    elif _is_pil(x):
        image = x
    elif isinstance(x, np.ndarray):
        image = _array_image(x, where)
    else:
        raise DataError(f"{where}: expected an image, image file or pixel array, got {_describe(x)}")
    return fit_picture(image, spec.size, spec.shape[-1])


def _array_image(x: np.ndarray, where: str) -> Any:
    from PIL import Image

    if x.ndim == 3 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim not in (2, 3) or (x.ndim == 3 and x.shape[-1] != 3) or min(x.shape[:2]) == 0:
        raise DataError(f"{where}: a picture array is (H, W), (H, W, 1) or (H, W, 3) pixels; got shape {x.shape}")
    if x.dtype.kind not in "uif":
        raise DataError(f"{where}: pixels must be uint8 or float arrays, got dtype {x.dtype}")
    if x.shape[0] > 16_384 or x.shape[1] > 16_384:
        raise DataError(f"{where}: a {x.shape[1]}x{x.shape[0]} array has a side over 16,384 pixels")
    if x.dtype != np.uint8:
        if not np.isfinite(x).all():
            raise DataError(f"{where}: the array has NaN or infinite values")
        if x.min() < 0 or x.max() > 255:
            raise DataError(f"{where}: pixel values must lie in 0-255, got {x.min():g} to {x.max():g}")
        x = np.round(x).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(x))


def _describe(x: Any) -> str:
    if isinstance(x, np.ndarray):
        return f"an array of shape {x.shape}"
    if isinstance(x, str | Path):
        return f"the file path {str(x)!r}"
    if _is_pil(x):
        return "an image"
    return type(x).__name__
