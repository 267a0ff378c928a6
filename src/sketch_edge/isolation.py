"""Run a stage's work item in a fresh Python process, so a crash or hang costs only that item.

Converters and runtimes are native code: a segmentation fault or a deadlock must
become a failed row with its reason, never a dead stage.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import ClassVar, TypeVar

from sketch_edge.records import Record


class Job(Record):
    """A work item for a worker process: its record names the worker module (`python -m WORKER JOB.json`), and that
    module's `main` serves it with its `work` function (see `serve`)."""

    WORKER: ClassVar[str]


J = TypeVar("J", bound=Job)

PARENT_ENV = "SKETCH_EDGE_PARENT_PID"


def run_job(job_file: Path, job: Job, timeout_s: float, python: Sequence[str] = (), env: Mapping[str, str] | None = None) -> str | None:
    """Write the typed `job` to `job_file` and run the worker module it names on it (see run_module)."""
    job.save(job_file)
    return run_module(job.WORKER, job_file, timeout_s, python, env)


def run_module(
    module: str, job_file: Path, timeout_s: float, python: Sequence[str] = (), env: Mapping[str, str] | None = None
) -> str | None:
    """Run `python -m module job_file`; None on success, else why it failed (one line). `python` replaces this
    interpreter (the emulated Arm one, behind qemu), `env` this environment."""
    command = [*(python or [sys.executable]), "-m", module, str(job_file)]
    env = dict(os.environ if env is None else env) | {PARENT_ENV: str(os.getpid())}
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, env=env)
    except subprocess.TimeoutExpired:
        return f"timed out after {timeout_s:.0f} s"
    if proc.returncode == 0:
        return None
    if proc.returncode < 0:
        return f"process died ({signal.Signals(-proc.returncode).name})"
    lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else f"exit status {proc.returncode}"


def serve(job_type: type[J], work: Callable[[J], Record], result: Callable[[J], Path]) -> None:
    """The `main` of every worker module: bound to its parent, TensorFlow's C++ logs off, the job read from the file
    named on the command line, its result saved where the job says (a failure exits non-zero with the error last)."""
    die_with_parent()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    job = job_type.load(Path(sys.argv[1]))
    work(job).save(result(job))


def die_with_parent() -> None:
    """Called first by every worker: the kernel kills it when the stage that started it dies (even by SIGKILL),
    so no orphan goes on writing into the artifacts folder."""
    parent = os.environ.get(PARENT_ENV)
    if parent is None or not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != int(parent):  # the parent died before prctl took effect
        os._exit(1)


def cpu_affinity() -> set[int]:
    """Cores this process may run on: the affinity mask, which containers and CI runners narrow."""
    return os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set(range(os.cpu_count() or 1))


def cpu_count() -> int:
    return len(cpu_affinity())


def pin_to_core(core: int | None) -> None:
    """Run this process on `core` alone (None: leave it free), so a one-thread timing never migrates mid-run."""
    if core is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {core})


def library_versions(names: tuple[str, ...]) -> dict[str, str | None]:
    """Installed versions of the named distributions (None where absent), for reports and manifests."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            versions[name] = None
    return versions
