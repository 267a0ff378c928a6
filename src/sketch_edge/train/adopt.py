"""A Keras classifier trained elsewhere, with a folder of the user's images, made into an artifacts folder.

`sketch-edge export --model FILE.keras --data FOLDER --artifacts OUT` runs this first: it
writes OUT as train does (model.keras, labels.txt, split.npz) with `origin.json` in place
of a train report, so export, bench, verify-arm, predict, web and compare work on OUT
unchanged. Each step is one function, in the order `adopt` calls them.
"""

from __future__ import annotations

import json
import shutil
import time
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from sketch_edge import fileio
from sketch_edge.data.dataset import InputSpec
from sketch_edge.data.image import open_image
from sketch_edge.data.image_folder import EVAL_PER_CLASS, FolderListing, check_outputs, list_folder, read_labels, read_split
from sketch_edge.data.saved_split import SavedSplit
from sketch_edge.errors import DataError, ModelError, RecordError
from sketch_edge.layout import Layout
from sketch_edge.metrics import topk_accuracy
from sketch_edge.models.contract import MAX_SIDE, MIN_SIDE, Shape, are_probabilities, check_shape, contract
from sketch_edge.models.saved import load_trained, predict_stored
from sketch_edge.train.origin import TRAINED_ELSEWHERE, Origin

BATCH = 64


@dataclass(frozen=True)
class AdoptConfig:
    model: Path  # the user's .keras file
    data: Path  # a folder of images, one subfolder per class
    out: Path  # the artifacts folder to write
    labels: Path | None = None  # the model's class order, one name a line; None: the sorted folder names
    input_range: tuple[float, float] | None = None  # what pixel 0 and 255 map to, when the model does not say
    seed: int = 0
    eval_per_class: int = EVAL_PER_CLASS


def adopt(config: AdoptConfig) -> Origin:
    """Check the model and the folder, read the split, and write OUT; a one-line error before anything is written."""
    started = time.perf_counter()
    layout = Layout(config.out)
    fileio.refuse_overlap(config.out, {"the model file": config.model, "the image folder": config.data}, "--artifacts")
    taken = already_taken(config, layout)
    if taken is not None:
        return taken
    fileio.check_writable(config.out)
    model = load_trained(config.model)
    shape = check_shape(model, str(config.model))
    listing = list_folder(config.data, read_labels(config.labels) if config.labels else None)
    check_outputs(listing, shape.classes, config.model, config.labels)
    size = input_size(shape, listing)
    spec = contract(model, size, shape.channels, config.input_range, str(config.model))
    saved = read_split(listing, size, shape.channels, config.seed, config.eval_per_class)
    model, added = fixed_size(model, shape, spec)
    outputs = predict(model, spec, saved.val_x[:BATCH])
    if not are_probabilities(outputs):
        model, added = with_softmax(model), [*added, "a Softmax layer appended (its outputs are logits)"]
    probs = predict(model, spec, saved.test_x)
    origin = Origin(
        model=f"external:{config.model.stem}",
        trained=TRAINED_ELSEWHERE,
        file=str(config.model),
        sha256=fileio.sha256_file(config.model),
        keras_version=saved_keras_version(config.model),
        input=spec.to_json(),
        contract_from="--input-range" if config.input_range else spec.scaling.removeprefix("inside the model: "),
        outputs="probabilities" if not any("Softmax" in a for a in added) else "logits",
        adopted="; ".join(added) or "the user's file, copied as it is",
        classes=listing.labels,
        data=saved.source,
        splits=saved.counts(),
        parameters=int(model.count_params()),
        test_top1=topk_accuracy(probs, saved.test_y, 1),
        seconds=0.0,
        request=request(config),
    )
    origin = replace(origin, seconds=round(time.perf_counter() - started, 2))
    write_outputs(layout, config.model, model if added else None, saved, origin)
    return origin


def request(config: AdoptConfig) -> dict[str, Any]:
    """What decides OUT's contents besides the model file: a second take with the same request and file is a no-op."""
    return {
        "labels": str(config.labels.resolve()) if config.labels else None,
        "input_range": list(config.input_range) if config.input_range else None,
        "seed": config.seed,
        "eval_per_class": config.eval_per_class,
        "data": str(config.data.resolve()),
    }


def already_taken(config: AdoptConfig, layout: Layout) -> Origin | None:
    """The origin recorded in OUT when it is of this very file and request and its model and split are still there
    (`make bench MODEL_FILE=...` twice re-exports nothing), else None."""
    try:
        origin = Origin.load(layout.origin)
    except (RecordError, OSError):
        return None
    if origin.request != request(config) or not layout.model.is_file() or not layout.split.is_file():
        return None
    if not config.model.is_file() or fileio.sha256_file(config.model) != origin.sha256:
        return None
    return replace(origin, reused=True)


def input_size(shape: Shape, listing: FolderListing) -> tuple[int, int]:
    """The model's (H, W); a model that takes any size gets the first image's (the mobile files need a fixed one)."""
    if shape.height is not None and shape.width is not None:
        return shape.height, shape.width
    first = next(iter(next(iter(listing.files.values())).values()))[0]
    width, height = open_image(first).size
    if not MIN_SIDE <= min(width, height) or max(width, height) > MAX_SIDE:
        raise DataError(f"{first}: {width}x{height}; a model of any input size is fixed to its first image's, which must be 16..512")
    return height, width


def fixed_size(model: Any, shape: Shape, spec: InputSpec) -> tuple[Any, list[str]]:
    """The model behind an input of the contract's fixed size, when it takes any size (same weights)."""
    if shape.height is not None and shape.width is not None:
        return model, []
    import keras

    image = keras.Input(spec.shape, name=spec.name)
    height, width = spec.size
    return keras.Model(image, model(image), name=model.name), [f"its input fixed to {height}x{width} (it took any size)"]


def with_softmax(model: Any) -> Any:
    import keras

    return keras.Model(model.inputs[0], keras.layers.Softmax(name="probabilities")(model.outputs[0]), name=model.name)


def predict(model: Any, spec: InputSpec, pixels: np.ndarray) -> np.ndarray:
    """Keras's outputs on stored pixels, in the model's own range; a model that cannot run on its own contract's
    inputs is the user's model's problem, said in one line."""
    try:
        return predict_stored(model, spec, pixels, BATCH)
    except (ValueError, TypeError) as exc:
        raise ModelError(f"the model cannot run on {spec.shape} inputs ({str(exc).splitlines()[0][:200]})") from None


def saved_keras_version(path: Path) -> str:
    """The Keras version a .keras file says saved it (its metadata.json), or "" when it does not say."""
    try:
        with zipfile.ZipFile(path) as archive:
            version = json.loads(archive.read("metadata.json")).get("keras_version", "")
    except (KeyError, ValueError, OSError, zipfile.BadZipFile):
        return ""
    return version if isinstance(version, str) else ""


def write_outputs(layout: Layout, source: Path, model: Any | None, saved: SavedSplit, origin: Origin) -> None:
    """Split, model, labels and origin.json made in a scratch folder, then moved in together, origin.json (which
    describes the others) last; a train report or curves of an earlier model are removed first. A kill or a full disk
    meanwhile leaves the earlier outputs, or a folder without a record of its model: never a mix."""
    with fileio.committed(layout.root, layout.origin, ".adopt-") as scratch:
        staged = Layout(scratch)
        saved.save(staged.split)
        with fileio.atomic_path(staged.model) as tmp:
            if model is None:
                shutil.copyfile(source, tmp)
            else:
                model.save(tmp)
        saved.save_labels(staged.labels)
        origin.save(staged.origin)
        for stale in (layout.train_report, layout.curves):
            stale.unlink(missing_ok=True)
