"""`sketch-edge export`: run every recipe in a subprocess, gate it, write the manifest atomically.

Every artifact is checked on the split saved at train time (`split.npz`): its
validation drawings for parity with Keras, its test drawings for top-1, its
calibration drawings for int8. Keras's own probabilities on both are saved as
`export/reference.npz`, so the bench compares with Keras without loading TensorFlow.
"""

from __future__ import annotations

import hashlib
import platform
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from sketch_edge import fileio
from sketch_edge.data import INPUT_SPECS, attribution
from sketch_edge.data.dataset import contract_of
from sketch_edge.data.saved_split import SavedSplit
from sketch_edge.errors import ExportError, RecordError, SketchEdgeError
from sketch_edge.export.fallback import BUDGET_S as FALLBACK_BUDGET_S
from sketch_edge.export.plan import Plan, plan, refusal, with_twins
from sketch_edge.export.recipes import FALLBACK_MAX_DROP, GATES, Gate, Recipe
from sketch_edge.export.verify import gate_failures, mobile_failures
from sketch_edge.export.worker import ExportJob
from sketch_edge.fileio import sha256_file
from sketch_edge.formats import FORMATS
from sketch_edge.isolation import library_versions, run_job
from sketch_edge.layout import Layout
from sketch_edge.manifest import Artifact, Manifest, Source
from sketch_edge.models import short_name
from sketch_edge.models.macs import count_macs
from sketch_edge.models.saved import architecture_of, load_trained, predict_stored
from sketch_edge.reporting import Progress
from sketch_edge.train.origin import TRAINED_ELSEWHERE, Origin
from sketch_edge.train.report import TrainReport

VALIDATION_MAX = 2000
"""Validation drawings an artifact is checked on: every k-th of the saved split, which lists them class by class."""


@dataclass(frozen=True)
class ExportConfig:
    artifacts: Path  # the train stage's folder: model.keras, split.npz, train_report.json (or origin.json)
    recipes: tuple[str, ...] = ()  # empty: the default recipes
    max_drop: float = FALLBACK_MAX_DROP  # the mixed recipes' aim: validation top-1 at most this below Keras's
    fallback_budget_s: float = FALLBACK_BUDGET_S  # the mixed recipes' search stops with its best file after this
    timeout_s: float = 300.0
    workers: int = 2
    gates: dict[str, Gate] = field(default_factory=lambda: dict(GATES))

    @property
    def layout(self) -> Layout:
        return Layout(self.artifacts)


def run(config: ExportConfig, progress: Progress = lambda done, total, what: None) -> Manifest:
    """Export every recipe, or reuse an up-to-date manifest. Failed recipes are rows of the manifest, not exceptions.
    `progress(done, total, what)` hears of each recipe as it ends."""
    with_twins(config.recipes)  # a wrong name fails now, before the model is read
    source = _describe_source(config.layout)
    model = load_trained(config.layout.model)
    planned = plan(config.recipes, architecture_of(model), source.input["kind"])
    manifest = _reusable_manifest(config, source, planned.recipes)
    return manifest if manifest is not None else _export(config, source, planned, model, progress)


def _describe_source(layout: Layout) -> Source:
    """The model the artifacts are made from: what its train report (or, for a model trained elsewhere, its
    origin.json) records, with the digests of the model and split as they are now."""
    if not layout.model.is_file():
        raise ExportError(
            f"{layout.model}: no trained model here (run `make train` or `sketch-edge train --out {layout.root}`, "
            f"or bring your own: `sketch-edge export --model FILE.keras --data FOLDER --artifacts {layout.root}`)"
        )
    recorded = _origin_fields(layout) if layout.origin.is_file() else _train_report_fields(layout)
    split_sha256 = sha256_file(layout.split) if layout.split.is_file() else ""
    return Source(sha256=sha256_file(layout.model), split_sha256=split_sha256, **recorded)


def _train_report_fields(layout: Layout) -> dict[str, Any]:
    try:
        report = TrainReport.load(layout.train_report, missing="no training report beside the model (run `make train`)")
    except RecordError as exc:
        raise ExportError(str(exc)) from None
    return {
        "model": report.model,
        "labels": report.classes,
        "input": INPUT_SPECS[report.input_kind].to_json(),  # the contract as the code defines it
        "data": report.data["request"],
        "keras_test_top1": report.test.top1,
    }


def _origin_fields(layout: Layout) -> dict[str, Any]:
    """A model trained elsewhere (`export --model`): its contract and class order are the ones recorded when taken."""
    try:
        origin = Origin.load(layout.origin)
    except RecordError as exc:
        raise ExportError(str(exc)) from None
    return {
        "model": origin.model,
        "labels": origin.classes,
        "input": origin.input,
        "data": origin.data["request"],
        "keras_test_top1": origin.test_top1,
        "origin": TRAINED_ELSEWHERE,
        "outputs": origin.outputs,
    }


def _gates_json(config: ExportConfig) -> dict[str, dict[str, Any]]:
    """The settings artifacts were checked against, and the mixed recipes' aim: changing either re-exports."""
    mixed = {"max_drop": config.max_drop, "budget_s": config.fallback_budget_s}
    return {name: asdict(gate) for name, gate in sorted(config.gates.items())} | {"mixed": mixed}


def _reusable_manifest(config: ExportConfig, source: Source, recipes: tuple[Recipe, ...]) -> Manifest | None:
    """The existing manifest, if it was made from this model and split, under these gates, and its files are intact."""
    layout = config.layout
    try:
        manifest = Manifest.load(layout.manifest)
    except SketchEdgeError:
        return None
    if (manifest.source.sha256, manifest.source.split_sha256) != (source.sha256, source.split_sha256):
        return None
    if manifest.gates != _gates_json(config) or not layout.reference.is_file():
        return None
    for recipe in recipes:
        entry = manifest.made(recipe.name)
        if entry is None or not (layout.export / entry.path).exists():
            return None
        if _digest(layout.export / entry.path) != entry.sha256:
            return None
        if recipe.measures_sensitivity and not layout.sensitivity(recipe.name)[0].is_file():
            return None
    if any(not (layout.export / name).is_file() for name in manifest.after_export.values()):
        return None
    return replace(manifest, reused=True)


def _export(config: ExportConfig, source: Source, planned: Plan, model: Any, progress: Progress) -> Manifest:
    layout = config.layout
    saved = SavedSplit.load(layout.split)
    if saved.labels != source.labels:
        raise ExportError(f"{layout.split}: its classes are not the model's ({layout.train_report}); retrain (`make train`)")
    spec = contract_of(source.input)
    if tuple(model.input_shape[1:]) != spec.shape:
        raise ExportError(f"{layout.model}: model input {model.input_shape[1:]} is not the {spec.kind} contract {spec.shape}")
    source = replace(source, macs=count_macs(model), parameters=int(model.count_params()))
    every = -(-len(saved.val_y) // VALIDATION_MAX)  # a stride, not a head: the head would hold the first classes only
    validation, validation_labels = saved.val_x[::every], saved.val_y[::every]  # stored form: pixels for pictures
    test = saved.test_x
    reference = predict_stored(model, spec, validation)
    test_reference = predict_stored(model, spec, test)

    scratch = fileio.scratch_dir(layout.export, ".jobs-", ExportError)
    try:
        staged = Layout(scratch / "staged")  # every file is made here, then moved into export/ together
        arrays = scratch / "arrays.npz"
        np.savez(
            arrays,
            calibration=saved.calibration,
            validation=validation,
            validation_labels=validation_labels,
            reference=reference,
            test=test,
            test_labels=saved.test_y,
            test_reference=test_reference,
        )
        staged.export.mkdir(parents=True)
        artifacts = _run_recipes(config, staged, source, planned, arrays, scratch, progress)
        after_export = _after_export(staged, artifacts)
        with fileio.atomic_path(staged.reference) as tmp, open(tmp, "wb") as handle:
            np.savez_compressed(handle, validation=reference, test=test_reference, model_sha256=np.array(source.sha256))
        manifest = Manifest(
            created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            source=source,
            libraries=library_versions(planned.libraries) | {"python": platform.python_version()},
            gates=_gates_json(config),
            artifacts=tuple(artifacts),
            left_out=planned.left_out,
            after_export=after_export,
        )
        manifest.save(staged.manifest)
        fileio.move_into(staged.export, layout.export, record=layout.manifest, merge=(layout.sensitivity_folder.name,))
        return manifest
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _run_recipes(
    config: ExportConfig, staged: Layout, source: Source, planned: Plan, arrays: Path, scratch: Path, progress: Progress
) -> list[Artifact]:
    """Every recipe in a worker, `config.workers` at a time; converted recipes (.ort) after the files they convert, in a
    second wave, each only when its twin passed. Each writes its files into the `staged` folder."""
    metadata = {
        "labels": list(source.labels),
        "input": source.input,
        "source_sha256": source.sha256,
        "model": source.model,  # the canonical name: builds the model again
        "display_name": short_name(source.model),  # what people are shown: only the parameters off their defaults
        "attribution": attribution(source.data),  # the data's licence: Quick, Draw! is CC BY 4.0
    }
    made: dict[str, Artifact] = {}
    for wave in planned.waves:
        refusals = {r.name: refusal(r, source.input["kind"], made) for r in wave}
        for r in wave:
            if refusals[r.name] is not None:
                out = staged.export / f"{r.name}{r.suffix}"
                made[r.name] = replace(r.artifact(out), status="failed", error=refusals[r.name])
        ready = [r for r in wave if refusals[r.name] is None]
        with ThreadPoolExecutor(max_workers=config.workers) as pool:
            jobs = [(r, _job(r, config, staged, source, arrays, scratch, metadata)) for r in ready]
            for a in pool.map(lambda item: _run_job(item[0], item[1], config, source), jobs):
                made[a.name] = a
                progress(len(made), len(planned.recipes), f"{a.name}: {a.status}" + (f" ({a.error})" if a.error else ""))
    return [made[r.name] for r in planned.recipes]


def _after_export(layout: Layout, artifacts: list[Artifact]) -> dict[str, str]:
    """Each format's step over all its ok files (`Format.after_export`; the .ort files' one reduced-build config, for
    an ONNX Runtime build with only their operators): the name of the file each wrote."""
    written = {}
    for spec in FORMATS.values():
        files = [layout.export / a.path for a in artifacts if a.format == spec.name and a.status == "ok"]
        if spec.after_export is not None and files:
            written[spec.name] = spec.after_export(files, layout.export)
    return written


def _job(
    recipe: Recipe, config: ExportConfig, staged: Layout, source: Source, arrays: Path, scratch: Path, metadata: dict[str, Any]
) -> ExportJob:
    contract = contract_of(source.input)
    return ExportJob(
        recipe=recipe,
        model=str(config.layout.model),
        out=str(staged.export / f"{recipe.name}{recipe.suffix}"),
        arrays=str(arrays),
        input=contract,
        metadata=metadata | {"recipe": recipe.name, "precision": recipe.precision, "input": recipe.file_input(contract).to_json()},
        result=str(scratch / f"{recipe.name}.result.json"),
        max_drop=config.max_drop,
        fallback_budget_s=config.fallback_budget_s,
        min_agreement=recipe.gate(config.gates).min_agreement,
        sensitivity=dict(zip(("json", "png"), map(str, staged.sensitivity(recipe.name)), strict=True)),
    )


def _run_job(recipe: Recipe, job: ExportJob, config: ExportConfig, source: Source) -> Artifact:
    """Run one worker; any way it can fail becomes a `failed` artifact with the reason."""
    failed = replace(recipe.artifact(Path(job.out)), status="failed")
    started = time.perf_counter()
    reason = run_job(Path(job.result).with_suffix(".job.json"), job, config.timeout_s)
    if reason is not None:
        return replace(failed, error=f"converter failed: {reason}", seconds=round(time.perf_counter() - started, 2))
    artifact = Artifact.load(Path(job.result))
    path = Path(job.out).parent / artifact.path
    artifact = replace(artifact, bytes=_size(path), sha256=_digest(path))
    if artifact.parity is None:
        return replace(failed, error="the converter's worker returned no parity", seconds=artifact.seconds)
    problems = gate_failures(
        artifact.parity,
        recipe.gate(config.gates),
        classes=len(source.labels),
        test_top1=artifact.details.test_top1,
        keras_top1=source.keras_test_top1,
        test_changes=artifact.details.test_changes,
    ) + mobile_failures(artifact.details)
    if problems:
        artifact = replace(artifact, status="failed", error="failed validation: " + "; ".join(problems))
    return artifact


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else path.stat().st_size


def _digest(path: Path) -> str:
    """sha256 of a file, or of a folder's files (names and digests, in order)."""
    if not path.is_dir():
        return sha256_file(path)
    listing = "".join(f"{p.relative_to(path)}:{sha256_file(p)}\n" for p in sorted(path.rglob("*")) if p.is_file())
    return hashlib.sha256(listing.encode()).hexdigest()
