"""The training loop: one line when the loss is not a number, the distillation term, consistent teaching."""

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


@pytest.mark.parametrize("temperature", [1.0, 3.0])
def test_the_distillation_term_is_t_squared_kl_at_the_temperature(temperature):
    from sketch_edge.train.distill import soften
    from sketch_edge.train.loop import distillation_loss
    from sketch_edge.train.loop import soften as soften_tensor

    student = np.array([[0.6, 0.3, 0.1], [0.1, 0.1, 0.8]], np.float32)
    teachers = soften(np.array([[0.2, 0.7, 0.1], [0.1, 0.1, 0.8]]), temperature)
    softened = soften(student, temperature)
    expected = temperature**2 * (teachers * (np.log(teachers) - np.log(softened))).sum(1)
    found = np.asarray(distillation_loss(tf.constant(teachers, tf.float32), tf.constant(student), temperature))
    assert found == pytest.approx(expected, rel=1e-4, abs=1e-6)
    assert found[1] == pytest.approx(0, abs=1e-6)  # a student that agrees with its teachers pays nothing
    assert np.asarray(soften_tensor(tf.constant(student), temperature)) == pytest.approx(softened, rel=1e-5)  # consistent teaching's
    assert np.isfinite(np.asarray(distillation_loss(tf.constant([[1.0, 0, 0]]), tf.constant([[0.0, 1.0, 0]]), temperature))).all()


def test_consistent_teachers_answer_the_batch_the_student_trains_on():
    """Labels that are noise, mix 1: the student can only learn what the teacher says of each batch it is given, so it
    ends agreeing with the teacher on drawings neither has seen (and nowhere near the noisy labels)."""
    import keras

    from sketch_edge.train.input import Errors
    from sketch_edge.train.loop import Schedule, fit

    rng = np.random.default_rng(0)
    weights = rng.normal(size=(6, 3)).astype(np.float32)

    def linear() -> keras.Model:
        inputs = keras.Input((6,))
        return keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(inputs))

    def teachers() -> list[keras.Model]:
        teacher = linear()
        teacher.layers[-1].set_weights([weights * 4, np.zeros(3, np.float32)])
        return [teacher]

    def stream(context: object) -> tf.data.Dataset:
        def batch(_: object) -> tuple[object, object]:
            x = tf.random.normal((64, 6), seed=None)
            return x, tf.one_hot(tf.random.uniform((64,), 0, 3, tf.int32), 3)  # labels: noise

        return tf.data.Dataset.range(1).repeat().map(batch)

    fresh = rng.normal(size=(2000, 6)).astype(np.float32)
    noise = rng.integers(0, 3, 2000)
    schedule = Schedule(epochs=4, steps_per_epoch=100, global_batch=64, learning_rate=0.05, label_smoothing=0.0, patience=4, mix=1.0)
    fitted = fit(tf.distribute.get_strategy(), linear, stream, (fresh, noise), schedule, Errors(), verbose=False, teach=teachers)
    answers = np.asarray(fitted.model(fresh, training=False)).argmax(1)
    assert (answers == (fresh @ weights).argmax(1)).mean() >= 0.9
    assert (answers == noise).mean() < 0.5
