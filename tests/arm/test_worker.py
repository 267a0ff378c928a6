"""The worker that runs a file natively and under emulation: its outputs, and what it says it ran on."""

import os

import numpy as np
import pytest

from sketch_edge.arm import worker
from sketch_edge.data.saved_split import SavedSplit
from sketch_edge.isolation import run_job
from sketch_edge.quiet import captured_stderr
from sketch_edge.runtime import open_runner
from sketch_edge.runtime.base import predict_all

ARM_CPUINFO = """processor\t: 0
model name\t: ARMv8 Processor rev 0 (v8l)
Features\t: fp asimd aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp
CPU part\t: 0xd05
"""


def test_cpu_features_of_arm_and_x86_cpuinfo():
    assert worker.cpu_features(ARM_CPUINFO)[-1] == "asimddp" and "asimd" in worker.cpu_features(ARM_CPUINFO)
    assert worker.cpu_features("processor : 0\nflags : fpu sse2 avx2\n") == ("fpu", "sse2", "avx2")
    assert worker.cpu_features("nothing here") == ()


def test_captured_stderr_takes_what_native_code_writes_to_fd_2():
    with captured_stderr() as said:
        os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
    assert said == ["INFO: Created TensorFlow Lite XNNPACK delegate for CPU."]


@pytest.mark.parametrize(("name", "kernels", "scale"), [("tflite-int8", "XNNPACK delegate", 1 / 256), ("onnx-int8", "ONNX Runtime", None)])
def test_native_run_gives_the_runtime_s_outputs_and_says_what_ran_them(exported, tmp_path, name, kernels, scale):
    root, manifest = exported
    path = root / "export" / manifest.artifact(name).path
    x = SavedSplit.load(root / "split.npz").test_x[:16].astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    job = worker.RunJob(str(path), str(tmp_path / "x.npy"), str(tmp_path / "out.npy"), str(tmp_path / "result.json"))
    # In its own process, as verify-arm runs it: LiteRT says its delegate line once per process, so a test that
    # opened a .tflite file earlier in this one would hide it.
    assert run_job(tmp_path / "job.json", job, timeout_s=120) is None
    result = worker.RunResult.load(tmp_path / "result.json")
    assert result.machine == "x86_64" and result.kernels.startswith(kernels) and result.output_scale == scale
    assert result.features and result.runtime.split()[0] in ("litert", "onnxruntime")
    np.testing.assert_array_equal(np.load(job.outputs), predict_all(open_runner(path), x, 1))
