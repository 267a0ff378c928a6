"""The training loop stops with one line when the loss is not a number, instead of training on."""

import numpy as np
import pytest

from sketch_edge.errors import TrainingError

tf = pytest.importorskip("tensorflow")
pytestmark = pytest.mark.slow


def test_a_diverging_loss_stops_training_with_one_line():
    import keras

    from sketch_edge.train.input import Errors
    from sketch_edge.train.loop import Schedule, fit

    def build() -> keras.Model:  # inf * 0 ink: NaN probabilities, as a diverged model gives
        inputs = keras.Input((4,))
        x = keras.layers.Rescaling(float("inf"))(inputs)
        return keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))

    x = np.zeros((8, 4), np.float32)
    y = np.eye(2, dtype=np.float32)[np.arange(8) % 2]

    def stream(context: object) -> tf.data.Dataset:
        return tf.data.Dataset.from_tensors((x, y)).repeat()

    schedule = Schedule(epochs=3, steps_per_epoch=2, global_batch=8, learning_rate=1e-3, label_smoothing=0.0, patience=3)
    with pytest.raises(TrainingError, match=r"^training diverged: the loss is nan in epoch 1$"):
        fit(tf.distribute.get_strategy(), build, stream, (x, np.arange(8) % 2), schedule, Errors(), verbose=False)
