"""Files made elsewhere taken into an artifacts folder (`bench --model`): contract, reference, names, refusals, reuse."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sketch_edge.bench.plan import BenchConfig
from sketch_edge.bench.stage import run
from sketch_edge.data.saved_split import SavedSplit
from sketch_edge.errors import DataError, ModelError, OutputError
from sketch_edge.export.files import FilesConfig, artifact_names, take
from sketch_edge.manifest import FILES_MADE_ELSEWHERE, Manifest
from tests.helpers import linear_softmax_onnx, softmax_tflite


def _images(root: Path, classes: int = 2, per_class: int = 30, side: int = 28) -> Path:
    """Gray pictures whose bright half says the class: the left half for class 0, the right half for class 1."""
    rng = np.random.default_rng(0)
    for c in range(classes):
        (root / f"c{c}").mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 100, (side, side), dtype=np.uint8)
            pixels[:, (side // 2) * (c % 2) : (side // 2) * (c % 2 + 1)] += 150
            Image.fromarray(pixels).save(root / f"c{c}" / f"{i:03d}.png")
    return root


def _linear(path: Path, metadata: dict | None = None) -> Path:
    """A linear classifier of those pictures: each class sums its half."""
    left = (np.arange(28 * 28) % 28 < 14).astype(np.float32)
    return linear_softmax_onnx(path, np.stack([left, 1 - left], axis=1) * 1e-2, metadata)


def test_names_are_safe_distinct_and_never_a_recipes() -> None:
    files = (Path("a/model v2.tflite"), Path("b/model v2.onnx"), Path("tflite-int8.tflite"), Path("keras.onnx"), Path("$$$.onnx"))
    assert list(artifact_names(files).values()) == ["model-v2", "model-v2-2", "tflite-int8-given", "keras-given", "file"]


def test_files_without_metadata_are_benched_against_the_first_float_one(tmp_path: Path) -> None:
    data = _images(tmp_path / "images")
    first, tiny = _linear(tmp_path / "linear.onnx"), softmax_tflite(tmp_path / "mean.tflite", classes=2)
    out = tmp_path / "out"
    manifest = take(FilesConfig(files=(first, tiny), data=data, out=out, input_range=(0.0, 255.0)))
    source = manifest.source
    assert source.origin == FILES_MADE_ELSEWHERE and not source.has_keras and source.model == "linear"
    assert source.labels == ("c0", "c1") and source.input["shape"] == [28, 28, 1] and source.macs == 28 * 28 * 2
    assert source.keras_test_top1 == 1.0  # the linear model tells bright from dark
    assert [(a.name, a.format, a.precision, a.path) for a in manifest.artifacts] == [
        ("linear", "onnx", "fp32", "linear.onnx"),
        ("mean", "tflite", "fp32", "mean.tflite"),
    ]
    assert (out / "export" / "mean.tflite").read_bytes() == tiny.read_bytes()
    saved = SavedSplit.load(out / "split.npz")
    reference = np.load(out / "export" / "reference.npz")
    assert reference["test"].shape == (len(saved.test_y), 2) and str(reference["model_sha256"]) == source.sha256
    assert (out / "labels.txt").read_text() == "c0\nc1\n"

    results, _ = run(BenchConfig(artifacts=out, runtimes=("onnxruntime", "litert"), threads=(1,), batches=(1,), quick=True, profile=False))
    rows = {(r.recipe, r.runtime): r for r in results.results}
    assert set(rows) == {("linear", "onnxruntime"), ("mean", "litert")}  # no Keras row: there is no Keras model
    assert rows["linear", "onnxruntime"].agreement == 1.0 and rows["linear", "onnxruntime"].top1 == 1.0
    assert rows["mean", "litert"].status == "ok" and rows["mean", "litert"].peak_fraction is not None
    assert results.source.reference == "the reference file linear"

    again = take(FilesConfig(files=(first, tiny), data=data, out=out, input_range=(0.0, 255.0)))
    assert again.reused and again.artifacts == manifest.artifacts
    first.write_bytes(first.read_bytes())  # written again, the same bytes: still reused
    assert take(FilesConfig(files=(first, tiny), data=data, out=out, input_range=(0.0, 255.0))).reused
    assert not take(FilesConfig(files=(first, tiny), data=data, out=out, input_range=(0.0, 1.0))).reused
    linear_softmax_onnx(first, np.ones((784, 2), np.float32))  # other bytes: taken again
    assert not take(FilesConfig(files=(first, tiny), data=data, out=out, input_range=(0.0, 1.0))).reused


def test_a_sketch_edge_file_gives_its_own_contract_and_class_order(tmp_path: Path) -> None:
    from sketch_edge.data import INPUT_SPECS

    data = _images(tmp_path / "images")
    metadata = {"labels": ["c1", "c0"], "input": INPUT_SPECS["bitmap"].to_json()}
    manifest = take(FilesConfig(files=(_linear(tmp_path / "own.onnx", metadata),), data=data, out=tmp_path / "out"))
    assert manifest.source.labels == ("c1", "c0") and manifest.source.input["kind"] == "bitmap"
    assert manifest.source.keras_test_top1 == 0.0  # its metadata's class order, answered by a model made for the other


@pytest.mark.parametrize(
    ("case", "error", "words"),
    [
        ("no range", ModelError, "pass --input-range"),
        ("keras", ModelError, "sketch-edge export --model"),
        ("damaged", ModelError, "damaged.tflite"),
        ("channels first", ModelError, "channels-first"),
        ("classes", DataError, "3 classes, but"),
        ("inside data", OutputError, "overlaps the image folder"),
        ("keras folder", OutputError, "holds a Keras model's artifacts"),
        ("twice", ModelError, "given twice"),
    ],
)
def test_what_cannot_be_benched_is_one_line_before_anything_is_written(tmp_path: Path, case: str, error: type, words: str) -> None:
    data = _images(tmp_path / "images", classes=3 if case == "classes" else 2)
    model = _linear(tmp_path / "linear.onnx")
    out = tmp_path / "out"
    files, input_range = (model,), (0.0, 255.0)
    if case == "no range":
        input_range = None
    elif case == "keras":
        files = (tmp_path / "m.keras",)
        files[0].write_bytes(b"PK")
    elif case == "damaged":
        files = (tmp_path / "damaged.tflite",)
        files[0].write_bytes(b"\x1c\x00\x00\x00TFL3" + bytes(range(256)) * 4)
    elif case == "channels first":
        weights = np.ones((3 * 28 * 28, 2), np.float32)
        files = (linear_softmax_onnx(tmp_path / "nchw.onnx", weights, input_shape=(3, 28, 28)),)
    elif case == "inside data":
        out = data / "out"
    elif case == "keras folder":
        out.mkdir()
        (out / "model.keras").write_bytes(b"PK")
    elif case == "twice":
        files = (model, tmp_path / "." / "linear.onnx")
    with pytest.raises(error) as raised:
        take(FilesConfig(files=files, data=data, out=out, input_range=input_range))
    message = str(raised.value)
    assert words in message and "\n" not in message
    assert not (out / "export").exists() and not (out / "split.npz").exists()


def test_the_manifest_lists_the_copies_the_bench_checks(tmp_path: Path) -> None:
    """A copy changed after the take is refused by the bench, as an exported file is (its sha256 is in the manifest)."""
    out = tmp_path / "out"
    take(FilesConfig(files=(_linear(tmp_path / "linear.onnx"),), data=_images(tmp_path / "images"), out=out, input_range=(0, 255)))
    manifest = json.loads((out / "export" / "manifest.json").read_text())
    assert Manifest.load(out / "export" / "manifest.json").artifacts[0].sha256 == manifest["artifacts"][0]["sha256"]
    (out / "export" / "linear.onnx").write_bytes(b"changed")
    results, _ = run(BenchConfig(artifacts=out, runtimes=("onnxruntime",), threads=(1,), batches=(1,), quick=True, profile=False))
    assert [(r.status, "sha256 differs" in (r.error or "")) for r in results.results] == [("failed", True)]
