"""Each format's metadata: embedded by export, read back without TensorFlow or a session (sketch_edge.formats)."""

import io
import json
import zipfile

from sketch_edge.formats import FORMATS, read_metadata


def embed_metadata(path, fmt, metadata):
    FORMATS[fmt].embed_metadata(path, metadata)


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
