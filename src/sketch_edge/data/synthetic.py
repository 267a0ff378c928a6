"""A built-in generator of QuickDraw-format doodles: the default data, and what the tests use.

Each class is a template of strokes (unit square, y down). Every sample is drawn
the way people draw: the template is jittered by an affine map, each stroke
wobbles and may overshoot its ends, strokes come in a shuffled order and
direction, one may be missing or a stray one added, and the result goes through
QuickDraw's own normalisation (align, scale to 0-255, resample, RDP). The same
seed gives the same drawings.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from sketch_edge.data.drawing import Drawing, simplify_raw

Strokes = list[np.ndarray]  # each (n, 2), unit square, y down


def _arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int = 24) -> np.ndarray:
    t = np.linspace(a0, a1, n)
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


def _poly(*pts: tuple[float, float]) -> np.ndarray:
    return np.asarray(pts, dtype=np.float64)


def _circle() -> Strokes:
    return [_arc(0.5, 0.5, 0.5, 0.5, 0, 2 * math.pi, 40)]


def _square() -> Strokes:
    return [_poly((0, 0), (1, 0), (1, 1), (0, 1), (0, 0))]


def _triangle() -> Strokes:
    return [_poly((0.5, 0), (1, 1), (0, 1), (0.5, 0))]


def _star() -> Strokes:
    pts = [(0.5 + 0.5 * math.sin(k * 4 * math.pi / 5), 0.5 - 0.5 * math.cos(k * 4 * math.pi / 5)) for k in range(6)]
    return [_poly(*pts)]


def _house() -> Strokes:
    return [
        _poly((0.1, 0.45), (0.1, 1), (0.9, 1), (0.9, 0.45)),
        _poly((0, 0.5), (0.5, 0), (1, 0.5)),
        _poly((0.42, 1), (0.42, 0.7), (0.58, 0.7), (0.58, 1)),
    ]


def _arrow() -> Strokes:
    return [_poly((0, 0.5), (1, 0.5)), _poly((0.65, 0.2), (1, 0.5), (0.65, 0.8))]


def _heart() -> Strokes:
    t = np.linspace(0, 2 * math.pi, 48)
    x = 16 * np.sin(t) ** 3
    y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
    return [np.stack([(x + 16) / 32, (y + 17) / 29], axis=1)]


def _lightning() -> Strokes:
    return [_poly((0.6, 0), (0.25, 0.55), (0.6, 0.5), (0.35, 1), (0.85, 0.4), (0.5, 0.45), (0.75, 0))]


def _smiley() -> Strokes:
    return [
        _arc(0.5, 0.5, 0.5, 0.5, 0, 2 * math.pi, 40),
        _poly((0.35, 0.3), (0.35, 0.4)),
        _poly((0.65, 0.3), (0.65, 0.4)),
        _arc(0.5, 0.55, 0.25, 0.2, 0.2, math.pi - 0.2, 12),
    ]


def _sun() -> Strokes:
    rays = [
        _poly((0.5 + 0.32 * math.cos(a), 0.5 + 0.32 * math.sin(a)), (0.5 + 0.5 * math.cos(a), 0.5 + 0.5 * math.sin(a)))
        for a in np.linspace(0, 2 * math.pi, 8, endpoint=False)
    ]
    return [_arc(0.5, 0.5, 0.25, 0.25, 0, 2 * math.pi, 30), *rays]


def _fish() -> Strokes:
    body = np.concatenate([_arc(0.4, 0.5, 0.4, 0.25, math.pi, 2 * math.pi, 16), _arc(0.4, 0.5, 0.4, 0.25, 0, math.pi, 16)])
    return [body, _poly((0.75, 0.5), (1, 0.25), (1, 0.75), (0.75, 0.5)), _poly((0.2, 0.45), (0.2, 0.47))]


def _envelope() -> Strokes:
    return [_poly((0, 0.2), (1, 0.2), (1, 0.8), (0, 0.8), (0, 0.2)), _poly((0, 0.2), (0.5, 0.55), (1, 0.2))]


TEMPLATES: dict[str, Callable[[], Strokes]] = {
    "circle": _circle,
    "square": _square,
    "triangle": _triangle,
    "star": _star,
    "house": _house,
    "arrow": _arrow,
    "heart": _heart,
    "lightning": _lightning,
    "smiley face": _smiley,
    "sun": _sun,
    "fish": _fish,
    "envelope": _envelope,
}
CLASSES: tuple[str, ...] = tuple(TEMPLATES)

# How messy people are; tuned so the seed CNN lands near 90% test top-1, not 100%.
ROTATION_DEG = 30.0
SHEAR = 0.35
ASPECT = 0.5
WOBBLE = 0.07
OVERSHOOT = 0.18
P_MISSING_STROKE = 0.3
P_EXTRA_STROKE = 0.35


def generate(classes: tuple[str, ...] = CLASSES, per_class: int = 1000, seed: int = 0) -> tuple[list[Drawing], np.ndarray]:
    """`per_class` drawings of each class, in class order; returns (drawings, label indices)."""
    drawings = [draw(name, seed, position) for name in classes for position in range(per_class)]
    return drawings, np.repeat(np.arange(len(classes), dtype=np.int32), per_class)


def draw(name: str, seed: int, position: int) -> Drawing:
    """Drawing number `position` of class `name`: its own random stream, so any drawing can be made without the
    others (training streams only its split) and a class's drawings do not depend on the other classes asked for."""
    return draw_like_a_person(TEMPLATES[name](), np.random.default_rng([seed, CLASSES.index(name), position]))


def draw_like_a_person(template: Strokes, rng: np.random.Generator) -> Drawing:
    strokes = [s.copy() for s in template]
    if len(strokes) > 1 and rng.random() < P_MISSING_STROKE:
        strokes.pop(int(rng.integers(len(strokes))))
    if rng.random() < P_EXTRA_STROKE:
        strokes.append(_stray_stroke(rng))
    order = rng.permutation(len(strokes))
    strokes = [strokes[i][::-1] if rng.random() < 0.3 else strokes[i] for i in order]

    affine = _random_affine(rng)
    canvas_scale = rng.uniform(50, 900)  # device pixels: QuickDraw's normalisation removes it
    canvas_shift = rng.uniform(0, 500, size=2)
    raw = []
    for s in strokes:
        s = _overshoot(s, rng)
        s = _wobble(s, rng)
        s = s @ affine.T
        raw.append((s * canvas_scale + canvas_shift).T)
    return simplify_raw(raw)


def _random_affine(rng: np.random.Generator) -> np.ndarray:
    a = math.radians(rng.normal(0, ROTATION_DEG / 2))
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    shear = np.array([[1, rng.uniform(-SHEAR, SHEAR)], [0, 1]])
    stretch = np.diag(np.exp(rng.uniform(-ASPECT, ASPECT, size=2)))
    return rot @ shear @ stretch


def _overshoot(s: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Extend or cut the ends a little, as a hand does at corners and closures."""
    if len(s) < 2:
        return s
    head = s[0] + (s[0] - s[1]) / (np.linalg.norm(s[0] - s[1]) + 1e-9) * rng.uniform(-0.3, 1) * OVERSHOOT
    tail = s[-1] + (s[-1] - s[-2]) / (np.linalg.norm(s[-1] - s[-2]) + 1e-9) * rng.uniform(-0.3, 1) * OVERSHOOT
    return np.vstack([head, s, tail])


def _wobble(s: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Low-frequency drift along the stroke (a smoothed random walk), not pixel noise."""
    seg = np.linalg.norm(np.diff(s, axis=0), axis=1)
    n = max(2, int(seg.sum() / 0.02))
    dist = np.concatenate([[0], np.cumsum(seg)])
    t = np.linspace(0, dist[-1], n)
    dense = np.stack([np.interp(t, dist, s[:, k]) for k in range(2)], axis=1)
    walk = np.cumsum(rng.normal(0, 1, size=(n, 2)), axis=0)
    kernel = np.hanning(min(n, 15) + 2)[1:-1]  # without the zero end points, so it never sums to 0
    walk = np.stack([np.convolve(walk[:, k], kernel / kernel.sum(), mode="same") for k in range(2)], axis=1)
    walk -= walk.mean(axis=0)
    walk /= np.abs(walk).max() + 1e-9
    return dense + walk * WOBBLE * rng.uniform(0.3, 1.5)


def _stray_stroke(rng: np.random.Generator) -> np.ndarray:
    start = rng.uniform(0, 1, size=2)
    steps = rng.normal(0, 0.08, size=(int(rng.integers(2, 6)), 2))
    return np.vstack([start, start + np.cumsum(steps, axis=0)])
