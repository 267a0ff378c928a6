"""How busy the rest of the machine was while something was timed.

A figure timed while another process ran on the same cores is not the runtime's
own: a busy neighbour on the other core moved a batch-1 p50 by 27% on this
project's machines, and a 1024^3 GEMM timed that way makes a lower peak than a
small model then "beats". The kernel's per-core counters (`/proc/stat`) say how
much time the cores this process may run on were busy; minus this process's own
CPU time, the rest is everyone else's (other processes, the kernel's work for
them, and `steal`: time the hypervisor gave to other machines). It is reported
as a fraction of one core over the timed window, `other_cpu`.

NOISY_ABOVE is 0.1 of a core: on a quiet 2-core EPYC here the rest of the system
used 0.000-0.032 of a core (median 0.006, 38 cells) while a cell was timed, and a
process spinning on a pinned cell's core showed as 0.50-0.51 (the scheduler splits
the core; that cell's p99 went from 335 to 4,379 us). A tenth of a core is well
clear of the first and already enough to move a tail.
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path

NOISY_ABOVE = 0.1
ADVICE = (
    "timed while other processes used more than {:.0%} of a core (other_cpu): rerun them on a quieter machine "
    "or with --repeat 3 (the median of rounds in fresh processes)"
)
PIN_ADVICE = ", or with --pin (one core)"  # not said to a run that was pinned already
_BUSY_FIELDS = (0, 1, 2, 5, 6, 7)  # user nice system irq softirq steal (guest time is counted in user already)


@dataclass(frozen=True)
class CpuSample:
    """One reading: wall clock, busy time of the watched cores, this process's own CPU time (seconds)."""

    wall_s: float
    busy_s: float
    own_s: float


def watched_cores() -> set[int]:
    """The cores this process may run on (after any pinning): where a neighbour slows it."""
    return os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set(range(os.cpu_count() or 1))


def cores_busy_s(cores: set[int], stat: Path = Path("/proc/stat")) -> float | None:
    """Seconds the given cores have spent busy since boot; None where the kernel does not say (not Linux)."""
    try:
        lines = stat.read_text().splitlines()
    except OSError:
        return None
    ticks = 0
    for line in lines:
        name, _, rest = line.partition(" ")
        if name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in cores:
            fields = [int(v) for v in rest.split()]
            ticks += sum(fields[i] for i in _BUSY_FIELDS if i < len(fields))
    return ticks / os.sysconf("SC_CLK_TCK")


def sample(cores: set[int] | None = None) -> CpuSample | None:
    busy = cores_busy_s(watched_cores() if cores is None else cores)
    if busy is None:
        return None
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return CpuSample(time.perf_counter(), busy, usage.ru_utime + usage.ru_stime)


def other_cpu(before: CpuSample | None, after: CpuSample | None) -> float | None:
    """Others' CPU time on the watched cores between two readings, as a fraction of one core's time over the window
    (never below 0: the kernel's counters are in ticks, this process's own time is finer)."""
    if before is None or after is None or after.wall_s <= before.wall_s:
        return None
    others = (after.busy_s - before.busy_s) - (after.own_s - before.own_s)
    return round(max(0.0, others / (after.wall_s - before.wall_s)), 4)


def is_noisy(other: float | None) -> bool | None:
    return None if other is None else other > NOISY_ABOVE
