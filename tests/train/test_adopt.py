"""A Keras classifier trained elsewhere, with a folder of images, through export, the predictor and bench."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sketch_edge.errors import DataError, ModelError, OutputError
from sketch_edge.layout import Layout
from sketch_edge.manifest import Manifest
from sketch_edge.train.origin import Origin
from tests.helpers import REPO

pytestmark = pytest.mark.slow

COLOURS = {"red": (200, 30, 30), "green": (30, 180, 40), "blue": (30, 40, 200)}  # the model's output order, not sorted


def _images(root: Path) -> Path:
    rng = np.random.default_rng(0)
    for name, colour in COLOURS.items():
        (root / name).mkdir(parents=True)
        for i in range(30):
            pixels = np.clip(rng.normal(colour, 40, size=(40 + i % 5, 50, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i:03d}.png")
    return root


def _train(path: Path, preprocessing: bool) -> Path:
    """A small CNN: with a leading Normalization layer and softmax, or bare, on [-1, 1], answering logits."""
    import keras

    rng = np.random.default_rng(1)
    pixels = np.concatenate([np.clip(rng.normal(c, 40, size=(60, 24, 24, 3)), 0, 255) for c in COLOURS.values()]).astype("float32")
    labels = np.repeat(np.arange(len(COLOURS)), 60)
    keras.utils.set_random_seed(0)
    inputs = keras.Input((24, 24, 3))
    if preprocessing:
        normalization = keras.layers.Normalization()
        normalization.adapt(pixels)
        x, train_x = normalization(inputs), pixels
    else:
        x, train_x = inputs, pixels / 127.5 - 1
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(8, 3, activation="relu")(x))
    outputs = keras.layers.Dense(len(COLOURS), activation="softmax" if preprocessing else None)(x)
    model = keras.Model(inputs, outputs)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=not preprocessing)
    model.compile(keras.optimizers.Adam(1e-2), loss)
    model.fit(train_x, labels, epochs=40, verbose=0)
    model.save(path)
    return path


@pytest.fixture(scope="module")
def user(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("user")
    _images(root / "images")
    (root / "labels.txt").write_text("".join(f"{name}\n" for name in COLOURS))
    for name, preprocessing in (("normalized", True), ("bare", False)):
        # In a process of its own: `set_random_seed` seeds TensorFlow, numpy and Python for the whole process, and a
        # later test's shuffled stream would then draw under this seed (tests/train/test_input.py missed a drawing).
        path = str(root / f"{name}.keras")
        script = f"from pathlib import Path; from tests.train.test_adopt import _train; _train(Path({path!r}), {preprocessing})"
        proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-2000:]
    return root


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sketch_edge", *args], capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def exported(user: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("exported") / "out"
    proc = _cli(
        "export", "--model", str(user / "normalized.keras"), "--data", str(user / "images"), "--labels", str(user / "labels.txt"),
        "--artifacts", str(out), "--recipes", "tflite-int8,onnx-fp32,tflite-mobile-int8",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out


def test_export_takes_the_model_and_every_recipe_passes_its_gates(exported: Path, user: Path) -> None:
    layout = Layout(exported)
    origin = Origin.load(layout.origin)
    assert origin.trained == "trained elsewhere" and origin.outputs == "probabilities"
    assert origin.classes == tuple(COLOURS) and origin.test_top1 > 0.9
    assert origin.input["shape"] == [24, 24, 3] and origin.input["colour"] == "rgb"
    assert "Normalization" in origin.contract_from
    assert (layout.labels.read_text().split(), layout.model.read_bytes()) == (list(COLOURS), (user / "normalized.keras").read_bytes())
    manifest = Manifest.load(layout.manifest)
    assert manifest.source.origin == "trained elsewhere"
    assert {a.name: a.status for a in manifest.artifacts} == {"tflite-int8": "ok", "onnx-fp32": "ok", "tflite-mobile-int8": "ok"}
    mobile = manifest.made("tflite-mobile-int8")
    assert mobile is not None and mobile.details.client is not None
    assert mobile.details.client.status in ("ok", "skipped")  # skipped only where mediapipe is not installed


def test_the_mobile_int8_input_takes_raw_pixels_and_says_its_real_size(exported: Path) -> None:
    from sketch_edge.formats.tflite import read_standard_metadata
    from sketch_edge.runtime import open_runner

    path = Layout(exported).export / "tflite-mobile-int8.tflite"
    runner = open_runner(path)
    assert runner.input_spec.dtype == "uint8" and (runner.input_spec.scale, runner.input_spec.zero_point) == (1.0, 0)
    metadata = read_standard_metadata(path)
    assert metadata is not None
    properties = json.dumps(metadata)
    assert '"width": 24' in properties and '"height": 24' in properties


def test_the_predictor_reads_image_files_of_any_size(exported: Path, user: Path) -> None:
    from sketch_edge.runtime import Predictor

    for name in ("tflite-int8.tflite", "onnx-fp32.onnx"):
        predictor = Predictor(Layout(exported).export / name)
        assert predictor.kind == "image"
        answers = predictor.predict([user / "images" / c / "000.png" for c in COLOURS], top=1)
        assert [a[0][0] for a in answers] == list(COLOURS)
        big = np.full((300, 200, 3), COLOURS["green"], dtype=np.uint8)
        assert predictor.predict(big, top=1)[0][0] == "green"
        with pytest.raises(DataError, match="got shape"):
            predictor.predict(np.zeros((5, 5, 4), dtype=np.uint8))


def test_bench_runs_on_the_users_images(exported: Path) -> None:
    proc = _cli("bench", "--artifacts", str(exported), "--quick", "--runtimes", "litert,onnxruntime")
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads((Layout(exported).bench / "results.json").read_text())
    rows = [r for r in results["results"] if r["status"] == "ok"]
    assert rows and all(r["top1"] > 0.9 for r in rows)


def test_a_second_take_of_the_same_file_reexports_nothing(exported: Path, user: Path) -> None:
    before = Layout(exported).manifest.stat().st_mtime_ns
    proc = _cli(
        "export", "--model", str(user / "normalized.keras"), "--data", str(user / "images"), "--labels", str(user / "labels.txt"),
        "--artifacts", str(exported), "--recipes", "tflite-int8,onnx-fp32,tflite-mobile-int8",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "already holds this model" in proc.stderr
    assert Layout(exported).manifest.stat().st_mtime_ns == before


def test_logits_get_a_softmax_and_the_input_range_maps_pixels(user: Path, tmp_path: Path) -> None:
    from sketch_edge.train.adopt import AdoptConfig, adopt

    config = AdoptConfig(model=user / "bare.keras", data=user / "images", out=tmp_path / "out", labels=user / "labels.txt")
    with pytest.raises(ModelError, match="pass --input-range"):
        adopt(config)
    assert not (tmp_path / "out" / "split.npz").exists()  # refused before anything was written
    origin = adopt(AdoptConfig(**{**config.__dict__, "input_range": (-1.0, 1.0)}))
    assert origin.outputs == "logits" and "Softmax" in origin.adopted
    assert origin.input["offset"] == -1.0 and origin.test_top1 > 0.9


def test_the_cli_takes_a_negative_input_range(user: Path, tmp_path: Path) -> None:
    """`--input-range=-1,1`, as the Makefile's INPUT_RANGE and the docs write it (a bare `-1,1` reads as an option)."""
    out = tmp_path / "out"
    proc = _cli(
        "export", "--model", str(user / "bare.keras"), "--data", str(user / "images"), "--labels", str(user / "labels.txt"),
        "--input-range=-1,1", "--artifacts", str(out), "--recipes", "tflite-fp32",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert Origin.load(Layout(out).origin).input["offset"] == -1.0
    assert "export 1/1 tflite-fp32: ok" in proc.stderr.splitlines()  # progress: a line a recipe, as it ends


def test_what_does_not_fit_is_refused_before_anything_is_written(user: Path, tmp_path: Path) -> None:
    import shutil

    from sketch_edge.train.adopt import AdoptConfig, adopt

    (tmp_path / "two.txt").write_text("red\ngreen\n")
    bad_labels = AdoptConfig(model=user / "normalized.keras", data=user / "images", out=tmp_path / "a", labels=tmp_path / "two.txt")
    with pytest.raises(DataError, match="blue: a class folder the labels file does not name"):
        adopt(bad_labels)
    for name in ("red", "green"):
        shutil.copytree(user / "images" / name, tmp_path / "two" / name)
    with pytest.raises(DataError, match="2 classes, but .* has 3 outputs"):
        adopt(AdoptConfig(model=user / "normalized.keras", data=tmp_path / "two", out=tmp_path / "a"))
    inside = AdoptConfig(model=user / "normalized.keras", data=user / "images", out=user / "images" / "out")
    with pytest.raises(OutputError, match="overlaps the image folder"):
        adopt(inside)
    assert not (tmp_path / "a").exists() and not (user / "images" / "out").exists()


def test_the_demo_page_says_it_cannot_serve_a_picture_model(exported: Path, tmp_path: Path) -> None:
    from sketch_edge.errors import WebBuildError
    from sketch_edge.webpage import build

    with pytest.raises(WebBuildError, match="the demo page draws sketches; external:normalized reads 24x24 RGB image"):
        build(exported, tmp_path / "web")
    assert not (tmp_path / "web").exists()
