"""Each format's metadata: embedded by export, read back without TensorFlow or a session (sketch_edge.formats)."""

import io
import json
import zipfile

import numpy as np

from sketch_edge.data import INPUT_SPECS
from sketch_edge.formats import FORMATS, read_metadata


def embed_metadata(path, fmt, metadata):
    FORMATS[fmt].embed_metadata(path, metadata)


META = {"labels": ["cat", "The Eiffel Tower"], "input": {"shape": [28, 28, 1]}, "source_sha256": "ab" * 32}
BITMAP = {
    "labels": ["cat", "The Eiffel Tower"],
    "input": INPUT_SPECS["bitmap"].to_json(),
    "source_sha256": "ab" * 32,
    "model": "cnn-seed[width=8]",
    "display_name": "cnn-seed",
    "recipe": "tflite-fp32",
    "precision": "fp32",
    "attribution": "Trained on Quick, Draw! data (CC BY 4.0).",
}


def _run(path, x):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


def test_tflite_files_carry_standard_model_metadata_read_back_field_by_field(tmp_path):
    """What MediaPipe, Android Studio and the Task Library read: labels as TENSOR_AXIS_LABELS, image properties,
    NormalizationOptions mean 0 / std 1 (the model scales 0-255 itself), Stats; and the project's JSON beside the labels."""
    import numpy as np

    from sketch_edge.formats import tflite
    from sketch_edge.formats import tflite_metadata as tm
    from tests.helpers import softmax_tflite

    path = softmax_tflite(tmp_path / "m.tflite")
    x = np.random.default_rng(0).uniform(0, 255, (1, 28, 28, 1)).astype(np.float32)
    before = _run(path, x)
    embed_metadata(path, "tflite", BITMAP)
    assert np.array_equal(_run(path, x), before)  # the model itself is unchanged
    assert read_metadata(path) == BITMAP
    with zipfile.ZipFile(path) as archive:
        assert archive.read("labels.txt").decode().splitlines() == BITMAP["labels"]
        assert sorted(archive.namelist()) == ["labels.txt", "sketch_edge.json"]  # one zip, both files
    meta = tflite.read_standard_metadata(path)
    assert meta["name"] == "cnn-seed" and meta["author"] == "sketch-edge" and meta["min_parser_version"] == "1.0.0"
    assert meta["license"] == BITMAP["attribution"] and "cnn-seed[width=8]" in meta["description"]
    assert meta["associated_files"] == [
        {"name": "sketch_edge.json", "description": "sketch-edge metadata: labels, input contract, model, recipe", "type": tm.DESCRIPTIONS}
    ]
    (subgraph,) = meta["subgraph_metadata"]
    (image,), (output,) = subgraph["input_tensor_metadata"], subgraph["output_tensor_metadata"]
    assert image["name"] == "image" and image["description"] == INPUT_SPECS["bitmap"].description
    assert image["content"]["content_properties_type"] == tm.IMAGE_PROPERTIES
    assert image["content"]["content_properties"] == {
        "color_space": tm.COLOR_SPACES["GRAYSCALE"],
        "default_size": {"width": 28, "height": 28},
    }
    assert image["process_units"] == [{"options_type": tm.NORMALIZATION_OPTIONS, "options": {"mean": [0.0], "std": [1.0]}}]
    assert image["stats"] == {"max": [255.0], "min": [0.0]}
    assert output["name"] == "probabilities" and output["content"]["content_properties_type"] == tm.FEATURE_PROPERTIES
    assert output["stats"] == {"max": [1.0], "min": [0.0]}
    assert output["associated_files"] == [
        {"name": "labels.txt", "description": "the class names, one per line", "type": tm.TENSOR_AXIS_LABELS}
    ]


def test_rgb_inputs_say_rgb_and_stroke_rows_are_features(tmp_path):
    from sketch_edge.formats import tflite
    from sketch_edge.formats import tflite_metadata as tm
    from tests.helpers import softmax_tflite

    path = softmax_tflite(tmp_path / "rgb.tflite", input_shape=(1, 28, 28, 3))
    embed_metadata(path, "tflite", BITMAP | {"input": INPUT_SPECS["bitmap"].rgb().to_json()})
    (image,) = tflite.read_standard_metadata(path)["subgraph_metadata"][0]["input_tensor_metadata"]
    assert image["content"]["content_properties"]["color_space"] == tm.COLOR_SPACES["RGB"]
    path = softmax_tflite(tmp_path / "strokes.tflite", input_shape=(1, 100, 4))
    embed_metadata(path, "tflite", BITMAP | {"input": INPUT_SPECS["strokes"].to_json()})
    (rows,) = tflite.read_standard_metadata(path)["subgraph_metadata"][0]["input_tensor_metadata"]
    assert rows["name"] == "strokes" and rows["content"]["content_properties_type"] == tm.FEATURE_PROPERTIES
    assert "process_units" not in rows and rows["stats"] == {"max": [255.0], "min": [0.0]}


def test_embedding_again_replaces_the_metadata_and_the_zip(tmp_path):
    from ai_edge_litert import schema_py_generated as schema

    from sketch_edge.formats import tflite
    from tests.helpers import softmax_tflite

    path = softmax_tflite(tmp_path / "m.tflite")
    embed_metadata(path, "tflite", BITMAP)
    embed_metadata(path, "tflite", BITMAP | {"labels": ["a", "b"]})
    model = schema.Model.GetRootAs(path.read_bytes(), 0)
    assert [model.Metadata(i).Name() for i in range(model.MetadataLength())] == [b"TFLITE_METADATA"]
    assert read_metadata(path)["labels"] == ["a", "b"] and path.read_bytes().count(b"PK\x05\x06") == 1
    assert tflite.read_standard_metadata(path)["name"] == "cnn-seed"


def test_files_written_before_the_standard_metadata_are_still_read(tmp_path):
    """Until this version the zip was appended to the converter's flatbuffer as it was, with no metadata buffer."""
    from sketch_edge.formats import tflite
    from tests.helpers import softmax_tflite

    path = softmax_tflite(tmp_path / "old.tflite")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("sketch_edge.json", json.dumps(META, sort_keys=True))
        archive.writestr("labels.txt", "cat\nThe Eiffel Tower\n")
    path.write_bytes(path.read_bytes() + buffer.getvalue())
    assert read_metadata(path) == META
    assert tflite.read_standard_metadata(path) is None


def test_a_broken_metadata_flatbuffer_is_one_line(tmp_path):
    import pytest

    from sketch_edge.errors import ModelError
    from sketch_edge.formats import tflite
    from sketch_edge.formats import tflite_metadata as tm
    from tests.helpers import softmax_tflite

    with pytest.raises(ValueError, match="not a TFLite metadata flatbuffer"):
        tm.read(b"\x10\x00\x00\x00TFL3" + bytes(16))
    path = softmax_tflite(tmp_path / "m.tflite")
    path.write_bytes(tm.attach(path.read_bytes(), b"\x08\x00\x00\x00M001\xff\xff"))
    with pytest.raises(ModelError, match="m.tflite: its TFLite metadata cannot be read"):
        tflite.read_standard_metadata(path)


def test_file_without_metadata(tmp_path):
    path = tmp_path / "plain.tflite"
    path.write_bytes(b"TFL3" + bytes(10))
    assert read_metadata(path) is None


def test_onnx_metadata_props(tmp_path):
    import numpy as np

    from tests.runtime.test_runtime import linear_softmax_onnx

    path = linear_softmax_onnx(tmp_path / "m.onnx", np.zeros((784, 2), np.float32))
    assert read_metadata(path) is None
    embed_metadata(path, "onnx", META)
    assert read_metadata(path) == META
    import onnx

    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert json.loads(props["labels"]) == META["labels"]


def test_a_tflite_metadata_bomb_is_refused_unread(tmp_path):
    import pytest

    from sketch_edge.errors import ModelError
    from sketch_edge.formats import MAX_METADATA_BYTES

    path = tmp_path / "bomb.tflite"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("sketch_edge.json", "w") as member:
        for _ in range(4):
            member.write(b" " * MAX_METADATA_BYTES)  # 4 MB of spaces, a few kB compressed
    path.write_bytes(b"TFL3" + bytes(10) + buffer.getvalue())
    with pytest.raises(ModelError, match="its metadata would inflate to 4,194,304 bytes"):
        read_metadata(path)


def test_onnx_metadata_nested_too_deep_is_refused(tmp_path):
    import numpy as np
    import onnx
    import pytest

    from sketch_edge.errors import ModelError
    from tests.helpers import linear_softmax_onnx

    path = linear_softmax_onnx(tmp_path / "m.onnx", np.zeros((784, 2), np.float32))
    model = onnx.load(str(path))
    onnx.helper.set_model_props(model, {"sketch_edge": "[" * 100_000 + "]" * 100_000})
    onnx.save(model, str(path))
    with pytest.raises(ModelError, match="not valid JSON \\(or nested too deep\\)"):
        read_metadata(path)


def test_a_truncated_onnx_file_is_one_line(tmp_path):
    import numpy as np
    import pytest

    from sketch_edge.errors import ModelError
    from tests.helpers import linear_softmax_onnx

    path = linear_softmax_onnx(tmp_path / "m.onnx", np.zeros((784, 2), np.float32), metadata=META)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="m.onnx: not an ONNX model \\(a field runs past the end"):
        read_metadata(path)
    path.write_bytes(b"\xff" * 20)
    with pytest.raises(ModelError, match="not an ONNX model"):
        read_metadata(path)


def test_the_onnx_reader_agrees_with_the_onnx_package(tmp_path):
    import numpy as np
    import onnx

    from tests.helpers import linear_softmax_onnx

    path = linear_softmax_onnx(tmp_path / "m.onnx", np.zeros((784, 2), np.float32), metadata=META)
    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert read_metadata(path) == json.loads(props["sketch_edge"])


def _to_ort(onnx_path, out_dir):
    import contextlib

    from onnxruntime.tools.convert_onnx_models_to_ort import OptimizationStyle, convert_onnx_models_to_ort

    with contextlib.redirect_stdout(io.StringIO()):
        convert_onnx_models_to_ort(onnx_path, out_dir, [OptimizationStyle.Fixed], target_platform="arm")
    return out_dir / onnx_path.with_suffix(".ort").name


def test_ort_files_keep_their_onnx_twins_metadata_and_a_stripped_one_is_one_line(tmp_path):
    import numpy as np
    import pytest

    from sketch_edge.errors import ModelError
    from sketch_edge.formats import FORMATS
    from sketch_edge.runtime import Predictor
    from tests.helpers import linear_softmax_onnx

    weights = np.random.default_rng(0).normal(size=(784, 2)).astype(np.float32)
    with_metadata = _to_ort(linear_softmax_onnx(tmp_path / "m.onnx", weights, metadata=BITMAP), tmp_path / "ort")
    assert read_metadata(with_metadata) == BITMAP
    import onnxruntime as ort  # what docs/mobile.md tells an app to read

    session = ort.InferenceSession(str(with_metadata), providers=["CPUExecutionProvider"])
    assert json.loads(session.get_modelmeta().custom_metadata_map["sketch_edge"])["labels"] == BITMAP["labels"]
    assert FORMATS["ort"].count_ops(with_metadata) == ["Flatten", "MatMul", "Softmax"]
    with Predictor(with_metadata) as predictor:
        assert predictor.labels == tuple(BITMAP["labels"])
    stripped = _to_ort(linear_softmax_onnx(tmp_path / "plain.onnx", weights), tmp_path / "ort")
    assert read_metadata(stripped) is None
    with pytest.raises(ModelError, match=r"plain.ort: the file carries no sketch-edge metadata, so pass its labels"):
        Predictor(stripped)
    truncated = tmp_path / "truncated.ort"
    truncated.write_bytes(with_metadata.read_bytes()[:64])
    with pytest.raises(ModelError, match=r"truncated.ort: its metadata cannot be read"):
        read_metadata(truncated)
    fake = tmp_path / "fake.ort"
    fake.write_bytes(b"\x10\x00\x00\x00ONNX" + bytes(20))
    with pytest.raises(ModelError, match=r"fake.ort: not an ONNX Runtime \(.ort\) model"):
        read_metadata(fake)


def _with_external_buffers(path):
    """The file rewritten as ai-edge-quantizer writes models over 256 KB: constants after the flatbuffer, found by
    each buffer's offset and size."""
    from ai_edge_litert import schema_py_generated as s

    from sketch_edge.formats.tflite_metadata import pack

    tree = s.ModelT.InitFromPackedBuf(bytearray(path.read_bytes()), 0)
    moved = {i: bytes(b.data) for i, b in enumerate(tree.buffers) if b.data is not None}
    for i in moved:
        tree.buffers[i].data, tree.buffers[i].offset, tree.buffers[i].size = None, 1, 1  # placeholders of the same width
    start = len(pack(tree)) + 16
    tail = bytearray()
    for i, data in moved.items():
        tree.buffers[i].offset, tree.buffers[i].size = start + len(tail), len(data)
        tail += data
    flat = pack(tree)
    path.write_bytes(flat + bytes(start - len(flat)) + bytes(tail))


def test_metadata_attached_to_a_file_with_constants_after_the_flatbuffer_keeps_them(tmp_path):
    """ai-edge-quantizer's files over 256 KB keep constants past the flatbuffer; attaching the metadata re-packs the
    flatbuffer, so those constants must move into it, or LiteRT says "Constant buffer N specified an out of range offset"."""
    from ai_edge_litert import schema_py_generated as s

    from tests.helpers import softmax_tflite

    path = softmax_tflite(tmp_path / "m.tflite", classes=2)
    _with_external_buffers(path)
    assert any(b.offset > 1 for b in s.ModelT.InitFromPackedBuf(bytearray(path.read_bytes()), 0).buffers)
    x = np.random.default_rng(0).uniform(0, 255, (1, 28, 28, 1)).astype("float32")
    before = _run(path, x)
    embed_metadata(path, "tflite", BITMAP)
    np.testing.assert_array_equal(_run(path, x), before)
    assert read_metadata(path)["labels"] == BITMAP["labels"]
