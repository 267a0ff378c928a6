"""`sketch-edge export`: run every recipe in a subprocess, gate it, write the manifest atomically."""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from sketch_edge import fileio
from sketch_edge.data import INPUT_SPECS, DataRequest, split
from sketch_edge.errors import ExportError
from sketch_edge.export.artifact import Artifact
from sketch_edge.export.calibration import stratified_sample
from sketch_edge.export.common import sha256_file
from sketch_edge.export.recipes import GATES, Gate, Recipe, get_recipe, list_recipes
from sketch_edge.export.verify import gate_failures
from sketch_edge.isolation import library_versions, run_module
from sketch_edge.models.macs import count_macs

MANIFEST = "manifest.json"
VALIDATION_MAX = 2000
LIBRARIES = ("tensorflow", "keras", "tf2onnx", "onnx", "onnxruntime", "ai-edge-litert", "numpy")


@dataclass(frozen=True)
class ExportConfig:
    model: Path  # ARTIFACTS/model.keras; its train_report.json and labels.txt sit beside it
    out: Path  # ARTIFACTS/export
    recipes: tuple[str, ...] = ()  # empty: the default recipes
    timeout_s: float = 300.0
    workers: int = 2
    gates: dict[str, Gate] = field(default_factory=lambda: dict(GATES))


def run(config: ExportConfig) -> dict[str, Any]:
    """Export every recipe, or reuse an up-to-date manifest. Failed recipes are rows of the manifest, not exceptions."""
    recipes = [get_recipe(name) for name in (config.recipes or list_recipes(defaults_only=True))]
    source = _describe_source(config.model)
    manifest = _reusable_manifest(config.out, source, recipes)
    return manifest if manifest is not None else _export(config, source, recipes)


def failed_recipes(manifest: dict[str, Any]) -> list[str]:
    return [a["name"] for a in manifest["artifacts"] if a["status"] != "ok"]


def _describe_source(model: Path) -> dict[str, Any]:
    if not model.is_file():
        raise ExportError(f"{model}: no trained model here (run `make train` or `sketch-edge train --out {model.parent}`)")
    report_path = model.parent / "train_report.json"
    try:
        report = json.loads(report_path.read_text())
    except (OSError, ValueError) as exc:
        raise ExportError(f"{report_path}: the training report beside the model is missing or unreadable ({exc})") from None
    return {
        "path": str(model),
        "sha256": sha256_file(model),
        "model": report["model"],
        "labels": report["classes"],
        "input": INPUT_SPECS[report["input"]["kind"]].to_json(),  # the contract as the code defines it
        "data": report["data"]["request"],
        "keras_test_top1": report["test"]["top1"],
    }


def _reusable_manifest(out: Path, source: dict[str, Any], recipes: list[Recipe]) -> dict[str, Any] | None:
    """The existing manifest, if it was made from this very model file with these recipes and its files are intact."""
    try:
        manifest = json.loads((out / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if manifest.get("source", {}).get("sha256") != source["sha256"]:
        return None
    entries = {a["name"]: a for a in manifest.get("artifacts", [])}
    for recipe in recipes:
        entry = entries.get(recipe.name)
        if entry is None or entry["status"] != "ok" or not (out / entry["path"]).exists():
            return None
        if _digest(out / entry["path"]) != entry["sha256"]:
            return None
    manifest["reused"] = True
    return manifest


def _export(config: ExportConfig, source: dict[str, Any], recipes: list[Recipe]) -> dict[str, Any]:
    import keras

    spec = INPUT_SPECS[source["input"]["kind"]]
    model = keras.saving.load_model(config.model, safe_mode=True)
    if tuple(model.input_shape[1:]) != spec.shape:
        raise ExportError(f"{config.model}: model input {model.input_shape[1:]} is not the {spec.kind} contract {spec.shape}")
    source = source | {"macs": count_macs(model), "parameters": int(model.count_params())}
    request = DataRequest.from_json(source["data"])
    splits = split(request.load(), seed=request.seed)
    validation = splits.val.features(spec.kind)[:VALIDATION_MAX].astype(np.float32)
    test = splits.test.features(spec.kind).astype(np.float32)
    reference = model.predict(validation, batch_size=512, verbose=0)

    scratch = fileio.scratch_dir(config.out, ".jobs-", ExportError)
    try:
        arrays = scratch / "arrays.npz"
        np.savez(
            arrays,
            calibration=stratified_sample(splits.train, spec.kind, seed=request.seed),
            validation=validation,
            reference=reference,
            test=test,
            test_labels=splits.test.y,
        )
        metadata = {"labels": source["labels"], "input": source["input"], "source_sha256": source["sha256"], "model": source["model"]}
        with ThreadPoolExecutor(max_workers=config.workers) as pool:
            artifacts = list(pool.map(lambda r: _run_job(r, _job(r, config, source, arrays, scratch, metadata), config), recipes))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    manifest = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "source": source,
        "libraries": library_versions(LIBRARIES) | {"python": platform.python_version()},
        "artifacts": [a.to_json() for a in artifacts],
    }
    fileio.write_json(config.out / MANIFEST, manifest)
    return manifest


def _job(recipe: Recipe, config: ExportConfig, source: dict[str, Any], arrays: Path, scratch: Path, metadata: dict) -> dict[str, Any]:
    return {
        "recipe": asdict(recipe),
        "model": str(config.model),
        "out": str(config.out / f"{recipe.name}{recipe.suffix}"),
        "arrays": str(arrays),
        "input_kind": source["input"]["kind"],
        "metadata": metadata | {"recipe": recipe.name, "precision": recipe.precision},
        "result": str(scratch / f"{recipe.name}.result.json"),
    }


def _run_job(recipe: Recipe, job: dict[str, Any], config: ExportConfig) -> Artifact:
    """Run one worker; any way it can fail becomes a `failed` artifact with the reason."""
    failed = Artifact(name=recipe.name, format=recipe.format, precision=recipe.precision, path=Path(job["out"]).name, status="failed")
    job_file = Path(job["result"]).with_suffix(".job.json")
    job_file.write_text(json.dumps(job))
    started = time.perf_counter()
    reason = run_module("sketch_edge.export.worker", job_file, config.timeout_s)
    if reason is not None:
        return replace(failed, error=f"converter failed: {reason}", seconds=round(time.perf_counter() - started, 2))
    artifact = Artifact.from_json(json.loads(Path(job["result"]).read_text()))
    path = config.out / artifact.path
    artifact = replace(artifact, bytes=_size(path), sha256=_digest(path))
    problems = gate_failures(artifact.parity, recipe.gate(config.gates))
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


def summarize(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per artifact for the terminal table."""
    return [
        {
            "recipe": a["name"],
            "status": a["status"],
            "kB": a["bytes"] / 1024,
            "agreement": a["parity"]["top1_agreement"] if a["parity"] else None,
            "max_abs_diff": a["parity"]["max_abs_diff"] if a["parity"] else None,
            "test_top1": a["details"].get("test_top1"),
            "seconds": a["seconds"],
            "error": a["error"],
        }
        for a in manifest["artifacts"]
    ]
