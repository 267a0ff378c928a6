"""Running a worker module on an emulated Arm CPU, and refusing the emulator set-ups known to answer wrongly.

The worker runs as `qemu-aarch64 -L SYSROOT -cpu CPU python3.11 -m MODULE JOB`
in a clean environment (the host's variables name x86 paths). Emulated timing
means nothing: only the outputs are used.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import sketch_edge
from sketch_edge.arm.environment import Environment
from sketch_edge.errors import EmulationError

CPUS = {
    "cortex-a55": "little core, Armv8.2-A: dot product, fp16; XNNPACK's and MLAS's sdot kernels",
    "cortex-a710": "big core, Armv9.0-A: i8mm, bf16, SVE2; the int8 matrix-multiply (smmla) kernels",
    "cortex-a76": "big core, Armv8.2-A: dot product, fp16, tuned for an out-of-order core",
}
"""The CPU models this project has checked qemu 10 runs correctly, with what each makes the runtimes choose."""
DEFAULT_CPUS = ("cortex-a55", "cortex-a710")
MIN_QEMU = (8, 2)
"""qemu-aarch64 answers `/proc/cpuinfo` for the emulated CPU from 8.2 on; before, the host's x86 one shows through
(LiteRT crashes on it, or runs without XNNPACK)."""


def qemu_version(env: Environment) -> tuple[int, int]:
    match = re.match(r"(\d+)\.(\d+)", env.qemu_version)
    if match is None:
        raise EmulationError(f"{env.qemu}: cannot read its version from {env.qemu_version!r}")
    return int(match.group(1)), int(match.group(2))


def refusal(env: Environment, cpu: str) -> str | None:
    """Why this emulator and CPU model must not be trusted with the check, in one line; None when they may."""
    version = qemu_version(env)
    shown = ".".join(map(str, version))
    if version < MIN_QEMU:
        return f"qemu {shown} does not emulate /proc/cpuinfo for aarch64, so the runtimes would pick kernels for the host (qemu >= 8.2)"
    base, *flags = cpu.split(",")
    if base == "max" and version < (10, 0) and "sme=off" not in flags:
        return f"qemu {shown} with -cpu max emulates SME wrongly (int8 answers off by up to 0.93 on 7.2): name one of {', '.join(CPUS)}"
    if base not in CPUS:
        return f"-cpu {cpu} is not a CPU model this check knows to run correctly; known: {', '.join(CPUS)}"
    return None


def python_command(env: Environment, cpu: str) -> list[str]:
    return [env.qemu, "-L", env.sysroot, "-cpu", cpu, env.python, "-s"]


def environment(env: Environment) -> dict[str, str]:
    """The emulated process's environment: its own wheels and this project's source, nothing of the host's Python."""
    source = Path(sketch_edge.__file__).resolve().parent.parent
    return {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONPATH": f"{env.site}:{source}", "PYTHONDONTWRITEBYTECODE": "1"}


def check_runs(env: Environment) -> None:
    """The emulator starts and runs its Python: a damaged cache or a qemu that cannot run here is one line."""
    try:
        proc = subprocess.run([*python_command(env, "cortex-a55"), "-c", "print(1)"], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EmulationError(f"{env.qemu}: cannot run the emulated Python ({exc})") from None
    if proc.returncode != 0 or proc.stdout.strip() != "1":
        why = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
        raise EmulationError(f"{env.qemu}: the emulated Python does not run ({why}); delete {Path(env.sysroot).parent} to build it again")
