"""Every recipe's round trip on a small trained model: Keras -> artifact -> its runtime -> close to Keras."""

import json
import shutil
from dataclasses import replace

import numpy as np
import pytest

from sketch_edge.data import INPUT_SPECS
from sketch_edge.data.saved_split import SavedSplit
from sketch_edge.errors import DataError, ExportError
from sketch_edge.export import stage
from sketch_edge.export.calibration import CalibrationReader
from sketch_edge.export.recipes import COMPUTE_KINDS, GATES, RECIPES, Gate, Recipe, get_recipe, list_recipes
from sketch_edge.fileio import sha256_file
from sketch_edge.formats import read_metadata
from tests.helpers import TINY_CLASSES as CLASSES
from tests.helpers import copy_artifacts

pytestmark = pytest.mark.slow

# Every registered recipe needs a row: (format, precision, compute kind, input dtype in its runtime, output dtype).
EXPECTED = {
    "saved_model": ("saved_model", "fp32", "fp32", "float32", "float32"),
    "tflite-fp32": ("tflite", "fp32", "fp32", "float32", "float32"),
    "tflite-fp16": ("tflite", "fp16", "fp16", "float32", "float32"),
    "tflite-dynamic": ("tflite", "dynamic-int8", "dynamic-int8", "float32", "float32"),
    "tflite-int8": ("tflite", "int8", "int8", "int8", "int8"),
    "tflite-int8-aeq": ("tflite", "int8", "int8", "int8", "int8"),
    "tflite-int8-mixed": ("tflite", "int8+fp32", "int8", "int8", "int8"),
    "tflite-int16x8": ("tflite", "int16x8", "int16x8", "float32", "float32"),
    "onnx-fp32": ("onnx", "fp32", "fp32", "float32", "float32"),
    "onnx-int8": ("onnx", "int8", "int8", "float32", "float32"),
    "onnx-int8-mixed": ("onnx", "int8+fp32", "int8", "float32", "float32"),
    "onnx-int8-dynamic": ("onnx", "dynamic-int8", "dynamic-int8", "float32", "float32"),
    "tflite-mobile-fp32": ("tflite", "fp32", "fp32", "float32", "float32"),
    "tflite-mobile-int8": ("tflite", "int8", "int8", "uint8", "uint8"),
    "onnx-mobile-fp32": ("onnx", "fp32", "fp32", "float32", "float32"),
    "onnx-mobile-int8": ("onnx", "int8", "int8", "float32", "float32"),
    "ort-mobile-fp32": ("ort", "fp32", "fp32", "float32", "float32"),
    "ort-mobile-int8": ("ort", "int8", "int8", "float32", "float32"),
}


@pytest.fixture(scope="module")
def artifacts(exported):
    return exported[0]


@pytest.fixture(scope="module")
def manifest(exported):
    return exported[1]


def test_all_recipes_tested():
    assert set(RECIPES) == set(EXPECTED), "add a row to EXPECTED for every registered recipe"


def test_every_recipe_declares_a_known_compute_kind():
    assert {r.compute for r in RECIPES.values()} <= set(COMPUTE_KINDS)


@pytest.mark.parametrize("name", list(RECIPES))
def test_round_trip(manifest, artifacts, name):
    entry = manifest.artifact(name)
    fmt, precision, compute, in_dtype, out_dtype = EXPECTED[name]
    assert (entry.format, entry.precision, entry.compute) == (fmt, precision, compute)
    assert entry.status == "ok", entry.error
    path = artifacts / "export" / entry.path
    assert path.exists() and entry.bytes > 0 and len(entry.sha256) == 64
    assert entry.inputs[0].dtype == in_dtype and entry.outputs[0].dtype == out_dtype
    parity = entry.parity
    assert parity.samples == 80 and parity.output_shape == (80, len(CLASSES)) and parity.non_finite == 0  # TINY_DATA's validation
    gate = get_recipe(name).gate()
    assert parity.top1_agreement >= gate.min_agreement
    if gate.max_abs_diff is not None:
        assert parity.max_abs_diff <= gate.max_abs_diff
    assert manifest.source.keras_test_top1 - entry.details.test_top1 <= gate.max_top1_drop
    if fmt != "saved_model":
        meta = read_metadata(path)
        assert meta["labels"] == list(CLASSES) and meta["source_sha256"] == manifest.source.sha256
        contract = get_recipe(name).file_input(INPUT_SPECS["bitmap"])
        assert meta["input"] == contract.to_json() and tuple(entry.inputs[0].shape[1:]) == contract.shape
        assert meta["recipe"] == name
    if fmt == "tflite":  # the standard TFLite metadata: what MediaPipe and Android Studio read
        from sketch_edge.data import SYNTHETIC_ATTRIBUTION
        from sketch_edge.formats.tflite import read_standard_metadata

        standard = read_standard_metadata(path)
        assert standard["license"] == SYNTHETIC_ATTRIBUTION and standard["version"] == f"sha256:{manifest.source.sha256[:16]}"
        (image,) = standard["subgraph_metadata"][0]["input_tensor_metadata"]
        assert image["content"]["content_properties"]["default_size"] == {"width": 28, "height": 28}


def test_int8_tflite_records_scale_and_zero_point(manifest):
    entry = manifest.artifact("tflite-int8")
    assert entry.inputs[0].scale > 0 and entry.inputs[0].zero_point is not None
    assert entry.bytes < 0.3 * manifest.artifact("tflite-fp32").bytes


def test_every_quantized_artifact_has_a_sensitivity_report(manifest, artifacts):
    from sketch_edge.layout import Layout

    for recipe in RECIPES.values():
        summary = manifest.artifact(recipe.name).details.to_json().get("sensitivity")
        if not recipe.measures_sensitivity:  # float, or a mobile or converted file (its desktop twin's is measured)
            assert summary is None, recipe.name
            continue
        assert summary["worst_layer"] and summary["layers"] > 0 and 0 < summary["worst_added_noise"] < 1, (recipe.name, summary)
        report_file, plot = Layout(artifacts).sensitivity(recipe.name)
        report = json.loads(report_file.read_text())
        assert report["reference"] == f"float{recipe.suffix}" and report["artifact"] == f"{recipe.name}{recipe.suffix}"
        assert report["worst"]["added_noise"] == max(layer["added_noise"] for layer in report["layers"])
        assert plot.stat().st_size > 1000


def test_mixed_recipes_record_their_search(manifest):
    for name in ("onnx-int8-mixed", "tflite-int8-mixed"):
        fallback = manifest.artifact(name).details.to_json()["fallback"]
        assert [t["k"] for t in fallback["tried"]] == list(range(fallback["k"] + 1)) and len(fallback["float_layers"]) == fallback["k"]
        last = fallback["tried"][-1]
        if fallback["stopped"] == "aim reached":
            assert last["validation_top1"] >= fallback["keras_validation_top1"] - fallback["max_drop"]
        else:  # tiny data: int8 flips few of the 80 validation drawings, if any
            assert fallback["stopped"].startswith("drop within noise") and last["lost"] - last["gained"] <= 2 * last["lost"] ** 0.5 + 1


def test_ai_edge_quantizer_keeps_named_layers_in_float(manifest, artifacts, tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    from sketch_edge.export.ai_edge_quantizer import export_aeq
    from sketch_edge.layout import Layout
    from sketch_edge.models.saved import load_trained

    report = json.loads(Layout(artifacts).sensitivity("tflite-int8-aeq")[0].read_text())
    conv = next(layer["tensor"] for layer in report["layers"] if layer["op"] == "CONV_2D")
    calibration = CalibrationReader(SavedSplit.load(artifacts / "split.npz").calibration, "image")
    model = load_trained(artifacts / "model.keras")
    recipe = get_recipe("tflite-int8-mixed")
    export_aeq(model, tmp_path / "m.tflite", input_spec=None, recipe=recipe, calibration=calibration, float_layers=(conv,))
    interpreter = Interpreter(model_path=str(tmp_path / "m.tflite"))
    dtypes = {t["name"]: t["dtype"].__name__ for t in interpreter.get_tensor_details()}
    assert dtypes[conv] == "float32"  # the one named layer, while the others stay int8
    assert sum(dtype == "int8" for dtype in dtypes.values()) > 3
    assert "DEQUANTIZE" in {op["op_name"] for op in interpreter._get_ops_details()}


def test_checked_on_the_saved_split_with_keras_reference(manifest, artifacts):
    saved = SavedSplit.load(artifacts / "split.npz")
    assert manifest.source.split_sha256 == sha256_file(artifacts / "split.npz")
    assert manifest.artifact("onnx-fp32").details.test_samples == len(saved.test_y) == 80
    with np.load(artifacts / "export" / "reference.npz") as reference:
        assert reference["test"].shape == (80, len(CLASSES)) and str(reference["model_sha256"]) == manifest.source.sha256
        assert np.allclose(reference["test"].sum(axis=1), 1, atol=1e-5)


def test_onnx_contract(manifest, artifacts):
    import onnx

    model = onnx.load(str(artifacts / "export" / "onnx-fp32.onnx"))
    assert model.opset_import[0].version >= 17
    assert model.graph.input[0].name == "image" and model.graph.output[0].name == "probabilities"
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param  # a dynamic batch axis
    qdq = onnx.load(str(artifacts / "export" / "onnx-int8.onnx"))
    assert any(node.op_type == "QuantizeLinear" for node in qdq.graph.node)


def test_manifest_on_disk(manifest, artifacts):
    on_disk = json.loads((artifacts / "export" / "manifest.json").read_text())
    assert on_disk["source"]["labels"] == list(CLASSES)
    assert on_disk["libraries"]["tensorflow"] == "2.21.0" and on_disk["libraries"]["ai-edge-quantizer"] == "0.10.0"  # every recipe's
    assert {"numpy", "keras", "tf2onnx", "onnx", "onnxruntime", "ai-edge-litert", "python"} <= set(on_disk["libraries"])
    assert on_disk["left_out"] == {} and on_disk["gates"]["mixed"]["budget_s"] == 60.0
    assert {
        "name",
        "format",
        "precision",
        "compute",
        "path",
        "bytes",
        "sha256",
        "status",
        "error",
        "seconds",
        "inputs",
        "outputs",
        "parity",
    } <= set(on_disk["artifacts"][0])
    assert on_disk["gates"]["quantized"] == {"min_agreement": 0.98, "max_abs_diff": None, "max_top1_drop": 0.01}


def test_rerun_reuses_then_a_changed_model_or_gate_rebuilds(manifest, artifacts, tmp_path):
    config = stage.ExportConfig(artifacts=artifacts, recipes=("onnx-fp32",))
    assert stage.run(config).reused is True
    copy = copy_artifacts(artifacts, tmp_path / "a")
    stricter = {**GATES, "fp32": Gate(min_agreement=0.9999, max_abs_diff=1e-5)}
    regated = stage.run(replace(config, artifacts=copy, gates=stricter))
    assert not regated.reused and regated.gates["fp32"]["min_agreement"] == 0.9999
    import keras

    model = keras.saving.load_model(copy / "model.keras")
    model.layers[-1].bias.assign(model.layers[-1].bias + 0.01)
    model.save(copy / "model.keras")
    rebuilt = stage.run(replace(config, artifacts=copy, gates=stricter))
    assert not rebuilt.reused and len(rebuilt.artifacts) == 1


def test_a_quantized_artifact_that_loses_accuracy_fails_its_gate(artifacts, tmp_path):
    copy = copy_artifacts(artifacts, tmp_path / "a")
    impossible = {name: replace(gate, max_top1_drop=-0.5) for name, gate in GATES.items()}  # must beat Keras by 50 points
    manifest = stage.run(stage.ExportConfig(artifacts=copy, recipes=("onnx-int8",), gates=impossible))
    entry = manifest.artifact("onnx-int8")
    assert entry.status == "failed" and "more than -50 point(s) below Keras" in entry.error


def test_converter_crash_and_timeout_become_failed_rows(artifacts, tmp_path):
    copy = copy_artifacts(artifacts, tmp_path / "a")
    config = stage.ExportConfig(artifacts=copy, timeout_s=20)
    source = stage._describe_source(config.layout)
    arrays = tmp_path / "arrays.npz"
    np.savez(arrays, calibration=np.zeros((1, 28, 28, 1), np.float32))
    # The crash must reach the exporter (the worker loads the model first); the hang is cut at once.
    for exporter, expected, timeout_s in (("export_segfault", "died (SIGSEGV)", 20), ("export_hang", "timed out after 3 s", 3)):
        recipe = Recipe(
            name="crash",
            format="tflite",
            precision="fp32",
            compute="fp32",
            exporter=f"tests.export.crashing:{exporter}",
            libraries=("tensorflow",),
        )
        job = stage._job(recipe, config, config.layout, source, arrays, tmp_path, {})
        artifact = stage._run_job(recipe, job, replace(config, timeout_s=timeout_s), source)
        assert artifact.status == "failed" and expected in artifact.error
        assert not (copy / "export" / "crash.tflite").exists()


def test_unwritable_output_folder(artifacts, tmp_path):
    copy = copy_artifacts(artifacts, tmp_path / "a")
    shutil.rmtree(copy / "export")
    (copy / "export").write_text("not a folder")
    with pytest.raises(ExportError, match="cannot write here"):
        stage.run(stage.ExportConfig(artifacts=copy, recipes=("onnx-fp32",)))


def test_no_model(tmp_path):
    with pytest.raises(ExportError, match="no trained model here"):
        stage.run(stage.ExportConfig(artifacts=tmp_path))


def test_no_saved_split(artifacts, tmp_path):
    copy = copy_artifacts(artifacts, tmp_path / "a")
    (copy / "split.npz").unlink()
    with pytest.raises(DataError, match="split.npz: no saved split beside the model"):
        stage.run(stage.ExportConfig(artifacts=copy, recipes=("onnx-fp32",)))


def test_unknown_recipe_suggests_the_nearest():
    with pytest.raises(ExportError, match="did you mean 'tflite-int8'"):
        get_recipe("tflite-int9")


def test_empty_calibration_set():
    with pytest.raises(DataError, match="calibration set is empty"):
        CalibrationReader(np.zeros((0, 28, 28, 1)), "image")


def test_default_recipes_leave_out_the_experimental_one():
    assert "tflite-int16x8" not in list_recipes(defaults_only=True) and "onnx-int8" in list_recipes(defaults_only=True)


def test_defaults_by_architecture_and_runtimes_refusing_a_recipe_name_known_things_with_a_reason():
    from sketch_edge.models.saved import ARCHITECTURES
    from sketch_edge.runtime import RUNTIMES

    for recipe in RECIPES.values():
        assert set(recipe.not_default_for) <= set(ARCHITECTURES) and all(recipe.not_default_for.values()), recipe.name
        assert set(recipe.cannot_run_on) <= set(RUNTIMES) and all(recipe.cannot_run_on.values()), recipe.name
    recurrent, feed_forward = list_recipes(True, "recurrent"), list_recipes(True, "feed-forward")
    assert set(feed_forward) - set(recurrent) == {"tflite-int8-aeq", "tflite-int8-mixed", "onnx-int8-mixed"}
    assert {"tflite-fp32", "tflite-int8", "onnx-fp32", "onnx-int8"} <= set(recurrent) and feed_forward == list_recipes(True)


def test_gates_are_configurable():
    from sketch_edge.export.recipes import parse_gate

    assert parse_gate("fp16:0.999:2e-3") == ("fp16", Gate(min_agreement=0.999, max_abs_diff=2e-3))
    assert parse_gate("quantized:0.95", 0.005) == ("quantized", Gate(min_agreement=0.95, max_abs_diff=None, max_top1_drop=0.005))
    loose = Gate(min_agreement=0.5, max_abs_diff=None)
    assert get_recipe("onnx-int8").gate({"quantized": loose}) == loose
    for bad in ("fp8:0.9", "fp16", "fp16:high"):
        with pytest.raises(ExportError, match="expected PRECISION:MIN_AGREEMENT"):
            parse_gate(bad)


def test_stroke_model_exports_with_its_sequence_contract_and_op_lists(exported_strokes):
    from sketch_edge.data.sequence import CHANNELS, STEPS

    root, manifest = exported_strokes
    assert manifest.source.input["kind"] == "strokes" and tuple(manifest.source.input["shape"]) == (STEPS, CHANNELS)
    for a in manifest.artifacts:
        assert a.status == "ok", (a.name, a.error)
        assert "strokes" in a.inputs[0].name and a.inputs[0].shape[1:] == (STEPS, CHANNELS)
        lost, gained = a.details.test_changes  # the drawings behind its top-1: Keras's minus those lost plus those gained
        assert a.details.test_top1 == pytest.approx(manifest.source.keras_test_top1 - (lost - gained) / a.details.test_samples)
        ops = a.details.ops
        assert ("CONV_2D" in ops) if a.format == "tflite" else any("Conv" in op for op in ops), ops  # .ort: fused kernels
        assert read_metadata(root / "export" / a.path)["input"]["kind"] == "strokes"
    assert "QuantizeLinear" in manifest.artifact("onnx-int8").details.ops


@pytest.mark.parametrize("name", ["seq-lstm", "seq-gru"])
def test_recurrent_layers_are_unrolled_for_tflite_and_give_keras_outputs(name, tmp_path):
    """Keras 3 LSTM/GRU lower to tensor-list loops TFLite builtins cannot run: the exporter unrolls them, same weights."""
    from sketch_edge.data import INPUT_SPECS, load_source
    from sketch_edge.data.sequence import to_sequences
    from sketch_edge.export.tflite import export_tflite
    from sketch_edge.formats import FORMATS
    from sketch_edge.models import get_model_spec
    from sketch_edge.runtime import open_runner

    model = get_model_spec(name).build(4)
    x = to_sequences(load_source("synthetic", per_class=3).drawings[:8])
    out = tmp_path / f"{name}.tflite"
    spec = INPUT_SPECS["strokes"]
    artifact = export_tflite(model, out, input_spec=spec, recipe=get_recipe("tflite-fp32"), calibration=CalibrationReader(x, spec.name))
    assert artifact.details.recurrent == f"{name.split('-')[1]} unrolled over 100 steps"
    ops = FORMATS["tflite"].op_counts(out)
    assert "WHILE" not in ops and ops["FULLY_CONNECTED"] >= 100, ops
    runner = open_runner(out, threads=1)
    np.testing.assert_allclose(runner.predict(x), np.asarray(model(x, training=False)), atol=1e-5)


@pytest.mark.slow
def test_an_unrolled_recurrent_int8_file_is_smaller_than_its_float_twin(tmp_path):
    """Each unrolled step's FULLY_CONNECTED bias once carried its own per-channel scales and zero points, and fused
    tensor names ran to kB: seq-gru's tflite-int8 was 1,798 kB against 763 kB in float."""
    from ai_edge_litert import schema_py_generated as schema

    from sketch_edge.data import INPUT_SPECS, load_source
    from sketch_edge.data.sequence import to_sequences
    from sketch_edge.export.tflite import MAX_NAME, export_tflite
    from sketch_edge.models import get_model_spec

    model = get_model_spec("seq-gru").build(4)
    x = to_sequences(load_source("synthetic", per_class=8).drawings[:32])
    spec = INPUT_SPECS["strokes"]
    sizes = {}
    for recipe in ("tflite-fp32", "tflite-int8"):
        out = tmp_path / f"{recipe}.tflite"
        export_tflite(model, out, input_spec=spec, recipe=get_recipe(recipe), calibration=CalibrationReader(x, spec.name))
        sizes[recipe] = out.stat().st_size
        tree = schema.ModelT.InitFromPackedBuf(bytearray(out.read_bytes()), 0)
        assert max(len(t.name) for t in tree.subgraphs[0].tensors) <= MAX_NAME + 20
    assert sizes["tflite-int8"] < sizes["tflite-fp32"], sizes


def test_long_fused_tensor_names_are_cut_to_their_first_part(tmp_path):
    from ai_edge_litert import schema_py_generated as schema

    from sketch_edge.export.tflite import MAX_NAME, short_names
    from sketch_edge.formats.tflite_metadata import pack
    from tests.helpers import softmax_tflite

    tree = schema.ModelT.InitFromPackedBuf(bytearray(softmax_tflite(tmp_path / "m.tflite").read_bytes()), 0)
    tree.subgraphs[0].tensors[2].name = b";".join(f"gru/unstack{i}".encode() for i in range(100))
    flat = pack(tree)
    cut = schema.ModelT.InitFromPackedBuf(bytearray(short_names(flat)), 0).subgraphs[0].tensors
    assert cut[2].name == b"gru/unstack0;+99 fused" and cut[0].name == b"image" and len(short_names(flat)) < len(flat)
    assert all(len(t.name) <= MAX_NAME for t in cut)
