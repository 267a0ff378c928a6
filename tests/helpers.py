"""Constants and helpers shared by the tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_QUICKDRAW = REPO.parent / "shared" / "quickdraw"

needs_real_data = pytest.mark.skipif(
    not (SHARED_QUICKDRAW / "numpy_bitmap").is_dir(),
    reason=f"the real QuickDraw subset is not at {SHARED_QUICKDRAW} (only the developers' and CI machines have it)",
)

TINY_CLASSES = ("circle", "star", "lightning", "envelope")
TINY_DATA = {"classes": TINY_CLASSES, "per_class": 200, "seed": 2}
"""The data of the `exported` fixture's model: 640 / 80 / 80 drawings."""


def copy_artifacts(source: Path, target: Path, *skip: str) -> Path:
    """A private copy of a shared artifacts folder (a test may then break it), without its bench and web outputs."""
    import shutil

    shutil.copytree(source, target, ignore=shutil.ignore_patterns("bench", "web", *skip))
    return target


def manifest_json(artifacts: list[dict]) -> dict:
    """A minimal valid export manifest around `artifacts` rows (name, format, precision, path, status, ...)."""
    source = {
        "sha256": "0" * 64,
        "model": "cnn-seed",
        "labels": ["a", "b"],
        "input": {"kind": "bitmap"},
        "data": {},
        "keras_test_top1": 0.9,
        "split_sha256": "1" * 64,
    }
    rows = [{"compute": a.get("precision", "fp32"), "sha256": "2" * 64, "status": "ok", **a} for a in artifacts]
    return {"created": "", "source": source, "libraries": {}, "gates": {}, "artifacts": rows}


SQUARE = [[[0, 255, 255, 0, 0], [0, 0, 255, 255, 0]]]
TRIANGLE = [[[128, 255, 0, 128], [0, 255, 255, 0]]]


def write_ndjson(path: Path, drawings: list, recognized: list[bool] | None = None) -> Path:
    recognized = recognized or [True] * len(drawings)
    lines = [json.dumps({"word": path.stem, "recognized": r, "drawing": d}) for d, r in zip(drawings, recognized, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path


def linear_softmax_onnx(path: Path, weights, metadata: dict | None = None, input_shape=(28, 28, 1), input_name="image") -> Path:
    """A tiny hand-built ONNX classifier (flatten, matmul, softmax) on the bitmap input (or another), without
    TensorFlow; `weights` is (inputs, classes); `metadata` is embedded the way the export stage embeds it."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [
            helper.make_node("Flatten", [input_name], ["flat"]),
            helper.make_node("MatMul", ["flat", "w"], ["logits"]),
            helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
        ],
        "linear",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["batch", *input_shape])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", weights.shape[1]])],
        initializer=[numpy_helper.from_array(weights, "w")],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    if metadata is not None:
        from sketch_edge.export.metadata import embed_metadata

        embed_metadata(path, "onnx", metadata)
    return path


def linear_strokes_onnx(path: Path, weights, metadata: dict) -> Path:
    """`linear_softmax_onnx` on the stroke models' input: (batch, STEPS, 4) point rows named `strokes`."""
    from sketch_edge.data.sequence import CHANNELS, STEPS

    return linear_softmax_onnx(path, weights, metadata, input_shape=(STEPS, CHANNELS), input_name="strokes")
