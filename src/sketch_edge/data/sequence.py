"""Drawings -> the fixed-length point sequences the stroke models read (mirrored in `web/src/sequence.js`).

Each point of the simplified drawing, in the player's own order, is one row
`(x, y, stroke_end, present)`: absolute coordinates 0-255, ON (255) on the last
point of each stroke, ON on every real row. Rows after the drawing are all zero,
and the models zero every padded row after each layer, so padding never changes the answer.

Why these values: every channel is an integer in 0-255, so an int8 input at scale 1
holds the drawing exactly and one scale (x / 255, inside the model) serves every
channel. sketch-rnn's deltas span -255..255 (an int8 input would lose a bit), and
0/1 flags beside 0-255 coordinates need a per-channel scale, which ONNX Runtime's
static quantization stores per tensor: 1/255 rounds to 0 and the coordinates vanish
(measured: 31% agreement). The first convolution learns the deltas it needs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sketch_edge.data.drawing import Drawing

STEPS = 100
"""Points kept per drawing: the 98th percentile of the point counts of the 17,000 real drawings in
`strokes/`. A longer drawing keeps its first STEPS points (1.8% of those drawings are cut)."""
CHANNELS = 4
PRESENT = 3
"""Index of the `present` channel: ON on real points, 0 on padding."""
ON = 255.0
"""The value of a set flag."""


def to_sequence(drawing: Drawing, steps: int = STEPS) -> np.ndarray:
    """(steps, 4) float32 rows `(x, y, stroke_end, present)`, flags 0 or ON; the drawing's first `steps` points, then zero rows."""
    out = np.zeros((steps, CHANNELS), dtype=np.float32)
    row = 0
    for xs, ys in drawing:
        n = min(len(xs), steps - row)
        if n <= 0:  # an empty stroke, or the sequence is full
            continue
        out[row : row + n, 0] = xs[:n]
        out[row : row + n, 1] = ys[:n]
        if n == len(xs):  # a stroke cut at the end has no end within the sequence
            out[row + n - 1, 2] = ON
        out[row : row + n, PRESENT] = ON
        row += n
    return out


def to_sequences(drawings: Sequence[Drawing], steps: int = STEPS) -> np.ndarray:
    """(N, steps, 4) float32: `to_sequence` of every drawing."""
    out = np.zeros((len(drawings), steps, CHANNELS), dtype=np.float32)
    for i, drawing in enumerate(drawings):
        out[i] = to_sequence(drawing, steps)
    return out
