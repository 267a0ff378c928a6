"""The format registry: every recipe and runtime names registered formats, and each format's parts are there."""

import pytest

from sketch_edge.errors import ModelError
from sketch_edge.export.recipes import RECIPES
from sketch_edge.formats import FORMATS, format_of, get_format
from sketch_edge.runtime import RUNTIMES


def test_recipes_and_runtimes_name_registered_formats():
    assert {r.format for r in RECIPES.values()} <= set(FORMATS)
    assert {f for spec in RUNTIMES.values() for f in spec.formats} <= set(FORMATS)
    for recipe in RECIPES.values():
        assert recipe.suffix in FORMATS[recipe.format].suffixes


def test_every_format_is_complete():
    for name, fmt in FORMATS.items():
        assert fmt.name == name and fmt.suffixes
        # written and read, or neither; a format only converted to (.ort) carries what its twin had written
        converted = name in {r.format for r in RECIPES.values() if r.converts}
        assert (fmt.read_metadata is None) == (fmt.embed_metadata is None) or (converted and fmt.read_metadata), name
        runs = [spec.name for spec in RUNTIMES.values() if name in spec.formats]
        assert bool(runs) == fmt.runs_in_runtime, (name, runs)
        # `bench --model` takes every file a runtime runs but the Keras model, which `export --model` takes
        assert (fmt.graph_facts is not None) == (fmt.runs_in_runtime and name != "keras"), name
    quantized = {r.format for r in RECIPES.values() if r.measures_sensitivity}
    assert all(FORMATS[name].layers for name in quantized)  # the sensitivity report reads every quantized format's layers


def test_suffixes_name_one_format():
    suffixes = [s for fmt in FORMATS.values() for s in fmt.suffixes if s]
    assert len(suffixes) == len(set(suffixes))
    assert format_of("a/b.onnx").name == "onnx" and format_of("m.tflite").name == "tflite"
    with pytest.raises(ModelError, match="m.pt: metadata is read from"):
        format_of("m.pt")
    with pytest.raises(ModelError, match="unknown format 'onx'.*did you mean 'onnx'"):
        get_format("onx")
