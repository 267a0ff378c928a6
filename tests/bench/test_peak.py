"""bench.peak: which kernels bound which compute kinds, and the machine's peak as the fastest timing of each kind."""

from sketch_edge.bench.peak import KERNELS, kernels_for, machine_peaks
from sketch_edge.bench.results import KernelTiming
from sketch_edge.export.recipes import COMPUTE_KINDS, RECIPES
from sketch_edge.runtime import RUNTIMES


def test_every_kernel_is_of_a_runtime_and_bounds_known_kinds():
    for kernel in KERNELS:
        assert kernel.runtime in RUNTIMES and set(kernel.kinds) <= set(COMPUTE_KINDS) and callable(kernel.build)
        assert kernel.recipe is None or RECIPES[kernel.recipe].format == "tflite"
    assert len({k.name for k in KERNELS}) == len(KERNELS) and len({k.file for k in KERNELS}) == len(KERNELS)


def test_kernels_for_picks_by_kind_and_runtime():
    names = {k.name for k in kernels_for({"int8"}, {"litert"})}
    assert names == {"LiteRT FULLY_CONNECTED int8 (XNNPACK)"}
    assert {k.runtime for k in kernels_for({"fp32"}, {"onnxruntime", "openvino"})} == {"onnxruntime", "openvino"}
    assert kernels_for({"int8"}, set()) == []


def test_the_peak_is_the_fastest_round_of_any_kernel_of_the_kind():
    measured = [
        KernelTiming("A", "onnxruntime", 1, ("int8", "dynamic-int8"), gops=300.0, other_cpu=0.0, round=0, noisy=False),
        KernelTiming("B", "litert", 1, ("int8",), gops=250.0),
        KernelTiming("A", "onnxruntime", 1, ("int8", "dynamic-int8"), gops=350.0, other_cpu=0.2, round=1, noisy=True),
        KernelTiming("C", "litert", 1, ("fp32",), error="crashed"),  # a kernel that failed bounds nothing
        KernelTiming("B", "litert", 2, ("int8",), gops=480.0),
    ]
    peaks = machine_peaks(measured)
    assert set(peaks) == {"1", "2"} and set(peaks["1"]) == {"int8", "dynamic-int8"}
    assert (peaks["1"]["int8"].gops, peaks["1"]["int8"].kernel, peaks["1"]["int8"].noisy) == (350.0, "A", True)
    assert peaks["2"]["int8"].kernel == "B" and "fp32" not in peaks["1"]
