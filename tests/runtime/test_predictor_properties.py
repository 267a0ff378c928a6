"""Property-based: whatever an app passes, the predictor answers with probabilities summing to 1 or raises
the project's own ValueError, never anything else."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sketch_edge.data.sequence import CHANNELS, STEPS
from sketch_edge.errors import SketchEdgeError
from sketch_edge.runtime import Predictor
from tests.helpers import linear_softmax_onnx, linear_strokes_onnx

pytest.importorskip("onnx")

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def predictor(tmp_path_factory):
    weights = np.random.default_rng(0).normal(0, 0.01, size=(784, 4)).astype(np.float32)
    path = linear_softmax_onnx(tmp_path_factory.mktemp("prop") / "m.onnx", weights, {"labels": list("abcd"), "model": "linear"})
    return Predictor(path)


@pytest.fixture(scope="module")
def stroke_predictor(tmp_path_factory):
    weights = np.random.default_rng(0).normal(0, 0.001, size=(STEPS * CHANNELS, 4)).astype(np.float32)
    metadata = {"labels": list("abcd"), "model": "linear", "input": {"kind": "strokes"}}
    path = linear_strokes_onnx(tmp_path_factory.mktemp("prop") / "s.onnx", weights, metadata)
    return Predictor(path)


def _answers_or_refuses(predictor, x):
    try:
        result = predictor.predict(x, top=4)
    except SketchEdgeError as exc:
        assert isinstance(exc, ValueError) and str(exc)
        event("refused")
        return
    event("answered")
    rows = result if result and isinstance(result[0], list) else [result]
    for row in rows:
        assert [label for label, _ in row] != [] and sum(p for _, p in row) == pytest.approx(1.0, abs=1e-5)
        assert all(0.0 <= p <= 1.0 for _, p in row)


shapes = st.sampled_from([(28, 28), (28, 28, 1), (784,), (3, 28, 28), (2, 28, 28, 1), (1, 784), (27, 28), (28,), (0, 28, 28), (2, 2)])
dtypes = st.sampled_from(["uint8", "int16", "int64", "float16", "float32", "float64", "bool", "complex64"])


@SETTINGS
@given(data=st.data())
def test_arbitrary_arrays(predictor, data):
    dtype = np.dtype(data.draw(dtypes))
    elements = None if dtype.kind in "bc" else (hnp.from_dtype(dtype, allow_nan=True, allow_infinity=True) if dtype.kind == "f" else None)
    x = data.draw(hnp.arrays(dtype, data.draw(shapes), elements=elements))
    _answers_or_refuses(predictor, x)


coordinate = st.one_of(
    st.integers(-50, 400), st.floats(allow_nan=True, allow_infinity=True, width=64), st.floats(-1e6, 1e6), st.just("x"), st.none()
)
stroke = st.one_of(
    st.lists(st.lists(coordinate, max_size=6), min_size=0, max_size=4),  # rows of any count and length
    st.integers(0, 30).flatmap(lambda n: st.lists(st.lists(st.integers(0, 255), min_size=n, max_size=n), min_size=2, max_size=3)),
)


@SETTINGS
@given(drawing=st.lists(stroke, max_size=4))
def test_arbitrary_strokes(predictor, drawing):
    _answers_or_refuses(predictor, drawing)
    _answers_or_refuses(predictor, {"drawing": drawing})


long_stroke = st.integers(0, 400).flatmap(lambda n: st.lists(st.lists(st.integers(0, 255), min_size=n, max_size=n), min_size=2, max_size=2))


@SETTINGS
@given(drawing=st.lists(st.one_of(stroke, long_stroke), max_size=6))
def test_arbitrary_strokes_on_a_stroke_model(stroke_predictor, drawing):
    _answers_or_refuses(stroke_predictor, drawing)
    _answers_or_refuses(stroke_predictor, [{"drawing": drawing}, drawing])


@SETTINGS
@given(data=st.data())
def test_arrays_are_always_refused_by_a_stroke_model(stroke_predictor, data):
    x = data.draw(hnp.arrays(np.float32, data.draw(shapes)))
    with pytest.raises(SketchEdgeError, match="reads strokes"):
        stroke_predictor.predict(x)
