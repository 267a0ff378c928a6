"""Every registered model is built and checked; a model registered without an entry here fails the suite."""

import numpy as np
import pytest

from sketch_edge.errors import ModelError
from sketch_edge.models import DEFAULT_MODEL, get_model_spec, list_models

# What each model must be: registered names with no row here make test_all_models_tested fail.
EXPECTED = {
    "cnn-seed": {"input_kind": "bitmap", "max_params": 300_000},
    "cnn-bn": {"input_kind": "bitmap", "max_params": 1_000_000},
    "edge-cnn": {"input_kind": "bitmap", "max_params": 1_000_000},
    "seq-conv": {"input_kind": "strokes", "max_params": 1_000_000},
    "seq-lstm": {"input_kind": "strokes", "max_params": 1_000_000},
    "seq-gru": {"input_kind": "strokes", "max_params": 1_000_000},
}
STROKE_MODELS = [name for name, row in EXPECTED.items() if row["input_kind"] == "strokes"]


def test_all_models_tested():
    assert set(list_models()) == set(EXPECTED), "add a row to EXPECTED for every registered model"


def test_default_is_registered():
    assert DEFAULT_MODEL in list_models()


def test_unknown_model_suggests_the_nearest():
    with pytest.raises(ModelError, match="did you mean 'cnn-seed'"):
        get_model_spec("cnn-sed")


def test_a_family_model_is_named_by_every_parameter_and_built_from_them():
    spec = get_model_spec("edge-cnn[ depth = 2, width=16 ]")
    assert spec.name.startswith("edge-cnn[width=16,depth=2,") and get_model_spec(spec.name).name == spec.name
    assert get_model_spec("edge-cnn[epochs=7,augment=0.5]").epochs == 7 and get_model_spec("edge-cnn[augment=0.5]").augment == 0.5
    assert get_model_spec("edge-cnn[]").name == get_model_spec("edge-cnn").name
    assert get_model_spec("edge-cnn").label_smoothing == 0.1 and get_model_spec("edge-cnn[smoothing=0]").label_smoothing == 0
    exact = get_model_spec("edge-cnn[learning_rate=0.00123456789]")
    assert exact.learning_rate == 0.00123456789 and get_model_spec(exact.name).learning_rate == exact.learning_rate


def test_short_names_keep_only_what_differs_from_the_defaults():
    from sketch_edge.models import short_name

    full = get_model_spec("edge-cnn[pool=stride,width=48]").name
    assert len(full) > 100 and short_name(full) == "edge-cnn[width=48,pool=stride]"
    assert short_name(get_model_spec("edge-cnn").name) == "edge-cnn"
    assert short_name("cnn-bn") == "cnn-bn" and short_name("edge-cnn[width=-1]") == "edge-cnn[width=-1]"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("edge-cnn[width=-4]", "width must be at least 1"),
        ("edge-cnn[wdth=4]", "unknown edge-cnn parameter 'wdth' (did you mean 'width'?)"),
        ("edge-cnn[conv=fancy]", "conv must be one of plain, separable"),
        ("edge-cnn[width=3.5]", "width='3.5' is not an int"),
        ("edge-cnn[width=8", "parameters go in one pair of brackets"),
        ("edge-cnn[width]", "'width' is not key=value"),
        ("edge-cnn[kernel=4,dropout=1]", "kernel must be a positive odd number; dropout must be in [0, 1)"),
        ("edge-cnm[width=4]", "did you mean 'edge-cnn'"),
        ("edge-cnn[smoothing=1]", "smoothing must be in [0, 1)"),
    ],
)
def test_bad_family_parameters_are_one_line_errors(name, message):
    with pytest.raises(ModelError) as caught:
        get_model_spec(name)
    assert message in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.slow
@pytest.mark.parametrize(
    "name", ["edge-cnn[conv=separable,pool=stride,head=gap,dense=0,convs=2,depth=2]", "edge-cnn[kernel=5,depth=4,width=8]"]
)
def test_family_options_build_and_their_macs_are_counted(name):
    from sketch_edge.models.macs import count_macs

    model = get_model_spec(name).build(5)
    assert model.output_shape == (None, 5)
    kinds = {layer.__class__.__name__ for layer in model.layers}
    assert ("SeparableConv2D" in kinds) == ("separable" in name) and ("GlobalAveragePooling2D" in kinds) == ("gap" in name)
    assert count_macs(model) > 0


@pytest.mark.slow
def test_mac_count_of_a_separable_convolution():
    from sketch_edge.models.macs import count_macs

    model = get_model_spec("edge-cnn[conv=separable,width=8,depth=2,convs=1,dense=0,pool=max]").build(10)
    # conv 28x28 x 9 x 8; separable at 14x14: depthwise 9 x 8 and pointwise 8 x 16 per position; output dense 7*7*16 -> 10
    assert count_macs(model) == 28 * 28 * 9 * 8 + 14 * 14 * (9 * 8 + 8 * 16) + 7 * 7 * 16 * 10


@pytest.mark.slow
@pytest.mark.parametrize("name", list_models())
def test_model_contract(name):
    spec = get_model_spec(name)
    assert spec.input_kind == EXPECTED[name]["input_kind"]
    model = spec.build(7)
    assert model.count_params() <= EXPECTED[name]["max_params"]
    assert tuple(model.input_shape[1:]) == spec.input_spec.shape
    assert model.inputs[0].name == spec.input_spec.name
    assert model.output_names == ["probabilities"]
    # the model scales its own input: raw 0-255 values go in, probabilities come out
    x = np.random.default_rng(0).integers(0, 256, size=(4, *spec.input_spec.shape)).astype(np.float32)
    probs = np.asarray(model(x, training=False))
    assert probs.shape == (4, 7) and np.allclose(probs.sum(axis=1), 1, atol=1e-5)
    assert any(layer.__class__.__name__ == "Rescaling" for layer in model.layers)


@pytest.mark.slow
@pytest.mark.parametrize("name", STROKE_MODELS)
def test_padding_never_changes_the_answer(name):
    """The same drawing padded to another length (the same weights at 137 steps), or with garbage in its
    padded rows, gives the same probabilities: padded rows are zeroed before every layer reads them."""
    from sketch_edge.data import load_source
    from sketch_edge.data.sequence import PRESENT, STEPS, to_sequences
    from sketch_edge.models.sequence import seq_conv, seq_gru, seq_lstm

    builder = {"seq-conv": seq_conv, "seq-lstm": seq_lstm, "seq-gru": seq_gru}[name]
    model, longer = builder(5), builder(5, steps=STEPS + 37)
    rng = np.random.default_rng(0)
    model.set_weights([w + rng.normal(0, 0.05, w.shape).astype(w.dtype) for w in model.get_weights()])  # not the initial weights
    longer.set_weights(model.get_weights())
    x = to_sequences(load_source("synthetic", per_class=3).drawings[:6])
    assert (x[:, :, PRESENT] == 0).any(axis=1).all()  # every drawing is padded
    probs = np.asarray(model(x, training=False))
    padded = np.concatenate([x, np.zeros((len(x), 37, x.shape[2]), np.float32)], axis=1)
    assert np.allclose(np.asarray(longer(padded, training=False)), probs, atol=1e-6)
    garbage = x.copy()
    rows = garbage[:, :, PRESENT] == 0
    garbage[rows, :PRESENT] = rng.integers(0, 256, size=(rows.sum(), PRESENT))
    assert np.allclose(np.asarray(model(garbage, training=False)), probs, atol=1e-6)
    assert not np.allclose(np.asarray(model(x[:, ::-1], training=False)), probs, atol=1e-3)  # the check can fail


@pytest.mark.slow
def test_mac_count_of_the_seed_cnn():
    from sketch_edge.models.macs import count_macs

    # conv1 26*26*9*32, conv2 11*11*9*32*64, dense 1600*128, output 128*10
    assert count_macs(get_model_spec("cnn-seed").build(10)) == 26 * 26 * 9 * 32 + 11 * 11 * 9 * 32 * 64 + 1600 * 128 + 128 * 10


@pytest.mark.slow
def test_mac_count_of_the_lstm_model():
    from sketch_edge.data.sequence import STEPS
    from sketch_edge.models.macs import count_macs

    convs = STEPS * (5 * 4 * 48 + 5 * 48 * 64)
    lstm = STEPS * 4 * 128 * (64 + 128)  # four gates, each over the input and the previous state, every step
    assert count_macs(get_model_spec("seq-lstm").build(7)) == convs + lstm + 128 * 128 + 128 * 7
