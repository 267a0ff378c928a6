"""A user's model: what its input and output must be, and where its pixel mapping comes from."""

from __future__ import annotations

import numpy as np
import pytest

from sketch_edge.errors import ModelError
from sketch_edge.models.contract import are_probabilities, check_shape, contract, parse_range, preprocessing_layer

pytestmark = pytest.mark.slow  # builds Keras models


def _model(shape: tuple, first: str | None = None, outputs: int = 3, inputs: int = 1):  # type: ignore[no-untyped-def]
    import keras

    ins = [keras.Input(shape) for _ in range(inputs)]
    x = ins[0]
    if first == "Rescaling":
        x = keras.layers.Rescaling(1 / 255)(x)
    elif first == "Normalization":
        x = keras.layers.Normalization(mean=0.0, variance=1.0)(x)
    x = keras.layers.GlobalAveragePooling2D()(x) if len(shape) == 3 else x
    return keras.Model(ins, keras.layers.Dense(outputs)(x))


def test_the_shape_a_classifier_must_have() -> None:
    shape = check_shape(_model((32, 40, 3)), "m.keras")
    assert (shape.height, shape.width, shape.channels, shape.classes) == (32, 40, 3, 3)
    assert check_shape(_model((None, None, 1)), "m.keras").height is None
    for model, message in (
        (_model((32, 32, 3), inputs=2), "2 inputs"),
        (_model((32, 32, 4)), "4 channels"),
        (_model((8, 8, 3)), "height is 8, outside 16..512"),
        (_model((32, 32, 3), outputs=1), "at least 2 classes"),
        (_model((10,)), "not an image batch"),
    ):
        with pytest.raises(ModelError, match=message):
            check_shape(model, "m.keras")


def test_the_pixel_mapping_comes_from_the_model_or_the_user_never_a_guess() -> None:
    for layer in ("Rescaling", "Normalization"):
        model = _model((32, 32, 3), first=layer)
        assert preprocessing_layer(model) == layer
        spec = contract(model, (32, 32), 3, None, "m.keras")
        assert (spec.scale, spec.offset, spec.colour, spec.kind) == (1.0, 0.0, "rgb", "image")
    bare = _model((32, 32, 3))
    with pytest.raises(ModelError, match="pass --input-range"):
        contract(bare, (32, 32), 3, None, "m.keras")
    spec = contract(bare, (32, 32), 3, (-1.0, 1.0), "m.keras")
    assert spec.model_input(np.array([0, 255], dtype=np.uint8)).tolist() == pytest.approx([-1.0, 1.0])
    assert spec.value_range == pytest.approx((-1.0, 1.0))


def test_input_range_is_checked() -> None:
    assert parse_range("-1,1") == (-1.0, 1.0)
    for text in ("1,-1", "0", "a,b", "nan,1", "0,inf"):
        with pytest.raises(ModelError, match="--input-range"):
            parse_range(text)


def test_probabilities_are_told_from_logits() -> None:
    probs = np.array([[0.2, 0.8], [1.0, 0.0]], dtype=np.float32)
    assert are_probabilities(probs)
    assert not are_probabilities(np.array([[2.0, -1.0], [0.1, 0.3]]))
    assert not are_probabilities(np.array([[0.3, 0.3], [0.5, 0.5]]))  # in range, but a row sums to 0.6
