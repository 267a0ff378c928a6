"""What TensorFlow's `from_generator` malloc setting costs a training step, and what `train.allocator.restore` gives back.

    .venv/bin/python benchmarks/training_step.py [--data ../shared/quickdraw/numpy_bitmap] [--model edge-cnn]
        [--steps 40] [--json OUT.json]

Each case is a fresh process (TensorFlow applies its setting once a process): the
training stream of `--data` (`synthetic` unless given) as `sketch-edge train` builds
it, the model's own batch size, one warm-up pass of 5 steps, then `--steps` steps
timed, each pulling its batch from the stream as the loop does. Cases: `tensorflow`
(the stream has run, so "M_TRIM_THRESHOLD=128 kb" is set) and `restored` (then
`allocator.restore()`, as the loop does after its first step). Reported per step:
milliseconds, minor page faults, user and kernel CPU seconds. Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap
from pathlib import Path

from sketch_edge.bench.machine import environment
from sketch_edge.reporting import markdown_table

CASES = ("tensorflow", "restored")

CHILD = """
import json, resource, sys, time
import keras, tensorflow as tf
from sketch_edge.data import open_source
from sketch_edge.models import get_model_spec
from sketch_edge.train import allocator
from sketch_edge.train.input import Errors, train_stream

data, model_name, steps, case = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
spec = get_model_spec(model_name)
source = open_source(data)
stream = iter(train_stream(source, source.shards, spec.input_kind, 0, spec.batch_size, spec.augment, Errors()))
model = spec.build(len(source.labels))
optimizer = keras.optimizers.Adam(spec.learning_rate)
loss = keras.losses.CategoricalCrossentropy(label_smoothing=spec.label_smoothing)

@tf.function
def step(stream):
    x, y = next(stream)
    with tf.GradientTape() as tape:
        value = loss(y, model(x, training=True))
    optimizer.apply_gradients(zip(tape.gradient(value, model.trainable_variables), model.trainable_variables))
    return value

step(stream).numpy()  # the generators run: TensorFlow's setting is in place
restored = allocator.restore() if case == "restored" else None
for _ in range(5):
    step(stream).numpy()
before, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
for _ in range(steps):
    step(stream).numpy()
seconds, after = time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({
    "case": case, "restored": restored, "ms_per_step": 1e3 * seconds / steps,
    "page_faults_per_step": (after.ru_minflt - before.ru_minflt) / steps,
    "user_s_per_step": (after.ru_utime - before.ru_utime) / steps, "kernel_s_per_step": (after.ru_stime - before.ru_stime) / steps,
}))
"""


def run_case(data: str, model: str, steps: int, case: str) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CHILD), data, model, str(steps), case], capture_output=True, text=True, timeout=1800
    )
    if proc.returncode:
        raise SystemExit(f"{case}: the training process failed: {(proc.stderr.strip().splitlines() or ['?'])[-1]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="synthetic")
    parser.add_argument("--model", default="edge-cnn")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    machine = environment(("tensorflow", "keras"))
    results = [run_case(args.data, args.model, args.steps, case) for case in CASES]
    print(f"{machine.cpu} ({', '.join(machine.cpu_flags)}), {machine.cores} cores; {args.model} on {args.data}, {args.steps} steps")
    print(
        "\n".join(
            markdown_table(
                ["case", "ms a step", "page faults a step", "user s a step", "kernel s a step"],
                [
                    [
                        r["case"],
                        f"{r['ms_per_step']:.1f}",
                        f"{r['page_faults_per_step']:,.0f}",
                        f"{r['user_s_per_step']:.3f}",
                        f"{r['kernel_s_per_step']:.3f}",
                    ]
                    for r in results
                ],
            )
        )
    )
    print(f"restored / tensorflow: {results[1]['ms_per_step'] / results[0]['ms_per_step']:.2f} of the step time")
    if args.json:
        args.json.write_text(
            json.dumps({"machine": machine.to_json(), "model": args.model, "data": args.data, "results": results}, indent=2)
        )


if __name__ == "__main__":
    main()
