"""The training loop: one loop for one process and for several workers, under a tf.distribute strategy.

Keras 3 `model.fit` fails under `MultiWorkerMirroredStrategy` ("unsupported type
PerReplica"), so the loop is written out: `strategy.run` of a step per batch,
the loss averaged over the global batch (`tf.nn.compute_average_loss`), counts
summed across workers (`strategy.reduce`). Batch norm uses the global batch's
statistics while training and its moving statistics are averaged across workers
after every epoch, so every worker evaluates, stops and saves the same model.
With one process the strategy is TensorFlow's default one and the loop is what
`fit` did: cosine-decayed Adam, label smoothing, early stopping on validation
accuracy with the best weights restored. A distilled model's loss adds the
teachers' term (Hinton et al., 2015): mix x T^2 x KL(teachers || student at T),
the T^2 keeping its gradients on the scale of the labels' term. The teachers'
probabilities come with each batch (computed before training), or, for consistent
teaching, from `teach` run on the batch the student sees.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from sketch_edge.errors import ClusterError, TrainingError, first_line
from sketch_edge.train import allocator
from sketch_edge.train.distill import EPSILON
from sketch_edge.train.input import Errors


@dataclass(frozen=True)
class Schedule:
    epochs: int
    steps_per_epoch: int
    global_batch: int
    learning_rate: float
    label_smoothing: float
    patience: int
    temperature: float = 1.0  # distillation (see distill.py): the teachers' targets come softened at this temperature
    mix: float = 0.0  # the teachers' share of the loss; 0: the labels alone (the stream has no teacher targets)


@dataclass(frozen=True)
class Fitted:
    model: Any
    history: dict[str, list[float]]
    seconds: float  # in the training loop, validation included (as `fit` counted it)
    steps: int  # training steps run
    weights_identical: bool  # every worker ended with bit-identical weights (checked, not assumed)


def fit(
    strategy: tf.distribute.Strategy,
    build: Callable[[], Any],
    make_stream: Callable[[tf.distribute.InputContext], tf.data.Dataset],
    val: tuple[np.ndarray, np.ndarray],
    schedule: Schedule,
    errors: Errors,
    verbose: bool,
    beat: Callable[[], None] = lambda: None,
    teach: Callable[[], list[Any]] | None = None,
) -> Fitted:
    """Train under `strategy`; `beat` is called after every step and every validation batch (a watchdog's pulse).

    `teach` builds the teachers' models (under the strategy's scope) for consistent teaching: their averaged
    probabilities of each augmented batch, softened at the schedule's temperature, are the distillation targets."""
    model, teachers, optimizer = _build(strategy, build, teach, schedule)
    synced = _synchronize_batch_norm(strategy, model)
    loss_fn = keras.losses.CategoricalCrossentropy(label_smoothing=schedule.label_smoothing, reduction=None)
    batches = iter(strategy.distribute_datasets_from_function(make_stream))
    train_step = _train_step(strategy, model, teachers, optimizer, loss_fn, schedule)
    average_stats = _average_stats(strategy, model)
    predict = tf.function(lambda x: model(x, training=False), autograph=False)
    history: dict[str, list[float]] = {"loss": [], "accuracy": [], "val_loss": [], "val_accuracy": []}
    stop = _EarlyStop(schedule)
    progress = _Progress(schedule.epochs) if verbose else None
    started = time.perf_counter()
    steps = 0
    try:
        for epoch in range(schedule.epochs):
            loss_sum, correct = _run_epoch(lambda: train_step(batches), schedule.steps_per_epoch, first=not steps, beat=beat)
            steps += schedule.steps_per_epoch
            if not np.isfinite(loss_sum):  # summed across workers: every worker stops here alike
                raise TrainingError(f"training diverged: the loss is {loss_sum} in epoch {epoch + 1}")
            average_stats()
            seen = schedule.steps_per_epoch * schedule.global_batch
            probs = predict_in_batches(predict, val[0], beat)
            targets = keras.utils.to_categorical(val[1], probs.shape[1])
            history["loss"].append(loss_sum / seen)
            history["accuracy"].append(correct / seen)
            history["val_loss"].append(float(np.mean(loss_fn(targets, probs))))
            history["val_accuracy"].append(float(np.mean(probs.argmax(1) == val[1])))
            if progress:
                progress.epoch_done(epoch, history)
            if stop.after(epoch, history["val_accuracy"][-1], model):
                break
    except tf.errors.OpError as exc:
        raise _training_error(exc, errors, strategy) from None
    finally:
        if progress:
            progress.stop()
    seconds = time.perf_counter() - started
    for layer in synced:
        layer.synchronized = False
    if stop.best is not None:
        model.set_weights(stop.best[1])
    return Fitted(model=model, history=history, seconds=seconds, steps=steps, weights_identical=_weights_identical(strategy, model))


def _run_epoch(step: Callable[[], tuple[Any, Any]], steps: int, *, first: bool, beat: Callable[[], None]) -> tuple[float, float]:
    """One epoch's training steps: the summed loss and correct answers (summed across workers)."""
    loss_sum = correct = 0.0
    for n in range(steps):
        step_loss, step_correct = step()
        if first and not n:  # the stream's generators have started: TensorFlow's malloc setting is in place now
            allocator.restore()
        beat()
        loss_sum += float(step_loss)
        correct += float(step_correct)
    return loss_sum, correct


def _build(
    strategy: tf.distribute.Strategy, build: Callable[[], Any], teach: Callable[[], list[Any]] | None, schedule: Schedule
) -> tuple[Any, list[Any], Any]:
    """The model, its teachers and the optimizer, made under the strategy's scope."""
    with strategy.scope():
        model = build()
        teachers = teach() if teach is not None else []
        # Cosine decay over the planned epochs: short CPU runs get most of their accuracy from a well-annealed end.
        lr = keras.optimizers.schedules.CosineDecay(
            schedule.learning_rate, decay_steps=schedule.epochs * schedule.steps_per_epoch, alpha=0.02
        )
        return model, teachers, keras.optimizers.Adam(lr)


def _synchronize_batch_norm(strategy: tf.distribute.Strategy, model: Any) -> list[Any]:
    """Batch statistics over the global batch: each worker reads its own files (its own classes, with one file per
    class), so per-worker statistics would normalise differently than the model will at inference. Only while
    training: the saved layer is the plain one, as one process writes it. Returns the layers synchronized."""
    if strategy.num_replicas_in_sync <= 1:
        return []
    synced = [layer for layer in _layers(model) if isinstance(layer, keras.layers.BatchNormalization)]
    for layer in synced:
        layer.synchronized = True
    return synced


def _train_step(
    strategy: tf.distribute.Strategy, model: Any, teachers: list[Any], optimizer: Any, loss_fn: Any, schedule: Schedule
) -> Callable[[Any], tuple[Any, Any]]:
    """One step on every replica: the summed loss and correct answers of the global batch."""

    @tf.function(autograph=False)
    def train_step(batches: Any) -> tuple[Any, Any]:
        def step(x: Any, y: Any, *taught: Any) -> tuple[Any, Any]:
            if teachers:
                taught = (tf.add_n([soften(t(x, training=False), schedule.temperature) for t in teachers]) / len(teachers),)
            with tf.GradientTape() as tape:
                probs = model(x, training=True)
                per_example = loss_fn(y, probs)
                if taught:
                    per_example = (1 - schedule.mix) * per_example + schedule.mix * distillation_loss(
                        taught[0], probs, schedule.temperature
                    )
                loss = tf.nn.compute_average_loss(per_example, global_batch_size=schedule.global_batch)
                if model.losses:
                    loss += tf.nn.scale_regularization_loss(tf.add_n(model.losses))
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
            correct = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(probs, -1), tf.argmax(y, -1)), tf.float32))
            return tf.reduce_sum(per_example), correct

        loss_sum, correct = strategy.run(step, args=next(batches))
        return strategy.reduce("SUM", loss_sum, axis=None), strategy.reduce("SUM", correct, axis=None)

    return train_step


def _average_stats(strategy: tf.distribute.Strategy, model: Any) -> Callable[[], None]:
    """After each epoch, every worker's batch-norm statistics made their mean (a no-op on one worker)."""
    stats = [v for v in model.non_trainable_variables if v.dtype.startswith("float")]  # batch-norm statistics, not seed states
    if not stats or strategy.num_replicas_in_sync <= 1:
        return lambda: None

    @tf.function(autograph=False)
    def average_stats() -> None:
        def average() -> None:
            means = tf.distribute.get_replica_context().all_reduce("MEAN", [tf.identity(v.value) for v in stats])
            for variable, mean in zip(stats, means, strict=True):
                variable.assign(mean)

        strategy.run(average)

    return average_stats


class _EarlyStop:
    """The best epoch's weights, and when to stop. Not before half the planned epochs: under a cosine schedule the best
    epochs are the late, low-rate ones, and the early high-rate ones are noisy enough to trip the patience (seq-conv
    stopped at epoch 14 of 20 at val 93.1%; run to the end it reached 94.5%)."""

    def __init__(self, schedule: Schedule) -> None:
        self.schedule = schedule
        self.best: tuple[float, list[np.ndarray]] | None = None
        self.waited = 0

    def after(self, epoch: int, score: float, model: Any) -> bool:
        """Record the epoch's validation top-1; whether training stops now."""
        if self.best is None or score > self.best[0]:
            self.best, self.waited = (score, model.get_weights()), 0
            return False
        if epoch < self.schedule.epochs // 2:
            return False
        self.waited += 1
        return self.waited >= self.schedule.patience


def _training_error(exc: Exception, errors: Errors, strategy: tf.distribute.Strategy) -> BaseException:
    """What a TensorFlow op error during training means: a generator's own one-line error (not tf.data's wrapping of
    it), a lost peer (its connection reset; a hung one, its supervisor stops), or the error itself."""
    if errors.seen:
        return errors.seen[0]
    if strategy.num_replicas_in_sync > 1:
        return ClusterError(f"lost the other workers during training ({first_line(exc)[:200]})")
    return exc


def distillation_loss(teachers: Any, probs: Any, temperature: float) -> Any:
    """Per example: T^2 x KL(teachers' softened probabilities || the student's softened at T), from its softmax output."""
    log_student = _log_softened(probs, temperature)
    kl = tf.reduce_sum(tf.math.xlogy(teachers, teachers) - teachers * log_student, axis=-1)
    return temperature**2 * kl


def soften(probs: Any, temperature: float) -> Any:
    """softmax(log p / T) per row, as distill.soften does for the targets computed before training."""
    return tf.exp(_log_softened(probs, temperature))


def _log_softened(probs: Any, temperature: float) -> Any:
    return tf.nn.log_softmax(tf.math.log(tf.clip_by_value(probs, EPSILON, 1.0)) / temperature, axis=-1)


def predict_in_batches(predict: Callable[[Any], Any], x: np.ndarray, beat: Callable[[], None] = lambda: None) -> np.ndarray:
    """Probabilities for `x`, 512 rows at a time: a whole evaluation set at once would hold all its activations."""
    parts = []
    for i in range(0, len(x), 512):
        parts.append(np.asarray(predict(tf.constant(x[i : i + 512], tf.float32))))
        beat()
    return np.concatenate(parts)


def _layers(layer: Any) -> list[Any]:
    """Every layer inside `layer`, nested models included."""
    inner = getattr(layer, "layers", [])
    return [layer] + [found for child in inner for found in _layers(child)]


def _weights_identical(strategy: tf.distribute.Strategy, model: Any) -> bool:
    """Gather a checksum of every worker's weights and compare: sums of the weights' bit patterns as integers,
    which (unlike float sums) do not depend on the order of the additions."""
    if strategy.num_replicas_in_sync == 1:
        return True

    @tf.function(autograph=False)
    def gather() -> Any:
        def checksum() -> Any:
            sums = []
            for variable in model.weights:
                bits = tf.cast(tf.bitcast(tf.reshape(tf.cast(variable.value, tf.float32), [-1]), tf.int32), tf.int64)
                place = tf.range(tf.size(bits, out_type=tf.int64), dtype=tf.int64) % 65521 + 1
                sums += [tf.reduce_sum(bits), tf.reduce_sum(bits * place)]
            return tf.distribute.get_replica_context().all_gather(tf.stack(sums)[None], axis=0)

        return strategy.run(checksum)

    rows = strategy.experimental_local_results(gather())[0].numpy()
    return bool((rows == rows[0]).all())


class _Progress:
    """A progress bar over epochs, with each epoch's metrics logged above it."""

    def __init__(self, epochs: int) -> None:
        self.progress = Progress(
            TextColumn("training"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.fields[metrics]}")
        )
        self.progress.start()
        self.task = self.progress.add_task("epochs", total=epochs, metrics="")

    def epoch_done(self, epoch: int, history: dict[str, list[float]]) -> None:
        metrics = " ".join(f"{k}={v[-1]:.4f}" for k, v in history.items())
        self.progress.update(self.task, advance=1, metrics=metrics)
        self.progress.console.log(f"epoch {epoch + 1}: {metrics}")

    def stop(self) -> None:
        self.progress.stop()
