"""`sketch-edge verify-arm`: every exported TFLite, ONNX and `.ort` file run on emulated Arm cores, against x86.

A phone's CPU runs other kernels than the build machine's (XNNPACK's and MLAS's
dot-product, i8mm and SVE paths), so the parity export measured on x86 says
nothing yet about the file on the phone. Each `ok` file runs on this host and on
each emulated CPU (`sketch_edge.arm`) through the same worker, on the saved test
drawings (all of them for integer files; a strided sample for float files, which
are slow emulated), and the two answers are compared: top-1 agreement, max
|diff|, and for a quantized output that difference in its quantization steps.
A file beyond its tolerance on any drawing, or one that did not run, fails, like
the other gates; the result is kept in the manifest (`Details.arm`).
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from sketch_edge import fileio
from sketch_edge.arm import qemu
from sketch_edge.arm.environment import EMULATED, Environment, prepare
from sketch_edge.arm.worker import RunJob, RunResult
from sketch_edge.data.dataset import contract_of
from sketch_edge.data.saved_split import SavedSplit
from sketch_edge.errors import EmulationError, ExportError, ManifestError
from sketch_edge.fileio import sha256_file
from sketch_edge.formats import get_format
from sketch_edge.isolation import run_job
from sketch_edge.layout import Layout
from sketch_edge.manifest import ARM_FAILURE, ArmCheck, Artifact, Manifest, resolve
from sketch_edge.reporting import Progress, fmt

FLOAT_COMPUTE = ("fp32", "fp16")
FLOAT_SAMPLES = 200
"""Test drawings a float file is run on emulated: a float drawing takes 0.1-0.5 s there, an int8 one about 15 ms."""
MAX_STEPS = 1.0
"""A quantized output may differ from x86 by one step: the Arm kernels round some sums the other way."""
MAX_ABS_DIFF = 1e-4
"""A float file's output may differ by this: the fp32 parity gate's tolerance (measured: 1e-7 to 5e-7)."""
# A dynamic-range file quantizes its activations at run time with its kernels' own rounding (on an AVX2 x86 CPU
# ONNX Runtime's u8s8 kernels may saturate where Arm's sdot ones do not), so its output has no fixed step. It is
# held to its own distance from Keras measured at export: the phone's file no further from x86 than x86's is from
# Keras. Measured on the real 10-class subset: onnx-int8-dynamic 0.0285 from x86 on both cores (0.045 from Keras).
TIMEOUT_S = 1800.0


@dataclass(frozen=True)
class ArmConfig:
    artifacts: Path
    cpus: tuple[str, ...] = qemu.DEFAULT_CPUS
    recipes: tuple[str, ...] = ()  # empty: every ok TFLite, ONNX and .ort file
    float_samples: int = FLOAT_SAMPLES
    max_steps: float = MAX_STEPS
    max_abs_diff: float = MAX_ABS_DIFF
    max_dynamic_diff: float | None = None  # None: each dynamic-range file's own max |diff| from Keras (its parity)
    workers: int = 2
    cache: Path | None = None  # the emulated machine's; None: environment.default_cache()


@dataclass(frozen=True)
class Truth:
    """What a file's answers on its drawings are also compared with: the true classes and Keras's probabilities."""

    labels: np.ndarray
    keras: np.ndarray


@dataclass(frozen=True)
class Held:
    """What one file's Arm outputs are held to: `max_steps` of its quantized output's step, else `max_abs_diff`."""

    step: float | None  # the output's quantization step when the worker cannot read it from the file (ONNX)
    max_steps: float
    max_abs_diff: float


def verify(config: ArmConfig, log: Callable[[str], None] = print, progress: Progress = lambda done, total, what: None) -> Manifest:
    """Run the check and save the manifest with each file's `details.arm` (and a failed status where it failed).
    `log` hears of the emulated machine's set-up; `progress(done, total, what)` of each file run, here and per core."""
    layout = Layout(config.artifacts)
    manifest = Manifest.load(layout.manifest)
    chosen = _chosen(manifest, layout.export, config.recipes)
    env = prepare(config.cache, log)
    for cpu in config.cpus:
        why = qemu.refusal(env, cpu)
        if why is not None:
            raise EmulationError(f"{env.qemu}: {why}")
    qemu.check_runs(env)
    held = {a.name: held_to(a, manifest, layout.export, config) for a in chosen}
    saved = SavedSplit.load(layout.split)
    keras = np.load(layout.reference)["test"]
    if keras.shape[0] != len(saved.test_y):
        raise ManifestError(f"{layout.reference}: not the Keras outputs of {layout.split}'s test drawings; export again")
    rows = {a.name: samples(a, len(saved.test_y), config.float_samples) for a in chosen}
    truth = {name: Truth(saved.test_y[r], keras[r]) for name, r in rows.items()}
    emulator = f"qemu-aarch64 {env.qemu_version}"
    scratch = fileio.scratch_dir(layout.export, ".arm-", ExportError)
    try:
        done = _run_all(config, layout, env, chosen, contract_of(manifest.source.input).model_input(saved.test_x), rows, scratch, progress)
        refuse_a_host_that_is_not_arm(done, env)
        checked = {
            a.name: {cpu: compare(done[a.name, None], done[a.name, cpu], held[a.name], truth[a.name], emulator) for cpu in config.cpus}
            for a in chosen
        }
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    restored = {a.name: a for a in chosen}  # a file failed only on Arm before is decided again here
    artifacts = tuple(_with_checks(restored[a.name], checked[a.name]) if a.name in checked else a for a in manifest.artifacts)
    manifest = replace(manifest, artifacts=artifacts)
    manifest.save(layout.manifest)
    return manifest


def refuse_a_host_that_is_not_arm(done: dict[tuple[str, str | None], Run], env: Environment) -> None:
    """An emulated worker that saw the host's CPU (its runtimes chose x86 kernels or none: a qemu without Arm's
    /proc/cpuinfo, a binfmt rule sending the binary elsewhere) says nothing about phones: the run is refused, exit 2,
    the manifest left as it was, rather than every file marked failed."""
    for (name, cpu), (result, _) in done.items():
        if cpu is not None and not isinstance(result, str) and (result.machine != "aarch64" or "asimd" not in result.features):
            raise EmulationError(
                f"{env.qemu}: the worker for {name} on {cpu} ran on {result.machine} seeing no Arm CPU features: this "
                "emulator does not emulate Arm here; nothing was checked and the manifest is as it was"
            )


def _chosen(manifest: Manifest, export_dir: Path, recipes: tuple[str, ...]) -> list[Artifact]:
    """The files to check: ok ones of a format the Arm runtimes read, and those that failed only this check before
    (restored to ok: this run decides again)."""
    names = {a.name for a in manifest.artifacts}
    for name in recipes:
        if name not in names:
            raise ManifestError(f"no artifact {name!r} in the manifest; it has {', '.join(sorted(names))}")
    chosen = []
    for a in manifest.artifacts:
        if a.format not in EMULATED or (recipes and a.name not in recipes) or manifest.made(a.name) is None:
            continue
        path = resolve(export_dir, a)
        if not path.is_file() or sha256_file(path) != a.sha256:
            raise ManifestError(
                f"{path}: missing, or not the file the manifest lists (sha256); export again ({Layout(export_dir.parent).export_command})"
            )
        chosen.append(replace(a, status="ok", error=None))
    if not chosen:
        raise ManifestError("no ok TFLite, ONNX or .ort artifact to run on Arm (run `make export`)")
    return chosen


def samples(artifact: Artifact, drawings: int, float_samples: int) -> np.ndarray:
    """Which test drawings a file runs on: all for integer files, a stride through every class for float ones."""
    if artifact.compute not in FLOAT_COMPUTE or drawings <= float_samples:
        return np.arange(drawings)
    return np.linspace(0, drawings - 1, float_samples).round().astype(int)


Run = tuple[RunResult | str, Path]
"""A worker's result (or why it failed) and the outputs file it wrote."""


def _run_all(
    config: ArmConfig,
    layout: Layout,
    env: Environment,
    chosen: list[Artifact],
    test: np.ndarray,
    rows: dict[str, np.ndarray],
    scratch: Path,
    progress: Progress,
) -> dict[tuple[str, str | None], Run]:
    """Every chosen file on this host (cpu None) and on each emulated CPU, on its rows of `test`, two processes at a time."""
    inputs = {}
    for a in chosen:
        inputs[a.name] = scratch / f"{a.name}.inputs.npy"
        np.save(inputs[a.name], test[rows[a.name]])
    runs = [(a, None) for a in chosen] + [(a, cpu) for cpu in config.cpus for a in chosen]
    finished: list[str] = []
    counting = threading.Lock()

    def one(item: tuple[Artifact, str | None]) -> Run:
        artifact, cpu = item
        tag = f"{artifact.name}.{cpu or 'x86'}"
        path = resolve(layout.export, artifact)
        job = RunJob(str(path), str(inputs[artifact.name]), str(scratch / f"{tag}.npy"), str(scratch / f"{tag}.json"))
        python = qemu.python_command(env, cpu) if cpu else ()
        reason = run_job(scratch / f"{tag}.job.json", job, TIMEOUT_S, python, qemu.environment(env) if cpu else None)
        with counting:
            finished.append(tag)
            progress(len(finished), len(runs), f"{artifact.name} on {cpu or 'this x86 host'}: {'ran' if reason is None else 'failed'}")
        return RunResult.load(Path(job.result)) if reason is None else reason, Path(job.outputs)

    with ThreadPoolExecutor(max_workers=config.workers) as pool:
        return {(a.name, cpu): run for (a, cpu), run in zip(runs, pool.map(one, runs), strict=True)}


def held_to(artifact: Artifact, manifest: Manifest, export_dir: Path, config: ArmConfig) -> Held:
    max_diff = config.max_abs_diff
    if artifact.compute == "dynamic-int8":
        own = artifact.parity and artifact.parity.max_abs_diff
        max_diff = config.max_dynamic_diff if config.max_dynamic_diff is not None else max(own or 0.0, config.max_abs_diff)
    return Held(output_step(artifact, export_dir, manifest.artifacts), config.max_steps, max_diff)


def output_step(artifact: Artifact, export_dir: Path, artifacts: tuple[Artifact, ...]) -> float | None:
    """One step of a quantized output whose runtime hides it, read by its format (a converted file's from the twin it
    was made from: the same graph). None for a float output; a TFLite file's scale is read by the worker."""
    if artifact.details.twin is not None:
        twin = next((a for a in artifacts if a.name == artifact.details.twin.twin), None)
        return None if twin is None else output_step(twin, export_dir, artifacts)
    read = get_format(artifact.format).output_step
    return None if read is None else read(resolve(export_dir, artifact))


def compare(x86: Run, arm: Run, held: Held, truth: Truth, emulator: str) -> ArmCheck:
    """One file on one emulated CPU against its x86 answers: ok within the tolerance on every drawing."""
    (reference, reference_out), (result, out) = x86, arm
    if isinstance(reference, str):
        return ArmCheck("failed", emulator=emulator, reason=f"it did not run on this host: {reference}")
    if isinstance(result, str):
        return ArmCheck("failed", emulator=emulator, reference=_cpu(reference), reason=f"it did not run: {result}")
    base = ArmCheck("failed", kernels=result.kernels, features=result.features, emulator=emulator, reference=_cpu(reference))
    if result.kernels.startswith("LiteRT") and reference.kernels != result.kernels:
        return replace(base, reason="LiteRT did not create its XNNPACK delegate: not the kernels a phone runs")
    a, b = np.load(reference_out), np.load(out)
    if a.shape != b.shape:
        return replace(base, reason=f"output shape {b.shape} here, {a.shape} on x86")
    base = replace(base, samples=len(a), agreement=float(np.mean(a.argmax(axis=1) == b.argmax(axis=1))))
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return replace(base, reason="an output is not a finite number")
    if truth.keras.shape == a.shape:
        base = replace(
            base,
            top1=float(np.mean(b.argmax(axis=1) == truth.labels)),
            x86_top1=float(np.mean(a.argmax(axis=1) == truth.labels)),
            keras_max_abs_diff=float(np.abs(b - truth.keras).max()),
            x86_keras_max_abs_diff=float(np.abs(a - truth.keras).max()),
        )
    gaps = np.abs(a.astype(np.float64) - b)
    diff = float(gaps.max())
    base = replace(base, differing=int((gaps.max(axis=1) > 0).sum()))
    step = reference.output_scale or held.step
    if step is not None:
        steps: float | None = diff / step
        ok = diff / step <= held.max_steps + 1e-6  # the dequantized values are float32 multiples of the step
        tolerance = f"{held.max_steps:g} step(s) of {step:g}"
        reason = None if ok else f"max abs diff {diff:.3g} is {diff / step:.2f} steps of {step:g} (> {held.max_steps:g})"
    else:
        steps, ok = None, diff <= held.max_abs_diff
        tolerance = f"{held.max_abs_diff:.2g}"
        reason = None if ok else f"max abs diff {diff:.3g} > {held.max_abs_diff:.2g}"
    return replace(base, status="ok" if ok else "failed", max_abs_diff=diff, max_steps=steps, tolerance=tolerance, reason=reason)


def _cpu(result: RunResult) -> str:
    wanted = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")
    return f"{result.machine} ({' '.join(f for f in wanted if f in result.features) or 'no AVX2'})"


def _with_checks(artifact: Artifact, checks: dict[str, ArmCheck]) -> Artifact:
    artifact = replace(artifact, details=replace(artifact.details, arm=checks))
    failures = [f"{cpu}: {c.reason}" for cpu, c in checks.items() if c.status != "ok"]
    return replace(artifact, status="failed", error=ARM_FAILURE + "; ".join(failures)) if failures else artifact


TABLE_HEADER = (
    "recipe",
    "cpu",
    "status",
    "drawings",
    "top-1 agreement",
    "max abs diff",
    "steps",
    "drawings differing",
    "held to",
    "top-1 (x86)",
    "from Keras (x86)",
    "kernels",
    "why",
)


def check_row(name: str, cpu: str, c: ArmCheck) -> list[str]:
    """One file on one CPU as a table row (TABLE_HEADER): the terminal's and report.md's."""
    top1 = f"{fmt(c.top1, '.4f')} ({fmt(c.x86_top1, '.4f')})" if c.top1 is not None else ""
    keras = f"{fmt(c.keras_max_abs_diff, '.1e')} ({fmt(c.x86_keras_max_abs_diff, '.1e')})" if c.keras_max_abs_diff is not None else ""
    figures = [fmt(c.agreement, ".4f"), fmt(c.max_abs_diff, ".1e"), fmt(c.max_steps, ".2f"), str(c.differing), c.tolerance]
    return [name, cpu, c.status, str(c.samples), *figures, top1, keras, c.kernels, c.reason or ""]


def table_rows(artifacts: list[Artifact], cpus: tuple[str, ...]) -> list[list[str]]:
    """One row per checked file and CPU."""
    return [check_row(a.name, cpu, a.details.arm[cpu]) for a in artifacts for cpu in cpus if cpu in a.details.arm]


def cell(artifact: Artifact) -> str:
    """The export table's `arm` column: each CPU's agreement and worst difference."""
    said = []
    for cpu, c in artifact.details.arm.items():
        if c.status != "ok" and c.agreement is None:
            said.append(f"{cpu} failed")
            continue
        worst = f"{c.max_steps:.0f} step" if c.max_steps is not None else f"{c.max_abs_diff or 0:.0e}"
        said.append(f"{cpu} {c.agreement:.4f} ({worst}){'' if c.status == 'ok' else ' FAILED'}")
    return "; ".join(said)
