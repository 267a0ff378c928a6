"""The mobile toolchains' own verdicts on the mobile recipes' files, taken at export time.

- MediaPipe Tasks' `ImageClassifier` (the same API on Android, iOS, the web and
  Python) runs each mobile `.tflite` file on the test drawings given as RGB
  images: it must accept the file, name the classes from its metadata, and
  answer as LiteRT does on the same file. It runs as `python -m
  sketch_edge.export.mobile JOB.json`, one process per file: `import mediapipe`
  loads TensorFlow, and a process where creating a classifier failed can hang
  on the next one.
- ONNX Runtime Mobile's usability checker (`onnxruntime.tools.mobile_helpers`)
  says per execution provider (NNAPI, CoreML NeuralNetwork, CoreML MLProgram)
  how many nodes it would take and whether the model "should perform well" there.
"""

from __future__ import annotations

import importlib.util
import logging
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from sketch_edge import fileio
from sketch_edge.formats import format_of
from sketch_edge.isolation import Job, library_versions, run_job, serve
from sketch_edge.manifest import ClientCheck, Details, ProviderCoverage
from sketch_edge.records import Fraction

MIN_CLIENT_AGREEMENT = 0.999
"""The client's top-1 must be the runtime's on this share of the drawings (the issue's bar: 99.9%)."""
CLIENT_TIMEOUT_S = 600.0
MEDIAPIPE = "mediapipe"


@dataclass(frozen=True)
class ClientJob(Job):
    """One file for MediaPipe's ImageClassifier, with the runtime's answers to compare with."""

    WORKER = "sketch_edge.export.mobile"

    path: str  # the .tflite file
    images: str  # .npy of (N, H, W, 3) uint8 RGB images
    labels: tuple[str, ...]  # the metadata's, in index order
    runtime_answers: str  # .npy of LiteRT's top-1 index per image
    truth: str  # .npy of the true class per image
    result: str  # the ClientCheck as JSON
    min_agreement: Fraction = MIN_CLIENT_AGREEMENT


@dataclass(frozen=True)
class ClientExamples:
    """What a client's check is given besides the file: the test examples as stored (pixels: a client feeds them
    itself), the class names, the runtime's probabilities on them and the truth."""

    images: np.ndarray
    labels: tuple[str, ...]
    runtime_probs: np.ndarray
    truth: np.ndarray


def mediapipe_check(path: Path, details: Details, examples: ClientExamples) -> Details:
    """The `mediapipe` client's check (export.recipes.CLIENTS): its ImageClassifier runs the file."""
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=fileio.owned_prefix(".client-")) as scratch:
        check = check_with_mediapipe(path, examples.images, examples.labels, examples.runtime_probs, examples.truth, Path(scratch))
    return replace(details, client=check)


def ort_mobile_check(path: Path, details: Details, examples: ClientExamples) -> Details:
    """The `onnxruntime-mobile` client's check: its usability checker reads an ONNX file (a converted .ort file is
    judged by its twin's coverage and the twin check)."""
    return replace(details, providers=usability(path)) if format_of(path).name == "onnx" else details


def client_name() -> str:
    version = library_versions((MEDIAPIPE,))[MEDIAPIPE]
    return f"MediaPipe Tasks ImageClassifier ({MEDIAPIPE} {version})" if version else "MediaPipe Tasks ImageClassifier"


def check_with_mediapipe(
    path: Path, images: np.ndarray, labels: tuple[str, ...], runtime_probs: np.ndarray, truth: np.ndarray, scratch: Path
) -> ClientCheck:
    """Run the file in MediaPipe's ImageClassifier in its own process; `skipped` (with the pip command) without mediapipe."""
    if importlib.util.find_spec(MEDIAPIPE) is None:
        return ClientCheck(client_name(), "skipped", reason="mediapipe is not installed (pip install 'sketch-edge[mobile]')")
    rgb = np.repeat(np.clip(np.rint(images), 0, 255).astype(np.uint8), 3, axis=-1) if images.shape[-1] == 1 else images
    files = {name: scratch / f"{path.stem}.{name}.npy" for name in ("images", "answers", "truth")}
    np.save(files["images"], rgb)
    np.save(files["answers"], runtime_probs.argmax(axis=1))
    np.save(files["truth"], truth)
    result = scratch / f"{path.stem}.client.json"
    job = ClientJob(str(path), str(files["images"]), labels, str(files["answers"]), str(files["truth"]), str(result))
    reason = run_job(scratch / f"{path.stem}.client.job.json", job, CLIENT_TIMEOUT_S)
    if reason is not None:
        return ClientCheck(client_name(), "failed", reason=f"the client's process failed: {reason}")
    return ClientCheck.load(result)


def work(job: ClientJob) -> ClientCheck:
    """Inside the client's process: classify every image, compare with the runtime's answers and the labels."""
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    images, answers, truth = np.load(job.images), np.load(job.runtime_answers), np.load(job.truth)
    options = vision.ImageClassifierOptions(base_options=BaseOptions(model_asset_path=job.path), max_results=1)
    name = client_name()
    try:
        classifier = vision.ImageClassifier.create_from_options(options)
    except (RuntimeError, ValueError) as exc:  # it refuses the file: the check's answer, not a crash
        return ClientCheck(name, "failed", reason=f"it refused the file: {str(exc).splitlines()[0]}")
    indices, named = [], True
    with classifier:
        for image in images:
            top = classifier.classify(mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(image))).classifications[0]
            category = top.categories[0]
            indices.append(category.index)
            named = named and 0 <= category.index < len(job.labels) and category.category_name == job.labels[category.index]
    chosen = np.asarray(indices)
    agreement = float(np.mean(chosen == answers))
    problems = []
    if agreement < job.min_agreement:
        problems.append(f"its top-1 is LiteRT's on {agreement:.2%} of {len(chosen)} drawings (< {job.min_agreement:.1%})")
    if not named:
        problems.append("its category names are not the metadata's labels")
    return ClientCheck(
        name,
        "failed" if problems else "ok",
        samples=len(chosen),
        agreement=agreement,
        client_top1=float(np.mean(chosen == truth)),
        runtime_top1=float(np.mean(answers == truth)),
        labels_from_metadata=named,
        reason="; ".join(problems) or None,
    )


PROVIDERS = ("NNAPI", "CoreML NeuralNetwork", "CoreML MLProgram")


def usability(path: Path) -> tuple[ProviderCoverage, ...]:
    """ONNX Runtime Mobile's usability checker on an ONNX file, per provider, on the graph as ORT's basic
    optimizations leave it (as `check_onnx_model_mobile_usability` does), with shapes as the file fixes them."""
    from onnxruntime.tools.mobile_helpers import usability_checker as uc
    from onnxruntime.tools.onnx_model_utils import ModelProtoWithShapeInfo, optimize_model

    checks = {
        "NNAPI": lambda m: uc.check_nnapi_partitions(m, require_fixed_input_sizes=True),
        "CoreML NeuralNetwork": lambda m: uc.check_coreml_partitions(m, True, "coreml_supported_neuralnetwork_ops.md"),
        "CoreML MLProgram": lambda m: uc.check_coreml_partitions(m, True, "coreml_supported_mlprogram_ops.md"),
    }
    logging.getLogger("usability_checker").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as scratch:
        optimized = Path(scratch) / path.name
        optimize_model(path, optimized, use_external_initializers=True)
        model = ModelProtoWithShapeInfo(optimized).model_with_shape_info
        found = []
        for provider in PROVIDERS:
            info = checks[provider](model)
            found.append(
                ProviderCoverage(
                    provider=provider,
                    verdict=info.suitability().name,
                    supported_nodes=info.num_supported_nodes,
                    nodes=info.num_nodes,
                    partitions=info.num_partitions,
                    unsupported_ops=tuple(sorted(info.unsupported_ops)),
                )
            )
    return tuple(found)


def main() -> None:
    serve(ClientJob, work, lambda job: Path(job.result))


if __name__ == "__main__":
    main()
