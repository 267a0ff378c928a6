import io
import json
import zipfile

from sketch_edge.export.metadata import embed_metadata
from sketch_edge.runtime.metadata import read_metadata

META = {"labels": ["cat", "The Eiffel Tower"], "input": {"shape": [28, 28, 1]}, "source_sha256": "ab" * 32}


def test_tflite_metadata_rides_along_as_an_appended_zip(tmp_path):
    path = tmp_path / "m.tflite"
    flatbuffer = b"\x1c\x00\x00\x00TFL3" + bytes(100)
    path.write_bytes(flatbuffer)
    embed_metadata(path, "tflite", META)
    data = path.read_bytes()
    assert data.startswith(flatbuffer)  # the model itself is untouched
    assert read_metadata(path) == META
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.read("labels.txt").decode().splitlines() == META["labels"]


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
