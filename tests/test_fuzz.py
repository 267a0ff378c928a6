"""Fuzzing the readers of untrusted files: every input is answered or refused with the project's own error.

Inputs: ndjson lines (mutated real records and arbitrary JSON), `.npy` files with mutated headers, model
metadata JSON, manifest JSON, results.json (as `compare` and `--baseline` read it) and the numbers of the command
line's option types. Each case must end in a result or a `SketchEdgeError` (argparse's error for options), never
anything else.
"""

from __future__ import annotations

import io
import json
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sketch_edge.data.local import read_ndjson, read_npy_bitmaps
from sketch_edge.errors import SketchEdgeError
from sketch_edge.formats import parse_metadata as _parse
from sketch_edge.manifest import Manifest
from tests.helpers import SQUARE, manifest_json

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30,
)
RECORD = json.dumps({"word": "cat", "recognized": True, "drawing": SQUARE}).encode()


def _mutate(data: bytes, edits: list[tuple[int, int]]) -> bytes:
    buffer = bytearray(data)
    for position, value in edits:
        if buffer:
            buffer[position % len(buffer)] = value
    return bytes(buffer)


@FUZZ
@given(edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=8), extra=json_values)
def test_ndjson_lines(tmp_path, edits, extra):
    path = tmp_path / "cat.ndjson"
    path.write_bytes(_mutate(RECORD, edits) + b"\n" + json.dumps({"drawing": extra}).encode() + b"\n")
    for skip in (False, True):
        try:
            drawings = read_ndjson(path, None, False, skip, Counter(), set())
        except SketchEdgeError:
            continue
        assert all(isinstance(d, list) for d in drawings)


@FUZZ
@given(edits=st.lists(st.tuples(st.integers(0, 127), st.integers(0, 255)), min_size=1, max_size=6))
def test_npy_headers(tmp_path, edits):
    buffer = io.BytesIO()
    np.save(buffer, np.zeros((3, 784), np.uint8))
    data = buffer.getvalue()
    path = tmp_path / "cat.npy"
    path.write_bytes(_mutate(data[:128], edits) + data[128:])  # the magic and header live in the first 128 bytes
    try:
        bitmaps = read_npy_bitmaps(path, None)
    except SketchEdgeError:
        return
    assert bitmaps.dtype == np.uint8 and bitmaps.shape[1:] == (28, 28)


@FUZZ
@given(value=json_values)
def test_model_metadata(tmp_path, value):
    from sketch_edge.errors import ModelError

    try:
        metadata = _parse(json.dumps(value), tmp_path / "m.onnx")
    except ModelError:
        return
    assert isinstance(metadata, dict)


@FUZZ
@given(value=json_values, key=st.sampled_from(["source", "artifacts", "created", "gates"]), where=st.integers(0, 2))
def test_manifest_json(tmp_path, value, key, where):
    row = {"name": "onnx-fp32", "format": "onnx", "precision": "fp32", "path": "onnx-fp32.onnx"}
    data = manifest_json([row])
    if where == 0:
        data[key] = value
    elif where == 1 and isinstance(data.get(key), dict):
        data[key] = {**data[key], "labels": value, "path": value, "keras_test_top1": value}
    else:
        data["artifacts"] = [{**data["artifacts"][0], "inputs": value, "parity": value, "compute": value}]
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(data))
    try:
        manifest = Manifest.load(path)
    except SketchEdgeError:
        return
    assert manifest.artifacts and isinstance(manifest.source.labels, tuple)


@FUZZ
@given(value=json_values, field=st.sampled_from(["schema_version", "source", "environment", "test_samples", "results", "row", "latency"]))
def test_results_json(tmp_path, value, field):
    from sketch_edge.bench import results
    from tests.helpers import EXAMPLES

    data = json.loads((EXAMPLES / "results.json").read_text())
    if field == "row":
        data["results"][0] = {**data["results"][0], "threads": value, "top1": value, "status": value}
    elif field == "latency":
        data["results"][0]["latency_us"] = value
    else:
        data[field] = value
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data))
    try:
        read = results.read(path)
    except SketchEdgeError:
        return
    assert isinstance(read.results, tuple) and all(isinstance(r, results.Row) for r in read.results)


@FUZZ
@given(text=st.text(max_size=30) | st.sampled_from(["nan", "inf", "-0", "1e308", "9" * 400, "0x10", "1_000", " 3 "]))
def test_option_numbers(text):
    import argparse

    from sketch_edge import numbers

    for parse in (numbers.option(lo=1, hi=256, integer=True), numbers.option(lo=0, hi=1)):
        try:
            value = parse(text)
        except argparse.ArgumentTypeError:
            continue
        assert isinstance(value, int | float) and value == value and abs(value) <= 256  # in bounds, never NaN


@pytest.mark.parametrize("depth", [10_000, 100_000])
def test_deep_nesting_everywhere(tmp_path, depth):
    deep = "[" * depth + "]" * depth
    (tmp_path / "manifest.json").write_text(deep)
    with pytest.raises(SketchEdgeError):
        Manifest.load(tmp_path / "manifest.json")
    with pytest.raises(SketchEdgeError):
        _parse(deep, tmp_path / "m.onnx")
    (tmp_path / "cat.ndjson").write_text('{"drawing": ' + deep + "}\n")
    with pytest.raises(SketchEdgeError):
        read_ndjson(tmp_path / "cat.ndjson", None, False, False, Counter(), set())
