"""Run a stage's work item in a fresh Python process, so a crash or hang costs only that item.

Converters and runtimes are native code: a segmentation fault or a deadlock must
become a failed row with its reason, never a dead stage.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from importlib import metadata as importlib_metadata
from pathlib import Path


def run_module(module: str, job_file: Path, timeout_s: float) -> str | None:
    """Run `python -m module job_file`; None on success, else why it failed (one line)."""
    try:
        proc = subprocess.run([sys.executable, "-m", module, str(job_file)], capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return f"timed out after {timeout_s:.0f} s"
    if proc.returncode == 0:
        return None
    if proc.returncode < 0:
        return f"process died ({signal.Signals(-proc.returncode).name})"
    lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else f"exit status {proc.returncode}"


def cpu_count() -> int:
    """Cores this process may run on: the affinity mask, which containers and CI runners narrow."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def library_versions(names: tuple[str, ...]) -> dict[str, str | None]:
    """Installed versions of the named distributions (None where absent), for reports and manifests."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            versions[name] = None
    return versions
