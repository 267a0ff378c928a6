"""Run one artifact on the given drawings and save its outputs: the same code on x86 and on emulated aarch64.

Run as `python -m sketch_edge.arm.worker JOB.json`, natively for the x86 answers
and under `qemu-aarch64` for the Arm ones, so the two differ only in the
machine. It imports only numpy, the runtime of the file and the project's own
pure-Python modules: the emulated Python has nothing else. Besides the outputs
it says what it ran on: the CPU features the process saw (what XNNPACK and MLAS
choose their kernels by) and, for LiteRT, whether the XNNPACK delegate was
created (without it the file ran on LiteRT's reference kernels, not the phone's).
"""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sketch_edge.isolation import Job, library_versions, serve
from sketch_edge.quiet import captured_stderr
from sketch_edge.records import Figure, Record

BATCH = 1
"""One drawing a call, as an app classifies them (LiteRT's resize to batch 8 failed now and then under `-cpu cortex-a76`)."""


@dataclass(frozen=True)
class RunJob(Job):
    WORKER = "sketch_edge.arm.worker"

    path: str  # the artifact
    inputs: str  # .npy of the drawings, in the file's contract
    outputs: str  # .npy written: its probabilities
    result: str  # the RunResult as JSON


@dataclass(frozen=True)
class RunResult(Record):
    machine: str  # platform.machine(): x86_64 | aarch64
    features: tuple[str, ...]  # the CPU's features as /proc/cpuinfo showed them to this process
    runtime: str  # "litert 2.3.0"
    kernels: str  # what ran the operators: "XNNPACK delegate", "LiteRT built-in kernels", "ONNX Runtime CPU (MLAS)"
    output_scale: float | None  # one step of a quantized output (or of the int8 tensor a float output dequantizes)
    seconds: Figure


def cpu_features(cpuinfo: str) -> tuple[str, ...]:
    """The first CPU's feature words ("Features" on Arm, "flags" on x86) of a /proc/cpuinfo text."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("Features", "flags"):
            return tuple(value.split())
    return ()


def work(job: RunJob) -> RunResult:
    from sketch_edge.runtime import RUNTIMES, open_runner
    from sketch_edge.runtime.base import predict_all

    x = np.load(job.inputs)
    with captured_stderr() as said:
        runner = open_runner(job.path, threads=1)
    started = time.perf_counter()
    outputs = predict_all(runner, x, BATCH)
    seconds = time.perf_counter() - started
    np.save(job.outputs, outputs)
    spec = RUNTIMES[runner.name]
    delegated = spec.delegate_line is None or any(spec.delegate_line in line for line in said)
    kernels = spec.kernels if delegated else spec.fallback
    version = library_versions(spec.libraries[:1])  # the runtime's own distribution
    return RunResult(
        machine=platform.machine(),
        features=cpu_features(Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")),
        runtime=f"{runner.name} {next(iter(version.values())) or ''}".strip(),
        kernels=kernels,
        output_scale=runner.output_step(),
        seconds=round(seconds, 2),
    )


def main() -> None:
    serve(RunJob, work, lambda job: Path(job.result))


if __name__ == "__main__":
    main()
