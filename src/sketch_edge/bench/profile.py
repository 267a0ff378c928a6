"""Per-operator time of a bench cell, from the runtime's own profiler.

ONNX Runtime writes a Chrome-trace JSON when a session has profiling enabled;
its `Node` events carry each kernel's duration. OpenVINO, compiled with
`PERF_COUNT`, reports each executed node's time and the kernel that ran it
(`exec_type`, e.g. `brgconv_avx512_core_vnni_I8` or `ref`) after every inference.
LiteRT's Python interpreter exposes no profiler (its op profiling lives in the
C++ benchmark tool), so LiteRT cells have none, and the report says so (`RuntimeSpec.no_profiler`).
The runtime modules collect the nodes (`RuntimeSpec.profiler`); this module sums them.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from sketch_edge.plugins import load
from sketch_edge.runtime import RuntimeSpec


def profile(spec: RuntimeSpec, path: Path, threads: int, batch: np.ndarray, calls: int, scratch: Path) -> dict[str, Any] | None:
    """Per node and per operator type, microseconds per call and share of the total; None without a profiler."""
    if spec.profiler is None:
        return None
    nodes = load(spec.profiler)(path, threads, batch, calls, scratch)
    return _summary(nodes, calls)


def _summary(nodes: dict[str, dict[str, Any]], calls: int) -> dict[str, Any]:
    total = sum(n["total_us"] for n in nodes.values()) or 1.0
    by_op: dict[str, float] = defaultdict(float)
    for n in nodes.values():
        by_op[n["op"]] += n["total_us"]
    return {
        "calls": calls,
        "op_us_per_call": total / calls,
        "nodes": sorted(
            ({**n, "us_per_call": n["total_us"] / calls, "share": n["total_us"] / total} for n in nodes.values()),
            key=lambda n: -n["total_us"],
        ),
        "ops": sorted(({"op": op, "us_per_call": us / calls, "share": us / total} for op, us in by_op.items()), key=lambda o: -o["share"]),
    }
