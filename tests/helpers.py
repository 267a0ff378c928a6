"""Constants and helpers shared by the tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sketch_edge.manifest import Manifest

EXAMPLES = Path(__file__).parent / "examples"
"""Real outputs of the stages, committed: the fast tests read them, so a schema change breaks a test first."""

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
    return {"schema_version": Manifest.SCHEMA_VERSION, "created": "", "source": source, "libraries": {}, "gates": {}, "artifacts": rows}


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
        from sketch_edge.formats import FORMATS

        FORMATS["onnx"].embed_metadata(path, metadata)
    return path


def softmax_tflite(path: Path, classes: int = 2, input_shape=(1, 28, 28, 1)) -> Path:
    """A tiny hand-built TFLite model without TensorFlow (mean over the input's inner axes, one per class, then
    softmax: not a classifier, a real flatbuffer LiteRT runs), from the TFLite schema module LiteRT ships."""
    import numpy as np
    from ai_edge_litert import schema_py_generated as s

    from sketch_edge.formats.tflite_metadata import pack

    def tensor(name: str, shape: tuple[int, ...], buffer: int, dtype: int = s.TensorType.FLOAT32) -> Any:
        t = s.TensorT()
        t.name, t.shape, t.type, t.buffer = name.encode(), list(shape), dtype, buffer
        return t

    def code(builtin: int) -> Any:
        c = s.OperatorCodeT()
        c.builtinCode, c.deprecatedBuiltinCode, c.version = builtin, builtin, 1
        return c

    def op(index: int, inputs: list[int], outputs: list[int]) -> Any:
        o = s.OperatorT()
        o.opcodeIndex, o.inputs, o.outputs = index, inputs, outputs
        return o

    flat = int(np.prod(input_shape[1:]))
    buffers = [s.BufferT() for _ in range(5)]
    buffers[2].data = np.frombuffer(np.array([1, flat // classes, classes], np.int32).tobytes(), np.uint8)
    buffers[3].data = np.frombuffer(np.array([1], np.int32).tobytes(), np.uint8)
    graph = s.SubGraphT()
    graph.tensors = [
        tensor("image", input_shape, 1),
        tensor("shape", (3,), 2, s.TensorType.INT32),
        tensor("grouped", (1, flat // classes, classes), 0),
        tensor("axis", (1,), 3, s.TensorType.INT32),
        tensor("logits", (1, classes), 0),
        tensor("probabilities", (1, classes), 4),
    ]
    reshape, mean, softmax = op(0, [0, 1], [2]), op(1, [2, 3], [4]), op(2, [4], [5])
    mean.builtinOptionsType, mean.builtinOptions = s.BuiltinOptions.ReducerOptions, s.ReducerOptionsT()
    softmax.builtinOptionsType, softmax.builtinOptions = s.BuiltinOptions.SoftmaxOptions, s.SoftmaxOptionsT()
    softmax.builtinOptions.beta = 1.0
    graph.operators, graph.inputs, graph.outputs = [reshape, mean, softmax], [0], [5]
    model = s.ModelT()
    model.version, model.buffers, model.subgraphs = 3, buffers, [graph]
    model.operatorCodes = [code(s.BuiltinOperator.RESHAPE), code(s.BuiltinOperator.MEAN), code(s.BuiltinOperator.SOFTMAX)]
    path.write_bytes(pack(model))
    return path


def linear_strokes_onnx(path: Path, weights, metadata: dict) -> Path:
    """`linear_softmax_onnx` on the stroke models' input: (batch, STEPS, 4) point rows named `strokes`."""
    from sketch_edge.data.sequence import CHANNELS, STEPS

    return linear_softmax_onnx(path, weights, metadata, input_shape=(STEPS, CHANNELS), input_name="strokes")


def bench_results(rows: list[dict], test_samples: int = 80, **source) -> dict:
    """A valid results.json (as `bench.results.Results` writes it) around cells given as partial rows: recipe, runtime,
    and what the test is about (`latency_us` may be just {"p50": ...}; the other percentiles are set to it)."""
    from sketch_edge.bench.results import BenchSource, Environment, Latency, Results, Row, Settings

    def row(given: dict) -> Row:
        values = dict(given)
        p50 = (values.pop("latency_us", None) or {}).get("p50")
        latency = None if p50 is None else Latency(p50, p50, p50, p50, 0.0, p50, 100)
        threads, batch = values.get("threads", 1), values.get("batch", 1)
        compute = values.get("compute", "int8" if "int8" in values["recipe"] else "fp32")
        defaults = {
            "format": "onnx" if values["recipe"].startswith("onnx") else "tflite",
            "precision": compute,
            "compute": compute,
            "key": f"{values['recipe']}/{values['runtime']}/t{threads}/b{batch}",
            "status": "ok",
            "threads": threads,
            "batch": batch,
        }
        return Row(**(defaults | values), latency_us=latency)

    environment = Environment("Test CPU", ("avx2",), 2, "Linux", "3.11.2", {"numpy": "2.4.6"}, None, "2026-12-01T00:00:00Z")
    defaults = {
        "model": "cnn-seed",
        "input_kind": "bitmap",
        "sha256": "0" * 64,
        "labels": ("a", "b"),
        "macs": 1000,
        "keras_test_top1": 0.9,
        "split": "split.npz",
        "split_sha256": "1" * 64,
        "test_drawings": "ab" * 32,
    }
    results = Results(environment, BenchSource(**(defaults | source)), Settings(), test_samples, 0.1, tuple(row(r) for r in rows))
    return results.to_json()
