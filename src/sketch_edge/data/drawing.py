"""QuickDraw drawings in memory, and the official conversions between their forms.

A drawing is QuickDraw's *simplified* form: a list of strokes `[[x...], [y...]]`
with integer coordinates 0-255. Raw drawings (float coordinates plus a time row)
are brought to that form by `simplify_raw`, the official pipeline; sketch-rnn's
stroke-3 arrays convert both ways.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from sketch_edge.errors import DataError

Drawing = list[list[list[int]]]
"""Strokes in QuickDraw's simplified format: `[[[x0, x1, ...], [y0, y1, ...]], ...]`."""

RDP_EPSILON = 2.0
MAX_RESAMPLED_POINTS = 10_000
"""Raw drawings are resampled at 1 unit: a real one gives a few thousand points, a 1 MB zigzag millions. Past
this many, the spacing grows so the drawing gives this many, which bounds the simplification's time."""


MAX_COORDINATE = 1e9
"""Raw coordinates are screen pixels (thousands); past this, measuring a drawing's extent overflows float64."""


def parse_drawing(obj: Any, where: str) -> tuple[Drawing, bool]:
    """Check a JSON `drawing` value; return it in simplified form and whether it was raw.

    Raw strokes have a third (time) row or non-integer coordinates; they get the
    official simplification. `where` names the file and line for error messages.
    """
    if not isinstance(obj, list) or not obj:
        raise DataError(f"{where}: 'drawing' must be a non-empty list of strokes")
    raw = False
    strokes: list[np.ndarray] = []
    for i, stroke in enumerate(obj):
        if not isinstance(stroke, list) or len(stroke) not in (2, 3):
            raise DataError(f"{where}: stroke {i} must be [[x...], [y...]] (or [[x...], [y...], [t...]] in raw form)")
        if not all(isinstance(row, list) and all(_is_number(v) for v in row) for row in stroke[:2]):
            raise DataError(f"{where}: stroke {i} has a coordinate that is not a number (text, a boolean, a list)")
        try:
            xy = np.asarray(stroke[:2], dtype=np.float64)
        except (TypeError, ValueError):
            raise DataError(f"{where}: stroke {i} has ragged coordinates") from None
        except OverflowError:  # an integer past 1e308: no float holds it
            raise DataError(f"{where}: stroke {i} has a coordinate too large for a number") from None
        if xy.ndim != 2 or xy.shape[1] == 0:
            raise DataError(f"{where}: stroke {i} has x and y rows of different or zero length")
        if not np.isfinite(xy).all():
            raise DataError(f"{where}: stroke {i} has NaN or infinite coordinates")
        if np.abs(xy).max() > MAX_COORDINATE:
            raise DataError(f"{where}: stroke {i} has a coordinate beyond ±{MAX_COORDINATE:.0e}, which no screen has")
        raw = raw or len(stroke) == 3 or not np.array_equal(xy, np.round(xy))
        strokes.append(xy)
    if raw:
        return simplify_raw(strokes), True
    if any(s.min() < 0 or s.max() > 255 for s in strokes):
        raise DataError(f"{where}: simplified coordinates must lie in 0-255")
    return [[s[0].astype(int).tolist(), s[1].astype(int).tolist()] for s in strokes], False


def _is_number(value: Any) -> bool:
    """A JSON number: an int or a float, not a boolean (True would be a coordinate of 1) nor a numeric string."""
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


def simplify_raw(strokes: Sequence[np.ndarray]) -> Drawing:
    """The official simplification: align to the top-left, scale uniformly to 0-255,
    resample at 1-pixel spacing, then Ramer-Douglas-Peucker with epsilon 2.0."""
    out: Drawing = []
    fitted = _fit_to_255(strokes)
    length = sum(_path_length(s.T) for s in fitted)
    spacing = max(1.0, length / MAX_RESAMPLED_POINTS)
    for s in fitted:
        pts = rdp(resample(s.T, spacing=spacing), RDP_EPSILON)
        pts = np.clip(np.round(pts), 0, 255).astype(int)
        out.append([pts[:, 0].tolist(), pts[:, 1].tolist()])
    return out


def _path_length(points: np.ndarray) -> float:
    delta = np.diff(points, axis=0)
    return float(np.sqrt((delta * delta).sum(axis=1)).sum())


def resample(points: np.ndarray, spacing: float) -> np.ndarray:
    """Points along the polyline every `spacing` units, then its last point.

    Written as plain arithmetic (no `np.interp`/`hypot`), step for step as in
    `web/src/drawing.js`, so the browser simplifies a drawing to the same integers.
    """
    if len(points) < 2:
        return points
    delta = points[1:] - points[:-1]
    seg = np.sqrt(delta[:, 0] * delta[:, 0] + delta[:, 1] * delta[:, 1])
    dist = np.concatenate([[0.0], np.cumsum(seg)])
    if dist[-1] == 0:
        return points[:1]
    steps = np.arange(0.0, dist[-1], spacing)
    j = np.searchsorted(dist, steps, side="right") - 1  # dist[j] <= step < dist[j + 1], so seg[j] > 0
    t = (steps - dist[j]) / seg[j]
    return np.concatenate([points[j] + t[:, None] * delta[j], points[-1:]])


def rdp(points: np.ndarray, epsilon: float) -> np.ndarray:
    """Ramer-Douglas-Peucker polyline simplification (iterative, so long strokes cannot overflow the stack)."""
    n = len(points)
    if n < 3:
        return points
    keep = np.zeros(n, dtype=bool)
    keep[0] = keep[-1] = True
    stack = [(0, n - 1)]
    while stack:
        first, last = stack.pop()
        if last - first < 2:
            continue
        (ax, ay), (bx, by) = points[first], points[last]
        inner = points[first + 1 : last]
        dx, dy = bx - ax, by - ay
        norm = math.sqrt(dx * dx + dy * dy)
        ix, iy = inner[:, 0] - ax, inner[:, 1] - ay
        if norm == 0:
            d = np.sqrt(ix * ix + iy * iy)
        else:
            d = np.abs(dx * iy - dy * ix) / norm
        i = int(np.argmax(d))
        if d[i] > epsilon:
            mid = first + 1 + i
            keep[mid] = True
            stack += [(first, mid), (mid, last)]
    return points[keep]


def to_stroke3(drawing: Drawing) -> np.ndarray:
    """sketch-rnn's stroke-3: rows `(dx, dy, pen_lifted_after_this_point)`; the first row is an offset from 0,0."""
    pts, lifts = [], []
    for xs, ys in drawing:
        pts.append(np.stack([xs, ys], axis=1))
        lift = np.zeros(len(xs))
        lift[-1] = 1
        lifts.append(lift)
    xy = np.concatenate(pts).astype(np.float32)
    deltas = np.diff(xy, axis=0, prepend=np.zeros((1, 2), np.float32))
    return np.concatenate([deltas, np.concatenate(lifts)[:, None].astype(np.float32)], axis=1)


def from_stroke3(stroke3: np.ndarray, where: str) -> Drawing:
    """Drawing from a stroke-3 array (as in sketch-rnn `.npz` files), rescaled to 0-255."""
    arr = np.asarray(stroke3)
    if arr.ndim != 2 or arr.shape[1] != 3 or len(arr) == 0:
        raise DataError(f"{where}: stroke-3 data must be a non-empty (n, 3) array, got shape {arr.shape}")
    if not np.isfinite(arr.astype(np.float64)).all():
        raise DataError(f"{where}: stroke-3 data has NaN or infinite values")
    xy = np.cumsum(arr[:, :2].astype(np.float64), axis=0)
    ends = np.flatnonzero(arr[:, 2] > 0) + 1
    pieces = [p for p in np.split(xy, ends) if len(p)]
    return normalise([p.T for p in pieces])


def normalise(strokes: Sequence[np.ndarray]) -> Drawing:
    """Align to the top-left and scale uniformly to 0-255 (no resampling)."""
    out = []
    for s in _fit_to_255(strokes):
        p = np.clip(np.round(s), 0, 255).astype(int)
        out.append([p[0].tolist(), p[1].tolist()])
    return out


def _fit_to_255(strokes: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Strokes as float (2, n) arrays moved to the top-left corner and scaled so the longer side spans 0-255."""
    strokes = [np.asarray(s, dtype=np.float64)[:2] for s in strokes]
    allpts = np.concatenate(strokes, axis=1)
    lo = allpts.min(axis=1, keepdims=True)
    extent = float((allpts.max(axis=1, keepdims=True) - lo).max())
    scale = 255.0 / extent if extent > 0 else 1.0
    return [(s - lo) * scale for s in strokes]
