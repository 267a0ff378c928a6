"""One recipe in its own process: export, embed metadata, run the file in its runtime, report parity.

A quantized recipe also gets its format's fp32 file made beside it (the float
twin), to pick its float layers (`fallback: auto`) and to write its per-layer
sensitivity report; `seconds` is the recipe's own time, without the twin's.
A mobile recipe's file is then checked by its client (`export.mobile`), and a
converted one (`.ort`) against the file it was converted from.

Run by the export stage as `python -m sketch_edge.export.worker JOB.json`; the
result is written to the job's `result` path. A converter that segfaults or hangs
kills only this process, and the stage records it as a failed artifact.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from sketch_edge import fileio
from sketch_edge.data import InputSpec
from sketch_edge.errors import first_line
from sketch_edge.export.calibration import CalibrationReader
from sketch_edge.export.fallback import Validation, choose_float_layers
from sketch_edge.export.mobile import ClientExamples
from sketch_edge.export.recipes import CLIENTS, Recipe, float_recipe
from sketch_edge.export.sensitivity import measure
from sketch_edge.export.verify import changes, parity
from sketch_edge.fileio import sha256_file
from sketch_edge.formats import get_format
from sketch_edge.isolation import Job, serve
from sketch_edge.manifest import Artifact, Details, Fallback, SensitivitySummary, TensorInfo, TwinCheck
from sketch_edge.metrics import topk_accuracy
from sketch_edge.models.saved import load_trained
from sketch_edge.plugins import load
from sketch_edge.records import Figure, Fraction
from sketch_edge.runtime.base import fixed_batch, predict_all

BATCH = 256


@dataclass(frozen=True)
class ExportJob(Job):
    """One recipe as the export stage asks for it."""

    WORKER = "sketch_edge.export.worker"

    recipe: Recipe
    model: str  # model.keras
    out: str  # the artifact's path
    arrays: str  # .npz of calibration, validation and test drawings with Keras's outputs on them
    input: InputSpec  # the model's input contract: stored examples -> the values it reads
    metadata: dict[str, Any]  # what is embedded in the file
    result: str  # the Artifact as JSON
    max_drop: Fraction  # mixed recipes: the validation top-1 drop the float fallback aims within
    fallback_budget_s: Figure
    min_agreement: Fraction
    sensitivity: dict[str, str]  # where its per-layer report goes: {"json": ..., "png": ...}


class ModelInputs:
    """The job's arrays, examples mapped into the model's range when read (`InputSpec.model_input`); `stored` gives
    them as saved (pixels), for a client that feeds pixels itself (MediaPipe)."""

    EXAMPLES = ("calibration", "validation", "test")

    def __init__(self, archive: Any, spec: InputSpec) -> None:
        self._archive, self._spec = archive, spec
        self._mapped: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self.EXAMPLES:
            return self._archive[name]
        if name not in self._mapped:
            self._mapped[name] = self._spec.model_input(self._archive[name])
        return self._mapped[name]

    def stored(self, name: str) -> np.ndarray:
        return self._archive[name]


def work(job: ExportJob) -> Artifact:
    recipe = job.recipe
    spec = job.input
    arrays = ModelInputs(np.load(job.arrays), spec)
    out = Path(job.out)
    model = load_trained(Path(job.model))
    calibration = CalibrationReader(arrays["calibration"], spec.name)

    def export(path: Path, float_layers: tuple[str, ...] = (), made: Recipe = recipe) -> Artifact:
        exporter = load(made.exporter)
        return exporter(model, path, input_spec=spec, recipe=made, calibration=calibration, float_layers=float_layers)

    fallback: Fallback | None = None
    sensitivity: SensitivitySummary | None = None
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=fileio.owned_prefix(".twin-")) as scratch:
        float_twin = Path(scratch) / f"float{recipe.suffix}"
        if recipe.measures_sensitivity:
            export(float_twin, made=float_recipe(recipe.format))
        started = time.perf_counter()
        if recipe.fallback:
            keras_answers = arrays["reference"].argmax(axis=1)
            validation = Validation(
                arrays["validation"], arrays["validation_labels"], keras_answers, job.min_agreement, arrays["calibration"]
            )
            artifact, fallback = choose_float_layers(
                recipe, out, float_twin, export, _predict_file, validation, job.max_drop, job.fallback_budget_s
            )
        else:
            artifact = export(out)
        file_format = get_format(recipe.format)
        if file_format.embed_metadata is not None:
            file_format.embed_metadata(out, job.metadata)
        seconds = time.perf_counter() - started
        if recipe.measures_sensitivity:
            sensitivity = _sensitivity(recipe.format, float_twin, out, arrays["calibration"], job.sensitivity)

    predict, inputs, outputs = _open(out, recipe.format)
    batch = fixed_batch(inputs[0]) or BATCH
    candidate = _predict_all(predict, arrays["validation"], batch)
    test_probs = _predict_all(predict, arrays["test"], batch)
    details = replace(
        artifact.details,
        test_top1=topk_accuracy(test_probs, arrays["test_labels"], 1),
        test_samples=len(test_probs),
        test_changes=changes(arrays["test_reference"].argmax(axis=1), test_probs.argmax(axis=1), arrays["test_labels"]),
        ops=file_format.op_counts(out),
        sensitivity=sensitivity,
        fallback=fallback,
    )
    details = _mobile_checks(job, out, details, arrays, candidate, test_probs)
    return replace(
        artifact,
        seconds=round(seconds, 2),
        inputs=inputs,
        outputs=outputs,
        parity=parity(arrays["reference"], candidate),
        details=details,
    )


def _mobile_checks(
    job: ExportJob, out: Path, details: Details, arrays: Any, validation_probs: np.ndarray, test_probs: np.ndarray
) -> Details:
    """The recipe's client's verdict (MediaPipe runs the file; ORT Mobile's checker reads it), and a converted file
    against its twin on the validation drawings."""
    recipe = job.recipe
    if recipe.client is not None:
        examples = ClientExamples(arrays.stored("test"), tuple(job.metadata["labels"]), test_probs, arrays["test_labels"])
        details = load(CLIENTS[recipe.client].check)(out, details, examples)
    if recipe.converts is not None:
        twin = recipe.twin_path(out)
        reference = _predict_file(twin, arrays["validation"])
        same = parity(reference, validation_probs)
        twin_check = TwinCheck(recipe.converts, sha256_file(twin), same.max_abs_diff, same.top1_agreement, same.samples)
        details = replace(details, twin=twin_check)
    return details


def _sensitivity(format_name: str, float_twin: Path, out: Path, samples: np.ndarray, files: dict[str, str]) -> SensitivitySummary:
    """The report written beside the artifact, and its summary for the manifest. It is a diagnosis of a file that
    passed or failed its own gates already: a graph it cannot read is recorded as its error, not the recipe's."""
    try:
        report = measure(format_name, float_twin, out, samples)
    except Exception as exc:  # ONNX Runtime and LiteRT raise their own types for a graph they cannot augment or run
        return SensitivitySummary(error=f"not measured: {first_line(exc)}")
    report.write(Path(files["json"]), Path(files["png"]))
    return report.summary()


def _open(path: Path, format_name: str) -> tuple[Callable[[np.ndarray], np.ndarray], tuple[TensorInfo, ...], tuple[TensorInfo, ...]]:
    """A predict function for the artifact in its own runtime, with its declared inputs and outputs."""
    if not get_format(format_name).runs_in_runtime:  # a SavedModel: TensorFlow's own loader
        import tensorflow as tf

        serve = tf.saved_model.load(str(path)).signatures["serving_default"]
        (in_name,) = serve.structured_input_signature[1]
        (out_name,) = serve.structured_outputs

        def predict(x: np.ndarray) -> np.ndarray:
            return serve(**{in_name: tf.constant(x)})[out_name].numpy()

        spec = serve.structured_input_signature[1][in_name]
        out_spec = serve.structured_outputs[out_name]
        inputs = (TensorInfo(in_name, tuple(spec.shape.as_list()), spec.dtype.name),)
        return predict, inputs, (TensorInfo(out_name, tuple(out_spec.shape.as_list()), out_spec.dtype.name),)
    check = get_format(format_name).check
    if check is not None:
        check(path)
    from sketch_edge.runtime import open_runner

    runner = open_runner(path, threads=1)
    return runner.predict, (runner.input_spec,), (runner.output_spec,)


def _predict_all(predict: Callable[[np.ndarray], np.ndarray], x: np.ndarray, batch: int = BATCH) -> np.ndarray:
    return np.concatenate([predict(x[i : i + batch]) for i in range(0, len(x), batch)])


def _predict_file(path: Path, x: np.ndarray) -> np.ndarray:
    from sketch_edge.runtime import open_runner

    return predict_all(open_runner(path, threads=1), x, BATCH)


def main() -> None:
    serve(ExportJob, work, lambda job: Path(job.result))


if __name__ == "__main__":
    main()
