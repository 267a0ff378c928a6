"""bench.profile: per-node times -> per node and per operator, microseconds per call and share of the total."""

import numpy as np

from sketch_edge.bench.profile import _summary, profile
from sketch_edge.runtime import RUNTIMES
from sketch_edge.runtime.onnxruntime import trace_nodes


def test_a_trace_sums_per_node_and_per_operator():
    events = [
        {"cat": "Node", "name": "conv1_kernel_time", "dur": 30, "args": {"op_name": "Conv"}},
        {"cat": "Node", "name": "conv1_kernel_time", "dur": 30, "args": {"op_name": "Conv"}},
        {"cat": "Node", "name": "conv2_kernel_time", "dur": 20, "args": {"op_name": "Conv"}},
        {"cat": "Node", "name": "relu_kernel_time", "dur": 20, "args": {"op_name": "Relu"}},
        {"cat": "Node", "name": "relu_fence_before", "dur": 999},  # not a kernel's time
        {"cat": "Session", "name": "model_run", "dur": 1000},
    ]
    summary = _summary(trace_nodes(events), calls=2)
    assert summary["calls"] == 2 and summary["op_us_per_call"] == 50
    assert [(o["op"], o["us_per_call"], o["share"]) for o in summary["ops"]] == [("Conv", 40, 0.8), ("Relu", 10, 0.2)]
    assert [n["node"] for n in summary["nodes"]] == ["conv1", "conv2", "relu"] and summary["nodes"][0]["us_per_call"] == 30


def test_a_runtime_without_a_profiler_has_none_and_says_why():
    assert profile(RUNTIMES["litert"], None, 1, np.zeros(1), 1, None) is None
    for spec in RUNTIMES.values():
        assert spec.profiler is not None or spec.no_profiler


def test_the_warm_up_calls_are_left_out_of_every_node():
    events = [
        {"cat": "Node", "name": "conv_kernel_time", "dur": dur, "ts": ts, "args": {"op_name": "Conv"}}
        for ts, dur in enumerate([900, 300, 30, 30])
    ]
    assert trace_nodes(events, skip=2)["conv"]["total_us"] == 60  # the first (cold) runs are not the steady time
