"""Runtime adapters on a tiny hand-built ONNX model (no TensorFlow needed)."""

import numpy as np
import pytest

from sketch_edge.errors import ModelError
from sketch_edge.runtime import open_runner
from sketch_edge.runtime.base import TensorInfo, dequantize, quantize
from tests.helpers import linear_softmax_onnx

onnx = pytest.importorskip("onnx")


def test_onnxruntime_runner_matches_numpy(tmp_path):
    weights = np.random.default_rng(0).normal(0, 0.01, size=(784, 3)).astype(np.float32)
    runner = open_runner(linear_softmax_onnx(tmp_path / "m.onnx", weights), threads=1)
    assert runner.input_spec == TensorInfo("image", (None, 28, 28, 1), "float32")
    x = np.random.default_rng(1).integers(0, 256, size=(5, 28, 28, 1)).astype(np.float32)
    logits = x.reshape(5, -1) @ weights
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(runner.predict(x), expected, rtol=1e-4, atol=1e-6)
    runner.close()


def test_unknown_suffix_and_corrupt_files(tmp_path):
    with pytest.raises(ModelError, match="no runtime for .pt"):
        open_runner(tmp_path / "model.pt")
    for name, runtime in (("bad.onnx", "ONNX Runtime"), ("bad.tflite", "LiteRT")):
        (tmp_path / name).write_bytes(b"\x00garbage")
        with pytest.raises(ModelError, match=f"{name}: {runtime} cannot load it"):
            open_runner(tmp_path / name)


def test_quantize_round_trip_and_saturation():
    info = TensorInfo("x", (None, 3), "int8", scale=0.5, zero_point=-10)
    q = quantize(np.array([0.0, 1.0, 1000.0, -1000.0]), info)
    assert q.dtype == np.int8 and q.tolist() == [-10, -8, 127, -128]
    assert dequantize(q[:2], info).tolist() == [0.0, 1.0]


def test_runtime_registry_is_complete():
    from sketch_edge.bench.peak import KERNELS
    from sketch_edge.export.recipes import COMPUTE_KINDS, RECIPES
    from sketch_edge.runtime import RUNTIMES, runtime_for

    for name, spec in RUNTIMES.items():
        assert spec.name == name and set(spec.compute_kinds) <= set(COMPUTE_KINDS)
        assert all(runtime_for(f"model{suffix}") is spec for suffix in spec.suffixes)
        if not spec.needs_tensorflow:
            assert spec.adapter_class().name == name  # importable, and the class it names is that runtime's
    for recipe in RECIPES.values():
        if recipe.suffix in (".tflite", ".onnx"):
            assert recipe.compute in runtime_for(f"model{recipe.suffix}").compute_kinds, recipe.name
    for kernel in KERNELS:
        assert kernel.runtime in RUNTIMES and set(kernel.kinds) <= set(COMPUTE_KINDS)
    assert {kind for k in KERNELS for kind in k.kinds} == set(COMPUTE_KINDS), "every compute kind needs a peak kernel"


def test_predictor_runs_the_tensorflow_free_runtimes():
    from sketch_edge.runtime.predictor import SUFFIXES

    assert SUFFIXES == (".tflite", ".onnx")
