"""Models trained elsewhere, on a folder of images: the figures of `sketch-edge export --model` and `bench`.

    .venv/bin/python benchmarks/your_model.py render OUT [--per-class 800]
    .venv/bin/python benchmarks/your_model.py train OUT [--epochs 8]
    .venv/bin/python benchmarks/your_model.py convert OUT

`render` writes the real 10-class Quick, Draw! subset (`../shared/quickdraw/numpy_bitmap`)
as an image folder: OUT/images/<class>/NNNNN.png, RGB 96x96, black ink on white (as a
photo of a drawing is), resized bilinearly from 28x28. It is a copy of CC BY 4.0 data
made on this machine, never committed.

`train` trains, on the images the export's split leaves for training (`dataset.assign`,
seed 0, the rule `export --model` splits by), two keras.applications models built
offline with `weights=None`:
- MobileNetV3Small, with its own preprocessing (it takes 0..255 pixels);
- MobileNetV2 alpha 0.35, with none (it expects [-1, 1]: export it with `--input-range=-1,1`);
(batch-norm momentum 0.9 instead of the applications' 0.999: trained from scratch for a few epochs, the
moving statistics would otherwise still be near their start, and the model at chance in inference mode)
and saves them as OUT/models/NAME.keras, with OUT/models/NAME.json: epochs, seconds and
the test top-1 on the held-out test images. Then, alone on the machine:

    make bench MODEL_FILE=OUT/models/mobilenet_v3_small.keras DATA=OUT/images ARTIFACTS=OUT/v3
    make bench MODEL_FILE=OUT/models/mobilenet_v2_035.keras DATA=OUT/images INPUT_RANGE=-1,1 ARTIFACTS=OUT/v2

`convert` makes files outside sketch-edge, as a user with their own pipeline would: from
MobileNetV3Small, OUT/outside/mnv3.tflite (TensorFlow's converter, float), mnv3-int8.tflite
(its full-integer quantization on 300 training images, float input and output) and
mnv3.onnx (tf2onnx from a tf.function, opset 17). Then benched without a Keras model:

    .venv/bin/sketch-edge bench --model OUT/outside/mnv3.tflite --model OUT/outside/mnv3-int8.tflite \
        --model OUT/outside/mnv3.onnx --data OUT/images --artifacts OUT/outside-bench --input-range=0,255
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from sketch_edge import fileio
from sketch_edge.data.dataset import TEST, TRAIN, assign
from sketch_edge.data.image_folder import list_folder, load_picture

SHARED = Path(__file__).resolve().parents[2] / "shared" / "quickdraw" / "numpy_bitmap"
SIDE = 96


def render(out: Path, per_class: int) -> None:
    from PIL import Image

    files = sorted(SHARED.glob("*.npy"))
    if not files:
        raise SystemExit(f"{SHARED}: no numpy_bitmap files (the real subset is not here)")
    for path in files:
        folder = out / "images" / path.stem
        folder.mkdir(parents=True, exist_ok=True)
        bitmaps = np.load(path)[:per_class].reshape(-1, 28, 28)
        for i, bitmap in enumerate(bitmaps):
            gray = Image.fromarray(255 - bitmap).resize((SIDE, SIDE), Image.Resampling.BILINEAR)
            gray.convert("RGB").save(folder / f"{i:05d}.png")
    print(f"{len(files)} classes x {per_class} images in {out / 'images'}")


def _part(root: Path, part: int) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    listing = list_folder(root)
    xs, ys = [], []
    for label, name in enumerate(listing.labels):
        files = listing.files["all"][name]
        parts = assign(0, name, np.arange(len(files)))
        for i in np.flatnonzero(parts == part):
            xs.append(load_picture(files[i], (SIDE, SIDE), 3))
            ys.append(label)
    return np.stack(xs).astype(np.float32), np.asarray(ys), listing.labels


def train(out: Path, epochs: int) -> None:
    import keras

    images = out / "images"
    x_train, y_train, labels = _part(images, TRAIN)
    x_test, y_test, _ = _part(images, TEST)
    models = {
        "mobilenet_v3_small": (
            lambda: keras.applications.MobileNetV3Small(input_shape=(SIDE, SIDE, 3), weights=None, classes=len(labels)),
            lambda x: x,  # its own Rescaling layer takes 0..255
        ),
        "mobilenet_v2_035": (
            lambda: keras.applications.MobileNetV2(input_shape=(SIDE, SIDE, 3), alpha=0.35, weights=None, classes=len(labels)),
            lambda x: x / 127.5 - 1.0,  # no preprocessing layer: the caller maps pixels to [-1, 1]
        ),
    }
    (out / "models").mkdir(parents=True, exist_ok=True)
    for name, (build, scale) in models.items():
        keras.utils.set_random_seed(0)
        model = build()
        for layer in model.layers:  # keras.applications' 0.999 leaves the moving statistics unsettled after a few epochs
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.momentum = 0.9
        model.compile(keras.optimizers.Adam(2e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
        started = time.perf_counter()
        model.fit(scale(x_train), y_train, batch_size=64, epochs=epochs, verbose=2)
        seconds = time.perf_counter() - started
        top1 = float(np.mean(model.predict(scale(x_test), batch_size=256, verbose=0).argmax(axis=1) == y_test))
        model.save(out / "models" / f"{name}.keras")
        summary = {"model": name, "epochs": epochs, "train_images": len(y_train), "seconds": round(seconds, 1), "test_top1": top1}
        fileio.write_json(out / "models" / f"{name}.json", summary)
        print(json.dumps(summary))


def convert(out: Path) -> None:
    import keras
    import tensorflow as tf
    import tf2onnx

    model = keras.models.load_model(out / "models" / "mobilenet_v3_small.keras")
    folder = out / "outside"
    folder.mkdir(parents=True, exist_ok=True)
    x_train, _, _ = _part(out / "images", TRAIN)
    calibration = x_train[np.random.default_rng(0).choice(len(x_train), 300, replace=False)]
    spec = tf.TensorSpec((None, SIDE, SIDE, 3), tf.float32, name="image")
    saved = folder / "saved_model"
    model.export(saved, format="tf_saved_model", verbose=False)
    for name, int8 in (("mnv3.tflite", False), ("mnv3-int8.tflite", True)):
        converter = tf.lite.TFLiteConverter.from_saved_model(str(saved))
        if int8:
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.representative_dataset = lambda: ([x[None]] for x in calibration)
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        started = time.perf_counter()
        (folder / name).write_bytes(converter.convert())
        print(f"{name}: {(folder / name).stat().st_size:,} bytes in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    function = tf.function(lambda image: model(image, training=False), input_signature=[spec])
    tf2onnx.convert.from_function(function, input_signature=[spec], opset=17, output_path=str(folder / "mnv3.onnx"))
    print(f"mnv3.onnx: {(folder / 'mnv3.onnx').stat().st_size:,} bytes in {time.perf_counter() - started:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("render")
    r.add_argument("out", type=Path)
    r.add_argument("--per-class", type=int, default=800)
    t = sub.add_parser("train")
    t.add_argument("out", type=Path)
    t.add_argument("--epochs", type=int, default=8)
    c = sub.add_parser("convert")
    c.add_argument("out", type=Path)
    args = parser.parse_args()
    if args.command == "render":
        render(args.out, args.per_class)
    elif args.command == "train":
        train(args.out, args.epochs)
    else:
        convert(args.out)


if __name__ == "__main__":
    main()
