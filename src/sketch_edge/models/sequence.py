"""Stroke models: 1-D convolutions (and a recurrent layer) over the drawing's point sequence.

They read `(x, y, stroke_end, present)` rows of 0-255 values (`sketch_edge.data.sequence`),
scale them to 0-1 themselves, and zero the padded rows after every layer (`PaddingMask`), so
a drawing gives the same answer whatever the padding. Recurrent layers return
their whole sequence: a causal layer's outputs on the drawing's points cannot
depend on the padding after them, and the masked max over time ignores it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sketch_edge.data.dataset import INPUT_SPECS
from sketch_edge.data.sequence import CHANNELS, STEPS
from sketch_edge.models.registry import register

if TYPE_CHECKING:
    import keras

INPUT_NAME = INPUT_SPECS["strokes"].name
OUTPUT_NAME = "probabilities"


def _conv_stack(points: keras.KerasTensor, blocks: tuple[tuple[int, int, int], ...]) -> tuple[keras.KerasTensor, keras.KerasTensor]:
    """Per (filters, kernel, dilation) block: convolution, batch norm, ReLU, padding mask; and the scaled input.

    The convolutions run over the points as a (steps, 1) image: tf2onnx puts a Squeeze
    between a Conv1D and its batch norm, so the norm would not fold into the convolution.
    """
    from keras import layers

    from sketch_edge.models.layers import PaddingMask

    scaled = layers.Rescaling(1 / 255)(layers.Reshape((points.shape[1], 1, CHANNELS))(points))
    x = PaddingMask()(scaled, scaled)
    for filters, kernel, dilation in blocks:
        x = layers.Conv2D(filters, (kernel, 1), padding="same", dilation_rate=(dilation, 1), use_bias=False)(x)
        x = layers.BatchNormalization(momentum=0.9)(x)
        x = layers.ReLU()(x)
        x = PaddingMask()(x, scaled)
    return x, scaled


def _head(x: keras.KerasTensor, points: keras.KerasTensor, num_classes: int, name: str) -> keras.Model:
    import keras
    from keras import layers

    x = layers.GlobalMaxPooling2D()(x) if len(x.shape) == 4 else layers.GlobalMaxPooling1D()(x)
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(0.3)(x)
    outputs = layers.Dense(num_classes, activation="softmax", name=OUTPUT_NAME)(x)
    return keras.Model(points, outputs, name=name)


def _recurrent(cell: str, num_classes: int, steps: int, name: str) -> keras.Model:
    import keras
    from keras import layers

    from sketch_edge.models.layers import PaddingMask

    points = keras.Input(shape=(steps, CHANNELS), name=INPUT_NAME)
    x, scaled = _conv_stack(points, ((48, 5, 1), (64, 5, 1)))
    recurrent = layers.LSTM if cell == "lstm" else layers.GRU
    x = recurrent(128, return_sequences=True)(layers.Reshape((steps, x.shape[-1]))(x))
    x = PaddingMask()(x, layers.Reshape((steps, CHANNELS))(scaled))
    return _head(x, points, num_classes, name)


@register("seq-conv", input_kind="strokes", epochs=20, batch_size=64, learning_rate=2e-3, augment=1.0, label_smoothing=0.1)
def seq_conv(num_classes: int, steps: int = STEPS) -> keras.Model:
    """Temporal CNN: four dilated Conv1D blocks over the points, global max over time, dense head (no recurrence)."""
    import keras

    points = keras.Input(shape=(steps, CHANNELS), name=INPUT_NAME)
    x, _ = _conv_stack(points, ((48, 5, 1), (64, 5, 1), (96, 5, 2), (128, 3, 4)))
    return _head(x, points, num_classes, "seq_conv")


# The recurrent models are trained without augmentation: the runs measured (README) were; with it is untried.
@register("seq-lstm", input_kind="strokes", epochs=12, batch_size=64, learning_rate=2e-3, label_smoothing=0.1)
def seq_lstm(num_classes: int, steps: int = STEPS) -> keras.Model:
    """The tutorial's shape: two Conv1D blocks, an LSTM(128) over the points, global max over time, dense head."""
    return _recurrent("lstm", num_classes, steps, "seq_lstm")


@register("seq-gru", input_kind="strokes", epochs=12, batch_size=64, learning_rate=2e-3, label_smoothing=0.1)
def seq_gru(num_classes: int, steps: int = STEPS) -> keras.Model:
    """Two Conv1D blocks, a GRU(128) over the points, global max over time, dense head."""
    return _recurrent("gru", num_classes, steps, "seq_gru")
