"""models.saved: a model.keras that is not one, or would inflate without bound, is one line; the model kind."""

import zipfile

import pytest

from sketch_edge.errors import ModelError
from sketch_edge.models.saved import load_trained


def test_a_keras_file_that_would_inflate_without_bound_is_refused_unread(tmp_path):
    path = tmp_path / "model.keras"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", "{}")
        archive.writestr("model.weights.h5", bytes(200 << 20))  # 200 MB of zeros in about 200 kB
    assert path.stat().st_size < 1 << 20
    with pytest.raises(ModelError, match=r"model.keras: its member 'model.weights.h5' would inflate .* decompression bomb"):
        load_trained(path)


def test_a_truncated_keras_file_is_one_line(tmp_path):
    path = tmp_path / "model.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", "{}" * 1000)
    path.write_bytes(path.read_bytes()[:-30])  # the central directory cut
    with pytest.raises(ModelError, match="model.keras: not a"):
        load_trained(path)


@pytest.mark.slow
def test_the_architecture_says_whether_a_model_recurs():
    from sketch_edge.models import get_model_spec
    from sketch_edge.models.saved import architecture_of, recurrent_layers

    assert architecture_of(get_model_spec("seq-gru").build(3)) == "recurrent" and recurrent_layers(get_model_spec("seq-lstm").build(3))
    assert architecture_of(get_model_spec("seq-conv").build(3)) == architecture_of(get_model_spec("cnn-seed").build(3)) == "feed-forward"
