"""After the training loop's first step, TensorFlow's malloc setting for `from_generator` is undone.

Counted in page faults, not seconds: with TensorFlow's setting every 2 MiB buffer is a
fresh mmap that faults in its 512 pages; with glibc's large thresholds back, freed
buffers are reused. Each case runs in its own process (the setting is once a process).
"""

import platform
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("tensorflow")
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc: Linux only")

PAGES = (2 << 20) // 4096  # faults for one fresh 2 MiB buffer
BUFFERS = 50

PRELUDE = """
import resource
import numpy as np
import tensorflow as tf

def generated():
    return tf.data.Dataset.from_generator(
        lambda: iter([(np.zeros((8, 4), np.float32), np.eye(2, dtype=np.float32)[np.arange(8) % 2])]),
        output_signature=(tf.TensorSpec((8, 4), tf.float32), tf.TensorSpec((8, 2), tf.float32)),
    ).repeat()

def faults():
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(BUFFERS):
        buffer = np.ones(2 << 20, np.uint8)
        del buffer
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
"""


def _faults(body: str) -> int:
    code = f"BUFFERS = {BUFFERS}\n" + PRELUDE + textwrap.dedent(body) + "\nprint(faults())\n"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return int(proc.stdout.split()[-1])


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="TensorFlow sets it on Python 3.11 only")
def test_a_generator_alone_leaves_every_large_buffer_a_fresh_mmap():
    faults = _faults("next(iter(generated()))")
    assert faults >= BUFFERS * PAGES * 0.8, f"{faults} page faults: has TensorFlow stopped setting M_TRIM_THRESHOLD?"


def test_after_the_loops_first_step_large_buffers_are_reused():
    faults = _faults(
        """
        import keras
        from sketch_edge.train.input import Errors
        from sketch_edge.train.loop import Schedule, fit

        def build():
            inputs = keras.Input((4,))
            return keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(inputs))

        schedule = Schedule(epochs=1, steps_per_epoch=2, global_batch=8, learning_rate=1e-3, label_smoothing=0.0, patience=1)
        x = np.zeros((8, 4), np.float32)
        fit(tf.distribute.get_strategy(), build, lambda context: generated(), (x, np.arange(8) % 2), schedule, Errors(), verbose=False)
        """
    )
    assert faults < 5 * PAGES, f"{faults} page faults for {BUFFERS} buffers of 2 MiB: freed buffers are not reused"


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="not glibc")
def test_glibc_takes_both_thresholds():
    from sketch_edge.train import allocator

    assert allocator.restore()
