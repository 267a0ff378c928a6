"""The machine a bench ran on, as every figure is reported with: CPU model and the SIMD flags that decide its
kernels, cores, OS, Python, library versions, the code's git revision and the time."""

from __future__ import annotations

import platform
import subprocess
import time
from pathlib import Path

from sketch_edge.bench.results import Environment
from sketch_edge.isolation import cpu_count, library_versions

CPU_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_int8", "neon", "asimddp")
"""The flags that change which int8 and fp32 kernels the runtimes pick (VNNI: int8 dot products; AMX: tiles)."""


def environment(libraries: tuple[str, ...]) -> Environment:
    cpu_model, flags = "unknown", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and cpu_model == "unknown":
                cpu_model = line.split(":", 1)[1].strip()
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    try:
        revision = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=Path(__file__).parent, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        revision = ""
    return Environment(
        cpu=cpu_model,
        cpu_flags=tuple(f for f in CPU_FLAGS if f in flags),
        cores=cpu_count(),
        os=platform.platform(),
        python=platform.python_version(),
        libraries=library_versions(libraries),
        git_revision=revision or None,
        time=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )
