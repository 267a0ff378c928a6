"""The page's JavaScript ports (web/src) give exactly what the Python they port gives, run under Node."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest

from sketch_edge.data import synthetic
from sketch_edge.data.drawing import simplify_raw
from sketch_edge.data.raster import rasterize
from sketch_edge.data.sequence import STEPS, to_sequence
from sketch_edge.formats import read_metadata
from tests.helpers import REPO, SHARED_QUICKDRAW, linear_softmax_onnx

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="Node.js is not installed (.ci/run installs it)")


def _raw_drawings(count: int, seed: int) -> list[list[list[list[float]]]]:
    """Random pointer-like strokes: float canvas coordinates, jittered, a time row, some one-point strokes."""
    rng = np.random.default_rng(seed)
    drawings = []
    for _ in range(count):
        strokes = []
        for _ in range(rng.integers(1, 5)):
            n = int(rng.choice([1, 2, rng.integers(3, 80)]))
            walk = np.cumsum(rng.normal(0, rng.uniform(0.5, 12), size=(n, 2)), axis=0) + rng.uniform(0, 600, size=2)
            if rng.random() < 0.3:
                walk = np.round(walk)  # integer pointer positions, repeated points
            strokes.append([walk[:, 0].tolist(), walk[:, 1].tolist(), list(range(n))])
        drawings.append(strokes)
    # an extent of 510 halves every coordinate: odd ones land on .5, where numpy rounds to even
    drawings.append([[[0, 510], [0, 0], [0, 1]], [[1, 3, 5], [7, 9, 11], [2, 3, 4]], [[13], [15], [5]]])
    return drawings


def _run_port(tmp_path, payload: dict) -> dict:
    (tmp_path / "input.json").write_text(json.dumps(payload))
    done = subprocess.run([NODE, str(REPO / "web" / "tests" / "port.mjs"), str(tmp_path / "input.json")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_simplification_and_rasterization_match_python_exactly(tmp_path):
    raw = _raw_drawings(150, seed=0)
    simplified, _ = synthetic.generate(per_class=5, seed=3)
    zigzag = [[list(range(0, 250)), [255 * (i % 2) for i in range(250)]]]  # longer than the cut, on any machine
    simplified.append(zigzag)
    if (SHARED_QUICKDRAW / "simplified").is_dir():
        for path in sorted((SHARED_QUICKDRAW / "simplified").glob("*.ndjson"))[:40]:
            simplified += [json.loads(line)["drawing"] for line in path.read_text().splitlines()[:5]]
    out = _run_port(tmp_path, {"raw": raw, "simplified": simplified, "steps": STEPS})

    python_simplified = [simplify_raw([np.asarray(s[:2], dtype=np.float64) for s in d]) for d in raw]
    assert out["simplified"] == python_simplified
    expected = [rasterize(d).reshape(-1).tolist() for d in python_simplified + simplified]
    mismatched = [i for i, (a, b) in enumerate(zip(out["bitmaps"], expected, strict=True)) if a != b]
    assert not mismatched, f"{len(mismatched)} of {len(expected)} bitmaps differ, first: drawing {mismatched[0]}"
    # point rows for the stroke models, long drawings cut at STEPS points included
    assert max(sum(len(xs) for xs, _ in d) for d in python_simplified + simplified) > STEPS
    sequences = [to_sequence(d).reshape(-1).tolist() for d in python_simplified + simplified]
    mismatched = [i for i, (a, b) in enumerate(zip(out["sequences"], sequences, strict=True)) if a != b]
    assert not mismatched, f"{len(mismatched)} of {len(sequences)} point sequences differ, first: drawing {mismatched[0]}"


def test_metadata_is_read_from_the_onnx_bytes(tmp_path):
    metadata = {"labels": ["cat", "The Eiffel Tower", "ünïcode"], "model": "linear", "recipe": "onnx-int8"}
    path = linear_softmax_onnx(tmp_path / "m.onnx", np.zeros((784, 3), np.float32), metadata)
    assert _run_port(tmp_path, {"raw": [], "simplified": [], "steps": 0, "onnx": str(path)})["metadata"] == read_metadata(path) == metadata
