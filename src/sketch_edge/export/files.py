"""Files made elsewhere (.tflite, .onnx or .ort from any converter) and the user's images, made into an artifacts folder.

`sketch-edge bench --model A.tflite --model B.onnx --data FOLDER --artifacts OUT` runs this
first. It writes what train and export would have: OUT/labels.txt and split.npz (the user's
images at the files' input size) and OUT/export/ with a copy of each file, reference.npz and
manifest.json. There is no Keras model, so the reference every file is compared with (the
bench's agreement, verify-arm's "from Keras" columns) is the first float file given, run on
the same images; the manifest's source names it. Bench and verify-arm then read OUT unchanged.

No TensorFlow: each file is opened by the runtime that reads it in a worker process
(`python -m sketch_edge.export.describe JOB`), so a file that crashes its runtime costs a
one-line error. Each step is one function, in the order `take` calls them.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from sketch_edge import fileio
from sketch_edge.arm.worker import RunJob
from sketch_edge.data.dataset import InputSpec, contract_of, image_contract
from sketch_edge.data.image_folder import EVAL_PER_CLASS, check_outputs, list_folder, read_labels, read_split
from sketch_edge.data.saved_split import SavedSplit
from sketch_edge.errors import ModelError, OutputError, RecordError, SketchEdgeError
from sketch_edge.export.describe import Described, DescribeJob, precision
from sketch_edge.export.recipes import RECIPES
from sketch_edge.formats import SOURCE, format_of, suffix_list
from sketch_edge.isolation import library_versions, run_job
from sketch_edge.layout import Layout
from sketch_edge.manifest import FILES_MADE_ELSEWHERE, Artifact, Details, Manifest, Source
from sketch_edge.metrics import topk_accuracy
from sketch_edge.models.contract import MAX_SIDE, MIN_SIDE, are_probabilities
from sketch_edge.runtime import RUNTIMES, runtimes_for

MAX_FILES = 32
"""Files one bench takes: each is copied, described and benched on every runtime that reads it."""


@dataclass(frozen=True)
class FilesConfig:
    files: tuple[Path, ...]  # the user's model files, the reference chosen among them in this order
    data: Path  # a folder of images, one subfolder per class
    out: Path  # the artifacts folder to write
    labels: Path | None = None  # the files' class order; None: their metadata's, else the sorted folder names
    input_range: tuple[float, float] | None = None  # what pixel 0 and 255 map to, when the files do not say
    seed: int = 0
    eval_per_class: int = EVAL_PER_CLASS
    timeout_s: float = 300.0


def take(config: FilesConfig, log: Callable[[str], None] = lambda _: None) -> Manifest:
    """Check the files and the folder, read the split, run the reference, and write OUT; one-line errors before
    anything is written. `log` hears of the slow steps once the quick checks passed."""
    layout = Layout(config.out)
    check_files(config.files)
    inputs = {f"the model file {i + 1}": path for i, path in enumerate(config.files)} | {"the image folder": config.data}
    fileio.refuse_overlap(config.out, inputs, "--artifacts")
    refuse_keras_folder(layout)
    taken = already_taken(config, layout)
    if taken is not None:
        return taken
    fileio.check_writable(config.out)
    log(f"opening {len(config.files)} file(s), then reading the images of {config.data} ...")
    made = [folder for folder in (layout.export, *layout.export.parents) if not folder.exists()]  # deepest first
    layout.export.mkdir(parents=True, exist_ok=True)
    scratch = fileio.scratch_dir(layout.export, ".files-", OutputError)
    try:
        described = {path: describe_file(path, scratch / f"describe-{i}", config.timeout_s) for i, path in enumerate(config.files)}
        for path, facts in described.items():
            check_graph(path, facts)
        spec = file_contract(config, described)
        listing = list_folder(config.data, class_order(config, described))
        for path, facts in described.items():
            check_outputs(listing, int(facts.output.shape[-1] or 0), path, config.labels)
        saved = read_split(listing, spec.size, spec.shape[-1], config.seed, config.eval_per_class)
        names = artifact_names(config.files)
        reference = reference_file(config.files, described)
        probs = run_reference(reference, spec, saved, scratch, config.timeout_s)
        artifacts = [artifact(names[path], path, described[path]) for path in config.files]
        write_outputs(layout, config, saved, artifacts)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        for folder in made:  # a refused take leaves no folder it made behind
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    shutil.rmtree(scratch, ignore_errors=True)
    source = Source(
        sha256=next(a.sha256 for a in artifacts if a.name == names[reference]),
        model=names[reference],
        labels=saved.labels,
        input=spec.to_json(),
        data=saved.source | {"request": request(config)},
        keras_test_top1=topk_accuracy(probs[len(saved.val_y) :], saved.test_y, 1),
        split_sha256=fileio.sha256_file(layout.split),
        macs=described[reference].macs or next((d.macs for d in described.values() if d.macs), None),
        origin=FILES_MADE_ELSEWHERE,
        outputs="probabilities" if are_probabilities(probs) else "logits",
    )
    return write_manifest(layout, config, source, probs[: len(saved.val_y)], probs[len(saved.val_y) :], artifacts)


def write_manifest(
    layout: Layout, config: FilesConfig, source: Source, val: np.ndarray, test: np.ndarray, artifacts: list[Artifact]
) -> Manifest:
    """The reference's outputs, then the manifest: written last, it makes OUT whole."""
    with fileio.atomic_path(layout.reference) as tmp, open(tmp, "wb") as handle:
        np.savez_compressed(handle, validation=val, test=test, model_sha256=np.array(source.sha256))
    runtimes = {spec.name for path in config.files for spec in runtimes_for(path)}
    manifest = Manifest(
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        source=source,
        libraries=library_versions(("numpy", *(lib for name in sorted(runtimes) for lib in RUNTIMES[name].libraries))),
        gates={},
        artifacts=tuple(artifacts),
    )
    manifest.save(layout.manifest)
    return manifest


def check_files(files: tuple[Path, ...]) -> None:
    runnable = suffix_list(lambda file_format: file_format.graph_facts is not None)
    if not files:
        raise ModelError(f"--model: name at least one {runnable} file")
    if len(files) > MAX_FILES:
        raise ModelError(f"--model: {len(files)} files given; at most {MAX_FILES} are benched at once")
    seen: set[Path] = set()
    for path in files:
        file_format = format_of(path)
        if file_format is SOURCE:
            raise ModelError(f"{path}: a Keras model is exported first: `sketch-edge export --model {path} --data FOLDER`, then benched")
        if file_format.graph_facts is None:
            raise ModelError(f"{path}: a {file_format.name} file is not benched on its own (give {runnable} files)")
        if not path.is_file():
            raise ModelError(f"{path}: no such file")
        if path.resolve() in seen:
            raise ModelError(f"{path}: given twice")
        seen.add(path.resolve())


def refuse_keras_folder(layout: Layout) -> None:
    """OUT must not be the artifacts folder of a Keras model: its export would be mixed with the user's files."""
    if layout.model.exists():
        raise OutputError(f"{layout.root}: holds a Keras model's artifacts ({layout.model.name}); bench files into another --artifacts")


def request(config: FilesConfig) -> dict[str, Any]:
    """What decides OUT's contents besides the files' bytes: a second bench with the same request reuses OUT."""
    return {
        "files": [str(path.resolve()) for path in config.files],
        "data": str(config.data.resolve()),
        "labels": str(config.labels.resolve()) if config.labels else None,
        "input_range": list(config.input_range) if config.input_range else None,
        "seed": config.seed,
        "eval_per_class": config.eval_per_class,
    }


def already_taken(config: FilesConfig, layout: Layout) -> Manifest | None:
    """OUT's manifest when it was made from these very files (their bytes unchanged) with this request, and what it
    lists is intact; else None."""
    try:
        manifest = Manifest.load(layout.manifest)
    except SketchEdgeError:
        return None
    source = manifest.source
    if source.has_keras or source.data.get("request") != request(config) or len(manifest.artifacts) != len(config.files):
        return None
    if not layout.split.is_file() or fileio.sha256_file(layout.split) != source.split_sha256 or not layout.reference.is_file():
        return None
    for path, entry in zip(config.files, manifest.artifacts, strict=True):
        copy = layout.export / entry.path
        if not copy.is_file() or fileio.sha256_file(path) != entry.sha256 or fileio.sha256_file(copy) != entry.sha256:
            return None
    return replace(manifest, reused=True)


def describe_file(path: Path, stem: Path, timeout_s: float) -> Described:
    job = DescribeJob(path=str(path.resolve()), result=f"{stem}.result.json")
    reason = run_job(Path(f"{stem}.job.json"), job, timeout_s)
    if reason is not None:
        raise ModelError(reason if reason.startswith(str(path.resolve())) else f"{path}: cannot be opened ({reason})")
    try:
        return Described.load(Path(job.result))
    except RecordError as exc:
        raise ModelError(f"{path}: {exc}") from None


def check_graph(path: Path, facts: Described) -> None:
    """One image input (batch, H, W, C) and one output of class scores: what the bench feeds and reads."""
    if facts.inputs != 1 or facts.outputs != 1:
        raise ModelError(f"{path}: {facts.inputs} inputs and {facts.outputs} outputs; the bench runs models of one image input, one output")
    shape = facts.input.shape
    if len(shape) == 4 and shape[1] in (1, 3) and shape[3] not in (1, 3):
        raise ModelError(f"{path}: its input {shape} is channels-first (N, C, H, W); the bench feeds (N, H, W, C) images")
    if len(shape) != 4 or shape[3] not in (1, 3) or not all(isinstance(side, int) for side in shape[1:3]):
        raise ModelError(f"{path}: its input {shape} is not an image of fixed size (batch, H, W, 1 or 3)")
    if not all(MIN_SIDE <= int(side) <= MAX_SIDE for side in shape[1:3] if side is not None):
        raise ModelError(f"{path}: its input is {shape[1]}x{shape[2]}; images of {MIN_SIDE} to {MAX_SIDE} pixels a side are benched")
    if len(facts.output.shape) != 2 or not isinstance(facts.output.shape[1], int) or facts.output.shape[1] < 2:
        raise ModelError(f"{path}: its output {facts.output.shape} is not (batch, classes) scores")


def file_contract(config: FilesConfig, described: dict[Path, Described]) -> InputSpec:
    """The pixel mapping from --input-range, else from the first file whose sketch-edge metadata records it; never
    guessed (a wrong one silently costs accuracy). Every file must take the same image, or its RGB form."""
    first, facts = next(iter(described.items()))
    shape = tuple(int(side) for side in facts.input.shape[1:] if side is not None)
    if config.input_range is not None:
        lo, hi = config.input_range
        spec = image_contract((shape[0], shape[1], shape[2]), (hi - lo) / 255.0, lo, "as --input-range says")
    else:
        spec = _recorded_contract(described)
    for path, other in described.items():
        given = tuple(other.input.shape[1:])
        if given not in (spec.shape, spec.rgb().shape):
            raise ModelError(f"{path}: its input {given} is not {spec.shape}, the input of {first}; bench files of one input at a time")
    return spec


def _recorded_contract(described: dict[Path, Described]) -> InputSpec:
    for path, facts in described.items():
        recorded = (facts.metadata or {}).get("input")
        if not isinstance(recorded, dict):
            continue
        try:
            spec = contract_of(recorded, f"{path}: its metadata's input")
        except RecordError as exc:
            raise ModelError(str(exc)) from None
        if not spec.is_image:
            raise ModelError(f"{path}: its input is {spec.kind}, not an image; bench it from the artifacts folder export wrote")
        return spec
    raise ModelError(
        f"{next(iter(described))}: the files do not say what pixel range they read; pass --input-range=LO,HI "
        "(what pixel 0 and pixel 255 map to, e.g. 0,255 or 0,1 or -1,1)"
    )


def class_order(config: FilesConfig, described: dict[Path, Described]) -> tuple[str, ...] | None:
    """--labels, else the labels a file's sketch-edge metadata records, else None (the sorted folder names)."""
    if config.labels is not None:
        return read_labels(config.labels)
    for facts in described.values():
        labels = (facts.metadata or {}).get("labels")
        if isinstance(labels, list) and labels and all(isinstance(label, str) for label in labels):
            return tuple(labels)
    return None


def artifact_names(files: tuple[Path, ...]) -> dict[Path, str]:
    """Each file's name in tables and keys: its stem, made safe; one that is a recipe's name, or taken, gets a suffix
    (a recipe's name would claim that recipe's checks)."""
    names: dict[Path, str] = {}
    for path in files:
        base = re.sub(r"[^A-Za-z0-9._-]+", "-", path.stem).strip("-.")[:60] or "file"
        base = f"{base}-given" if base in RECIPES or base == SOURCE.name else base
        name, n = base, 2
        while name in names.values():
            name, n = f"{base}-{n}", n + 1
        names[path] = name
    return names


def reference_file(files: tuple[Path, ...], described: dict[Path, Described]) -> Path:
    """The first fp32 file given, else the first file (its quantization is then in every agreement)."""
    return next((path for path in files if precision(described[path]) == "fp32"), files[0])


def run_reference(path: Path, spec: InputSpec, saved: SavedSplit, scratch: Path, timeout_s: float) -> np.ndarray:
    """The reference file's outputs on the validation then test images, in its default runtime, in a worker."""
    inputs = scratch / "reference-inputs.npy"
    np.save(inputs, spec.model_input(np.concatenate([saved.val_x, saved.test_x])))
    job = RunJob(path=str(path.resolve()), inputs=str(inputs), outputs=str(scratch / "reference.npy"), result=str(scratch / "run.json"))
    reason = run_job(scratch / "run.job.json", job, timeout_s)
    if reason is not None:
        raise ModelError(f"{path}: the reference file did not run on the images ({reason})")
    probs = np.load(job.outputs)
    if not np.isfinite(probs).all():
        raise ModelError(f"{path}: the reference file answered NaN or infinite values on the images")
    return probs


def artifact(name: str, path: Path, facts: Described) -> Artifact:
    file_format = format_of(path)
    kind = precision(facts)
    return Artifact(
        name=name,
        format=file_format.name,
        precision=kind,
        compute=kind,
        path=f"{name}{path.suffix}",
        bytes=path.stat().st_size,
        sha256=fileio.sha256_file(path),
        inputs=(facts.input,),
        outputs=(facts.output,),
        details=Details(ops=facts.ops),
    )


def write_outputs(layout: Layout, config: FilesConfig, saved: SavedSplit, artifacts: list[Artifact]) -> None:
    """The split, labels and a copy of each file, each renamed into place (the manifest, written last, lists them); an
    earlier manifest is removed first, so none ever describes copies it did not hash."""
    layout.manifest.unlink(missing_ok=True)
    saved.save(layout.split)
    saved.save_labels(layout.labels)
    for path, entry in zip(config.files, artifacts, strict=True):
        with fileio.atomic_path(layout.export / entry.path) as tmp:
            shutil.copyfile(path, tmp)
        if fileio.sha256_file(layout.export / entry.path) != entry.sha256:
            raise OutputError(f"{path}: changed while it was copied; bench it again")
