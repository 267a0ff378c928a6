"""Accuracy metrics: ties broken as argmax breaks them."""

import numpy as np

from sketch_edge.metrics import topk_accuracy


def test_tied_scores_go_to_the_lower_class_as_argmax_gives_them():
    """A uint8 output ties often; top-1 must then be the answer an app taking argmax (or MediaPipe) sees. numpy's
    default sort is not stable past a few elements: over 345 classes it put another tied class first in half the rows."""
    probs = (np.random.default_rng(0).integers(0, 3, (200, 345)) / 4).astype(np.float32)
    first_max = probs.argmax(axis=1)
    assert topk_accuracy(probs, first_max, 1) == 1.0
    second_max = np.array([np.flatnonzero(row == row.max())[1] for row in probs])
    assert topk_accuracy(probs, second_max, 1) == 0.0 and topk_accuracy(probs, second_max, 2) == 1.0


def test_the_wilson_interval_holds_the_rate_stays_in_bounds_and_narrows_with_more_drawings():
    from sketch_edge.metrics import wilson_interval

    for correct, total in ((375, 400), (3750, 4000), (400, 400), (0, 50)):
        low, high = wilson_interval(correct, total)
        assert 0.0 <= low <= correct / total <= high <= 1.0
    assert np.diff(wilson_interval(3750, 4000)) < np.diff(wilson_interval(375, 400))
    # 95%: of many samples of 400 at a true 0.9, about 95 in 100 intervals hold 0.9
    rng = np.random.default_rng(1)
    held = [lo <= 0.9 <= hi for lo, hi in (wilson_interval(int(rng.binomial(400, 0.9)), 400) for _ in range(2000))]
    assert 0.93 < np.mean(held) < 0.97
