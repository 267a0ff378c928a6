import numpy as np
import pytest

from sketch_edge.data import load_source, synthetic
from sketch_edge.errors import DataError


def test_same_seed_same_drawings_other_seed_other_drawings():
    a, _ = synthetic.generate(("star", "house"), per_class=5, seed=7)
    b, _ = synthetic.generate(("star", "house"), per_class=5, seed=7)
    c, _ = synthetic.generate(("star", "house"), per_class=5, seed=8)
    assert a == b and a != c


def test_a_class_does_not_depend_on_the_others_asked_for():
    alone, _ = synthetic.generate(("house",), per_class=4, seed=1)
    mixed, y = synthetic.generate(("star", "house"), per_class=4, seed=1)
    assert alone == [d for d, label in zip(mixed, y, strict=True) if label == 1]


def test_drawings_are_in_quickdraw_simplified_form():
    drawings, y = synthetic.generate(per_class=10, seed=0)
    assert len(drawings) == 10 * len(synthetic.CLASSES) and len(synthetic.CLASSES) >= 10
    for d in drawings:
        points = np.concatenate([np.array(s) for s in d], axis=1)
        assert (
            points.dtype.kind == "i" and points.min() <= 5 and 250 <= points.max() <= 255
        )  # aligned, scaled (RDP may drop the extreme point)


def test_drawings_vary_like_a_person_draws():
    drawings, _ = synthetic.generate(("house",), per_class=200, seed=0)
    stroke_counts = {len(d) for d in drawings}
    assert len(stroke_counts) >= 3  # missing and stray strokes
    first_stroke_lengths = {len(d[0][0]) for d in drawings}
    assert len(first_stroke_lengths) > 10  # stroke order and wobble differ


def test_unknown_synthetic_class():
    with pytest.raises(DataError, match="did you mean 'circle'"):
        load_source("synthetic", classes=["circel"])
