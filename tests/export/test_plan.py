"""What an export will make, decided before anything runs."""

from dataclasses import replace

import pytest

from sketch_edge.errors import ExportError
from sketch_edge.export.plan import libraries, plan, refusal, with_twins
from sketch_edge.export.recipes import RECIPES


def test_defaults_leave_out_what_the_architecture_or_input_does_not_take_and_say_why():
    recurrent = plan((), "recurrent", "strokes")
    names = [r.name for r in recurrent.recipes]
    assert "tflite-int8-aeq" not in names and "not a default for recurrent models" in recurrent.left_out["tflite-int8-aeq"]
    assert set(recurrent.left_out).isdisjoint(names)
    asked = plan(("tflite-int8-aeq",), "recurrent", "strokes")  # asked for by name: made, nothing left out
    assert [r.name for r in asked.recipes] == ["tflite-int8-aeq"] and asked.left_out == {}


def test_a_converted_recipe_comes_with_its_twin_in_the_first_wave():
    converted = next(r for r in RECIPES.values() if r.converts)
    assert with_twins((converted.name,)) == [converted.converts, converted.name]
    first, second = plan((converted.name,), "feed-forward", "bitmap").waves
    assert [r.name for r in first] == [converted.converts] and [r.name for r in second] == [converted.name]
    with pytest.raises(ExportError, match="unknown export recipe"):
        with_twins(("no-such-recipe",))


def test_a_converted_recipe_is_refused_when_its_twin_failed_or_was_not_made(tmp_path):
    converted = next(r for r in RECIPES.values() if r.converts)
    twin = RECIPES[converted.converts].artifact(tmp_path / "twin")
    assert refusal(converted, "bitmap", {}) == f"not converted: its twin {converted.converts} was not exported"
    assert refusal(converted, "bitmap", {twin.name: twin}) is None
    failed = replace(twin, status="failed")
    assert "failed" in str(refusal(converted, "bitmap", {twin.name: failed}))


def test_libraries_are_each_named_once_with_keras_first():
    found = libraries([RECIPES["tflite-int8"], RECIPES["tflite-int8-aeq"], RECIPES["tflite-int8"]])
    assert found[:2] == ("numpy", "keras") and len(found) == len(set(found)) and "ai-edge-quantizer" in found
