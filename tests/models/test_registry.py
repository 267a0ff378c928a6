"""Every registered model is built and checked; a model registered without an entry here fails the suite."""

import numpy as np
import pytest

from sketch_edge.errors import ModelError
from sketch_edge.models import DEFAULT_MODEL, get_model_spec, list_models

# What each model must be: registered names with no row here make test_all_models_tested fail.
EXPECTED = {
    "cnn-seed": {"input_kind": "bitmap", "max_params": 300_000},
    "cnn-bn": {"input_kind": "bitmap", "max_params": 1_000_000},
}


def test_all_models_tested():
    assert set(list_models()) == set(EXPECTED), "add a row to EXPECTED for every registered model"


def test_default_is_registered():
    assert DEFAULT_MODEL in list_models()


def test_unknown_model_suggests_the_nearest():
    with pytest.raises(ModelError, match="did you mean 'cnn-seed'"):
        get_model_spec("cnn-sed")


@pytest.mark.slow
@pytest.mark.parametrize("name", list_models())
def test_model_contract(name):
    spec = get_model_spec(name)
    assert spec.input_kind == EXPECTED[name]["input_kind"]
    model = spec.build(7)
    assert model.count_params() <= EXPECTED[name]["max_params"]
    assert tuple(model.input_shape[1:]) == spec.input_spec.shape
    assert model.inputs[0].name == "image"
    assert model.output_names == ["probabilities"]
    # the model scales its own input: raw 0-255 bitmaps go in, probabilities come out
    x = np.random.default_rng(0).integers(0, 256, size=(4, *spec.input_spec.shape)).astype(np.float32)
    probs = np.asarray(model(x, training=False))
    assert probs.shape == (4, 7) and np.allclose(probs.sum(axis=1), 1, atol=1e-5)
    assert any(layer.__class__.__name__ == "Rescaling" for layer in model.layers)


@pytest.mark.slow
def test_mac_count_of_the_seed_cnn():
    from sketch_edge.models.macs import count_macs

    # conv1 26*26*9*32, conv2 11*11*9*32*64, dense 1600*128, output 128*10
    assert count_macs(get_model_spec("cnn-seed").build(10)) == 26 * 26 * 9 * 32 + 11 * 11 * 9 * 32 * 64 + 1600 * 128 + 128 * 10
