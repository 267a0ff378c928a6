"""Per-operator time of a bench cell, from the runtime's own profiler.

ONNX Runtime writes a Chrome-trace JSON when a session has profiling enabled;
its `Node` events carry each kernel's duration. OpenVINO, compiled with
`PERF_COUNT`, reports each executed node's time and the kernel that ran it
(`exec_type`, e.g. `brgconv_avx512_core_vnni_I8` or `ref`) after every inference.
LiteRT's Python interpreter exposes no profiler (its op profiling lives in the
C++ benchmark tool), so LiteRT cells have none, and the report says so.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

NO_PROFILER = {"litert": "LiteRT's Python API has no per-op profiler", "keras": "not profiled (the reference row)"}


def profile_onnxruntime(path: Path, threads: int, batch: np.ndarray, calls: int, scratch: Path) -> dict[str, Any]:
    """Run `calls` predictions under ONNX Runtime's profiler and sum each node's kernel time."""
    import onnxruntime as ort

    from sketch_edge.runtime.onnxruntime import session_options

    options = session_options(threads)
    options.enable_profiling = True
    options.profile_file_prefix = str(scratch / "ort-profile")
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    feed = {session.get_inputs()[0].name: np.ascontiguousarray(batch, dtype=np.float32)}
    for _ in range(calls):
        session.run(None, feed)
    trace = Path(session.end_profiling())
    try:
        events = json.loads(trace.read_text())
    finally:
        trace.unlink(missing_ok=True)
    return summarize_trace(events, calls)


def profile_openvino(path: Path, threads: int, batch: np.ndarray, calls: int, scratch: Path) -> dict[str, Any]:
    """Run `calls` predictions with OpenVINO's performance counters on and sum each executed node's time."""
    from sketch_edge.runtime.openvino import CONFIG, OpenVINORunner, compile_model, read_model

    runner = OpenVINORunner(compile_model(read_model(path), threads, CONFIG | {"PERF_COUNT": "YES"}), path, metadata=None)
    prepared = runner.prepare(batch)
    nodes: dict[str, dict[str, Any]] = {}
    for _ in range(calls):
        runner.run(prepared)
        for info in runner.profiling_info():
            if info.real_time.total_seconds() > 0:
                op = f"{info.node_type} ({info.exec_type})"  # the kernel says whether int8 ran as int8
                node = nodes.setdefault(info.node_name, {"node": info.node_name, "op": op, "total_us": 0.0})
                node["total_us"] += info.real_time.total_seconds() * 1e6
    return _summary(nodes, calls)


PROFILERS = {"onnxruntime": profile_onnxruntime, "openvino": profile_openvino}


def summarize_trace(events: list[dict[str, Any]], calls: int) -> dict[str, Any]:
    """ONNX Runtime's node events -> per node and per operator type: microseconds per call and share of the total."""
    nodes: dict[str, dict[str, Any]] = {}
    for event in events:
        if event.get("cat") != "Node" or not event.get("name", "").endswith("_kernel_time"):
            continue
        name = event["name"].removesuffix("_kernel_time")
        node = nodes.setdefault(name, {"node": name, "op": event.get("args", {}).get("op_name", "?"), "total_us": 0.0})
        node["total_us"] += float(event.get("dur", 0))
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
