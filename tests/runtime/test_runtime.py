"""Runtime adapters on a tiny hand-built ONNX model (no TensorFlow needed)."""

from pathlib import Path

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
    for name, runtime, message in (
        ("bad.onnx", None, "ONNX Runtime"),
        ("bad.tflite", None, "LiteRT"),
        ("bad.onnx", "openvino", "OpenVINO"),
        ("bad.tflite", "openvino", "OpenVINO"),
    ):
        (tmp_path / name).write_bytes(b"\x00garbage")
        with pytest.raises(ModelError, match=f"{name}: {message} cannot load it"):
            open_runner(tmp_path / name, runtime=runtime)


def test_a_runtime_must_run_the_format_and_be_installed(tmp_path, monkeypatch):
    from dataclasses import replace

    from sketch_edge.runtime import RUNTIMES

    path = linear_softmax_onnx(tmp_path / "m.onnx", np.zeros((784, 3), np.float32))
    with pytest.raises(ModelError, match=r"m.onnx: litert does not run .onnx files \(these do: onnxruntime, openvino\)"):
        open_runner(path, runtime="litert")
    with pytest.raises(ModelError, match="unknown runtime 'tensorrt'"):
        open_runner(path, runtime="tensorrt")
    monkeypatch.setitem(RUNTIMES, "openvino", replace(RUNTIMES["openvino"], package="no_such_openvino"))
    with pytest.raises(ModelError, match=r"m.onnx: openvino is not installed \(pip install 'sketch-edge\[openvino\]'\)"):
        open_runner(path, runtime="openvino")


def test_openvino_runs_onnx_like_onnxruntime(tmp_path):
    weights = np.random.default_rng(0).normal(0, 0.01, size=(784, 3)).astype(np.float32)
    path = linear_softmax_onnx(tmp_path / "m.onnx", weights, metadata={"labels": ["a", "b", "c"]})
    x = np.random.default_rng(1).integers(0, 256, size=(5, 28, 28, 1)).astype(np.float32)
    reference, runner = open_runner(path), open_runner(path, runtime="openvino")
    assert runner.name == "openvino" and runner.metadata == {"labels": ["a", "b", "c"]}
    assert runner.input_spec == TensorInfo("image", (None, 28, 28, 1), "float32")
    np.testing.assert_allclose(runner.predict(x), reference.predict(x), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(runner.predict(x[:1]), reference.predict(x[:1]), rtol=1e-4, atol=1e-6)  # another batch size


def test_quantize_round_trip_and_saturation():
    info = TensorInfo("x", (None, 3), "int8", scale=0.5, zero_point=-10)
    q = quantize(np.array([0.0, 1.0, 1000.0, -1000.0]), info)
    assert q.dtype == np.int8 and q.tolist() == [-10, -8, 127, -128]
    assert dequantize(q[:2], info).tolist() == [0.0, 1.0]


def test_runtime_registry_is_complete():
    from sketch_edge.bench.peak import KERNELS
    from sketch_edge.export.recipes import COMPUTE_KINDS, RECIPES
    from sketch_edge.runtime import RUNTIMES, runtime_for, runtimes_for

    for name, spec in RUNTIMES.items():
        assert spec.name == name and set(spec.compute_kinds) <= set(COMPUTE_KINDS)
        assert all(spec in runtimes_for(f"model{suffix}") for suffix in spec.suffixes)
        assert all(runtime_for(f"model{suffix}", name) is spec for suffix in spec.suffixes)
        if not spec.needs_tensorflow:
            assert spec.missing() is None, spec.missing()  # `make setup` installs every runtime
            assert spec.adapter_class().name == name  # importable, and the class it names is that runtime's
    assert [runtime_for(f"model{s}").name for s in (".keras", ".tflite", ".onnx")] == ["keras", "litert", "onnxruntime"]
    for recipe in RECIPES.values():
        if recipe.suffix in (".tflite", ".onnx", ".ort"):
            for spec in runtimes_for(f"model{recipe.suffix}"):
                assert recipe.compute in spec.compute_kinds, (recipe.name, spec.name)
    for kernel in KERNELS:
        assert kernel.runtime in RUNTIMES and set(kernel.kinds) <= set(COMPUTE_KINDS)
    assert {kind for k in KERNELS for kind in k.kinds} == set(COMPUTE_KINDS), "every compute kind needs a peak kernel"


def test_every_runtime_and_recipe_names_the_installed_distributions_its_figures_depend_on():
    """results.json and the manifest name each library by these lists: one left out is a version no report gives."""
    from importlib import metadata

    from sketch_edge.bench.derive import libraries
    from sketch_edge.bench.peak import KERNELS
    from sketch_edge.bench.plan import Cell
    from sketch_edge.export import plan as export_plan
    from sketch_edge.export.recipes import RECIPES
    from sketch_edge.runtime import RUNTIMES

    named = [(spec.name, spec.libraries) for spec in RUNTIMES.values()] + [(r.name, r.libraries) for r in RECIPES.values()]
    for name, libs in named:
        assert libs, f"{name} names no distribution"
        for lib in libs:
            assert metadata.version(lib), (name, lib)  # a real, installed distribution name
    cells = [
        Cell(
            recipe=r.name,
            format=r.format,
            precision=r.precision,
            compute=r.compute,
            runtime=rt,
            threads=1,
            batch=1,
            path=Path("x"),
            bytes=1,
        )
        for r in RECIPES.values()
        for rt in RUNTIMES
    ]
    benched = set(libraries(cells, list(KERNELS)))
    assert {lib for _, libs in named for lib in libs} | {"numpy"} == benched
    assert "ai-edge-quantizer" in export_plan.libraries([RECIPES["tflite-int8-aeq"]])
    assert "ai-edge-quantizer" not in export_plan.libraries([RECIPES["tflite-int8"]])


def test_predictor_runs_the_tensorflow_free_runtimes():
    from sketch_edge.runtime.predictor import SUFFIXES

    assert SUFFIXES == (".tflite", ".onnx", ".ort")  # each once, though two runtimes run each


@pytest.mark.slow
def test_openvino_runs_every_exported_artifact_like_its_default_runtime(exported, exported_strokes):
    """Every TFLite and ONNX recipe, int8 inputs included (their scale and zero point read from the .tflite file),
    except the files ai-edge-quantizer writes, which OpenVINO 2026.4's TFLite reader refuses: one ModelError line.
    On the whole test split, so that one drawing the two runtimes' int8 kernels round apart is not 2.5% of it."""
    from sketch_edge.data.saved_split import SavedSplit
    from sketch_edge.export.recipes import get_recipe
    from sketch_edge.manifest import resolve
    from sketch_edge.runtime import Predictor
    from sketch_edge.runtime.base import predict_all

    for root, manifest in (exported, exported_strokes):
        x = SavedSplit.load(root / "split.npz").test_x.astype(np.float32)
        for artifact in manifest.artifacts:
            if artifact.format not in ("tflite", "onnx") or artifact.status != "ok":
                continue
            path = resolve(root / "export", artifact)
            if get_recipe(artifact.name).exporter.endswith(":export_aeq"):
                with pytest.raises(ModelError, match=rf"{artifact.name}.tflite: OpenVINO cannot load it \(Check 'opts != nullptr'"):
                    open_runner(path, runtime="openvino")
                continue
            expected, runner = predict_all(open_runner(path), x, 256), open_runner(path, runtime="openvino")
            assert runner.input_spec.dtype == artifact.inputs[0].dtype and runner.input_spec.scale == artifact.inputs[0].scale
            assert runner.input_spec.shape == artifact.inputs[0].shape or artifact.inputs[0].shape[0] is None  # a batch kept fixed
            probs = predict_all(runner, x, 256)
            assert (probs.argmax(axis=1) == expected.argmax(axis=1)).mean() >= 0.95, artifact.name
            if artifact.compute in ("fp32", "fp16"):  # float arithmetic: the same answers, to rounding, on any CPU
                assert np.abs(probs - expected).max() < 1e-3, artifact.name
            # int8 kernels are the CPU's own: on an AVX2 EPYC without VNNI, OpenVINO's outputs on the stroke model's
            # tflite-int8 file lay up to 0.15 from LiteRT's (which lay within 0.04 of Keras), with the same top-1 agreement.
            with Predictor(path, runtime="openvino") as predictor:
                assert tuple(predictor.labels) == manifest.source.labels  # the metadata, read through OpenVINO


def test_a_uint8_pixel_input_is_fed_the_pixels_themselves_as_mediapipe_feeds_them():
    """A [-1, 1] model's mobile int8 file declares scale 2/255 and zero point 128 (127.5 rounded): quantizing the
    model's value lands on the pixel or the next one; the pixel input is fed the pixel, as MediaPipe feeds it."""
    from sketch_edge.data.dataset import image_contract
    from sketch_edge.runtime.base import pixel_input, to_tensor

    contract = image_contract((4, 4, 3), 2 / 255, -1.0, "as --input-range says")
    info = TensorInfo("image", (1, 4, 4, 3), "uint8", scale=float(np.float32(2 / 255)), zero_point=128)
    pixels = np.arange(256, dtype=np.uint8)
    values = contract.model_input(pixels)
    mapping = pixel_input(info, {"input": contract.to_json()})
    assert mapping == pytest.approx((2 / 255, -1.0))
    assert np.array_equal(to_tensor(values, info, mapping), pixels)
    assert not np.array_equal(quantize(values, info), pixels)  # what it was fed before: half a step off
    assert pixel_input(info, None) is None and pixel_input(info, {"input": {"kind": "strokes"}}) is None
    other = TensorInfo("image", (1, 4, 4, 3), "uint8", scale=0.5, zero_point=3)  # a uint8 input of another mapping
    assert pixel_input(other, {"input": contract.to_json()}) is None


@pytest.mark.slow
def test_a_float_output_dequantized_from_int8_has_the_int8_step(tmp_path):
    """TensorFlow's converter keeps float input and output around an int8 graph unless told otherwise: verify-arm must
    hold such a file to one int8 step, not to a float file's 1e-4 (it failed a file made elsewhere for 0.0039)."""
    import keras
    import tensorflow as tf

    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4), keras.layers.Softmax()])
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([np.random.default_rng(i).normal(size=(1, 8)).astype(np.float32)] for i in range(20))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    path = tmp_path / "float-io-int8.tflite"
    path.write_bytes(converter.convert())
    runner = open_runner(path, threads=1)
    assert runner.output_spec.dtype == "float32" and runner.output_spec.scale is None
    assert runner.output_step() == pytest.approx(1 / 256)


def test_a_file_that_fails_in_a_node_when_run_is_one_line_naming_the_file_and_node(tmp_path, capsys):
    from benchmarks.hostile_inputs import fails_when_run  # the hostile case, built once for the bench and the test
    from sketch_edge.cli import main
    from sketch_edge.errors import ModelError

    _, path = fails_when_run(tmp_path)
    runner = open_runner(path)
    with pytest.raises(ModelError, match=r"m.onnx: onnxruntime failed running it \(.*hostile_gather"):
        runner.predict(np.zeros((1, 28, 28, 1), np.float32))
    (tmp_path / "labels.txt").write_text("a\nb\n")
    np.save(tmp_path / "drawing.npy", np.zeros((1, 28, 28), np.uint8))
    assert main(["predict", str(path), str(tmp_path / "drawing.npy"), "--labels", str(tmp_path / "labels.txt")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "m.onnx: onnxruntime failed running it" in err


@pytest.mark.parametrize(
    ("info", "pixels"),
    [
        (TensorInfo("x", (None, 28, 28, 1), "int8", 1.0, -128), None),  # every int8 file exported here: a byte shift
        (TensorInfo("x", (None, 28, 28, 1), "int8", 0.7, -3), None),  # any other: the table
        (TensorInfo("x", (1, 28, 28, 3), "uint8", 1.0, 0), (1.0, 0.0)),  # a mobile file's raw pixels, in RGB
        (TensorInfo("x", (None, 28, 28, 1), "int16", 0.01, 0), None),
        (TensorInfo("x", (None, 28, 28, 1), "float32"), None),
    ],
)
def test_a_uint8_bitmap_becomes_the_tensor_the_float_path_makes_bit_for_bit(info, pixels):
    from sketch_edge.runtime.base import InputTensor, to_tensor

    bitmaps = np.random.default_rng(0).integers(0, 256, size=(3, 28, 28, 1), dtype=np.uint8)
    bitmaps[0, 0, :, 0] = np.arange(28) * 9  # every corner of the range
    fast = InputTensor(info, pixels)(bitmaps)
    slow = to_tensor(bitmaps.astype(np.float32), info, pixels)
    assert fast.dtype == slow.dtype and fast.shape == slow.shape and np.array_equal(fast, slow)
    assert np.array_equal(InputTensor(info, pixels)(bitmaps.astype(np.float32)), slow)  # floats take the float path


@pytest.mark.parametrize("info", [TensorInfo("y", (None, 10), "int8", 1 / 256, -128), TensorInfo("y", (1, 10), "uint8", 1 / 256, 0)])
def test_an_8_bit_output_is_dequantized_by_table_as_by_arithmetic(info):
    from sketch_edge.runtime.base import OutputProbabilities, to_probabilities

    raw = np.arange(-128, 128, dtype=np.int16).astype(info.dtype).reshape(-1, 16)
    assert np.array_equal(OutputProbabilities(info)(raw), to_probabilities(raw, info))
