"""Drawings -> point rows for the stroke models: values, flags, padding and the truncation rule."""

import numpy as np

from sketch_edge.data import load_source
from sketch_edge.data.sequence import CHANNELS, ON, PRESENT, STEPS, to_sequence, to_sequences

TRIANGLE = [[[0, 100, 50], [0, 0, 90]], [[10], [20]]]


def test_rows_are_points_in_drawing_order_with_flags_then_zeros():
    rows = to_sequence(TRIANGLE)
    assert rows.shape == (STEPS, CHANNELS) and rows.dtype == np.float32
    expected = [[0, 0, 0, ON], [100, 0, 0, ON], [50, 90, ON, ON], [10, 20, ON, ON]]
    assert rows[:4].tolist() == expected
    assert not rows[4:].any()


def test_a_long_drawing_keeps_its_first_points_and_a_cut_stroke_has_no_end():
    long_stroke = [list(range(150)), [7] * 150]
    rows = to_sequence([[[1, 2], [3, 4]], long_stroke])
    assert rows[:, PRESENT].tolist() == [ON] * STEPS
    assert rows[1].tolist() == [2, 4, ON, ON]  # the first stroke ends
    assert rows[2:, 0].tolist() == list(range(STEPS - 2)) and not rows[2:, 2].any()  # the second is cut: no end flag
    assert np.array_equal(to_sequence([[[1, 2], [3, 4]], long_stroke, [[9], [9]]]), rows)  # strokes past the end are dropped


def test_empty_strokes_add_no_rows():
    assert np.array_equal(to_sequence([[[], []], *TRIANGLE, [[], []]]), to_sequence(TRIANGLE))


def test_shorter_steps_and_batches():
    assert to_sequence(TRIANGLE, steps=3)[:, 2].tolist() == [0, 0, ON]
    batch = to_sequences([TRIANGLE, TRIANGLE[:1]])
    assert batch.shape == (2, STEPS, CHANNELS) and np.array_equal(batch[0], to_sequence(TRIANGLE))
    assert batch[1, :, PRESENT].sum() == 3 * ON


def test_dataset_features_are_the_sequences_of_its_drawings():
    data = load_source("synthetic", per_class=3)
    assert np.array_equal(data.features("strokes"), to_sequences(data.drawings))
