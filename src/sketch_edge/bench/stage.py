"""`sketch-edge bench`: plan cells from the manifest, run each in a subprocess, derive accuracy and cost."""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sketch_edge import fileio
from sketch_edge.data import DataRequest, split
from sketch_edge.errors import BenchError, unknown_name
from sketch_edge.export.common import sha256_file
from sketch_edge.isolation import cpu_count, library_versions, run_module
from sketch_edge.metrics import topk_accuracy
from sketch_edge.runtime import RUNTIMES

RUNTIME_NAMES = ("keras", "litert", "onnxruntime")
LIBRARIES = ("tensorflow", "keras", "onnxruntime", "ai-edge-litert", "numpy")


@dataclass(frozen=True)
class BenchConfig:
    artifacts: Path  # holds model.keras and export/manifest.json
    out: Path  # ARTIFACTS/bench
    recipes: tuple[str, ...] = ()  # empty: every ok artifact
    runtimes: tuple[str, ...] = RUNTIME_NAMES
    threads: tuple[int, ...] = ()  # empty: 1 and all cores
    batches: tuple[int, ...] = (1, 64)
    duration_s: float = 2.0
    quick: bool = False
    max_top1_drop: float = 0.01  # below Keras top-1 by more than this: "low-accuracy"
    timeout_s: float = 180.0


@dataclass(frozen=True)
class Cell:
    recipe: str
    format: str
    precision: str
    runtime: str
    threads: int
    batch: int
    path: Path
    bytes: int

    @property
    def key(self) -> str:
        return f"{self.recipe}/{self.runtime}/t{self.threads}/b{self.batch}"


def load_manifest(artifacts: Path) -> dict[str, Any]:
    path = artifacts / "export" / "manifest.json"
    try:
        manifest = json.loads(path.read_text())
    except OSError:
        raise BenchError(f"{path}: no manifest (run `make export` first)") from None
    except ValueError as exc:
        raise BenchError(f"{path}: not a readable manifest ({exc})") from None
    if not manifest.get("artifacts"):
        raise BenchError(f"{path}: the manifest lists no artifacts")
    return manifest


def plan(config: BenchConfig, manifest: dict[str, Any]) -> tuple[list[Cell], list[dict[str, Any]]]:
    """The cells to run, and rows for what cannot run (a missing or changed file), each with its reason."""
    for name in config.runtimes:
        if name not in RUNTIME_NAMES:
            raise BenchError(unknown_name("runtime", name, RUNTIME_NAMES))
    export_dir = config.artifacts / "export"
    model = Path(manifest["source"]["path"])
    entries = [
        {
            "name": "keras",
            "format": "keras",
            "precision": "fp32",
            "path": str(model),
            "status": "ok",
            "sha256": manifest["source"]["sha256"],
        }
    ]
    entries += [a for a in manifest["artifacts"] if a["format"] in ("tflite", "onnx")]
    known = {e["name"] for e in entries}
    for name in config.recipes:
        if name not in known:
            raise BenchError(unknown_name("recipe", name, known))
    threads = config.threads or tuple(sorted({1, cpu_count()}))
    cells, refused = [], []
    for entry in entries:
        if config.recipes and entry["name"] not in config.recipes:
            continue
        path = Path(entry["path"]) if entry["format"] == "keras" else export_dir / entry["path"]
        runtime = RUNTIMES[path.suffix]
        if runtime not in config.runtimes:
            continue
        base = {"recipe": entry["name"], "format": entry["format"], "precision": entry["precision"], "runtime": runtime}
        if entry["status"] != "ok":
            refused.append(base | {"status": "failed", "error": f"not benched: the export failed ({entry['error']})"})
            continue
        if not path.exists():
            refused.append(base | {"status": "failed", "error": f"{path}: file missing"})
            continue
        if sha256_file(path) != entry["sha256"]:
            refused.append(
                base
                | {
                    "status": "failed",
                    "error": f"{path}: sha256 differs from the manifest; refusing to bench a file that is not the one exported",
                }
            )
            continue
        for t in threads:
            for b in config.batches:
                cells.append(Cell(entry["name"], entry["format"], entry["precision"], runtime, t, b, path, path.stat().st_size))
    return cells, refused


def run(config: BenchConfig) -> dict[str, Any]:
    from sketch_edge.bench.peak import measure_peaks

    manifest = load_manifest(config.artifacts)
    cells, refused = plan(config, manifest)
    source = manifest["source"]
    request = DataRequest.from_json(source["data"])
    data = request.load()
    if list(data.labels) != source["labels"]:
        raise BenchError(f"{request.source}: its classes {list(data.labels)[:5]}... are not the model's labels {source['labels'][:5]}...")
    test = split(data, seed=request.seed).test
    x, y = test.features(source["input"]["kind"]).astype(np.float32), test.y
    if config.quick:
        x, y = x[::10], y[::10]

    scratch = fileio.scratch_dir(config.out, ".cells-", BenchError)
    try:
        arrays = scratch / "test.npz"
        np.savez(arrays, test=x)
        peaks = {t: measure_peaks(scratch, t, seconds=0.3 if config.quick else 1.0) for t in sorted({c.threads for c in cells} or {1})}
        results, probs, latencies = [], {}, {}
        for cell in cells:
            row, p, lat = _run_cell(cell, config, arrays, scratch)
            results.append(row)
            if p is not None:
                probs[cell.key], latencies[cell.key] = p, lat
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    reference = next((probs[c.key] for c in cells if c.runtime == "keras" and c.key in probs), None)
    # The floor is Keras on the very drawings benched here (the manifest's figure is for the whole test split).
    keras_top1 = topk_accuracy(reference, y, 1) if reference is not None else source["keras_test_top1"]
    for row in results:
        if row["key"] in probs:
            row.update(accuracy(probs[row["key"]], y, reference, source["labels"]))
            row.update(cost(row, source.get("macs"), peaks[row["threads"]]))
            if row["top1"] < keras_top1 - config.max_top1_drop:
                row["status"] = "low-accuracy"
    mark_pareto(results)
    return {
        "environment": environment(),
        "source": {k: source[k] for k in ("path", "sha256", "model", "labels", "keras_test_top1") if k in source}
        | {"macs": source.get("macs")},
        "peaks": {str(t): v for t, v in peaks.items()},
        "test_samples": int(len(y)),
        "results": results + [_empty_row(r) for r in refused],
        "latencies": latencies,
    }


def _run_cell(cell: Cell, config: BenchConfig, arrays: Path, scratch: Path) -> tuple[dict[str, Any], np.ndarray | None, np.ndarray | None]:
    stem = scratch / cell.key.replace("/", "_")
    job = {
        "path": str(cell.path),
        "threads": cell.threads,
        "batch": cell.batch,
        "arrays": str(arrays),
        "min_calls": 50 if config.quick else (1000 if cell.batch == 1 else 100),
        "min_seconds": 0.2 if config.quick else config.duration_s,
        "warmup_calls": 5 if config.quick else 50,
        "warmup_seconds": 0.05 if config.quick else 1.0,
        "probs": f"{stem}.probs.npy",
        "latencies": f"{stem}.lat.npy",
        "result": f"{stem}.json",
    }
    Path(f"{stem}.job.json").write_text(json.dumps(job))
    row = _empty_row({"recipe": cell.recipe, "format": cell.format, "precision": cell.precision, "runtime": cell.runtime}) | {
        "key": cell.key,
        "threads": cell.threads,
        "batch": cell.batch,
        "bytes": cell.bytes,
    }
    reason = run_module("sketch_edge.bench.worker", Path(f"{stem}.job.json"), config.timeout_s)
    if reason is not None:
        return row | {"status": "failed", "error": reason}, None, None
    measured = json.loads(Path(job["result"]).read_text())
    return row | measured | {"status": "ok"}, np.load(job["probs"]), np.load(job["latencies"])


def _empty_row(base: dict[str, Any]) -> dict[str, Any]:
    fields = ("top1", "top3", "map3", "agreement", "throughput_per_s", "load_ms", "first_call_ms", "peak_rss_mb", "rss_growth_mb")
    return (
        {
            "threads": None,
            "batch": None,
            "bytes": None,
            "error": None,
            "latency_us": None,
            "macs": None,
            "gmacs_per_s": None,
            "peak_fraction": None,
        }
        | {f: None for f in fields}
        | base
    )


def accuracy(probs: np.ndarray, y: np.ndarray, reference: np.ndarray | None, labels: list[str]) -> dict[str, Any]:
    pred = probs.argmax(axis=1)
    top3 = np.argsort(-probs, axis=1)[:, :3]
    map3 = float(np.mean([1.0 / (list(row).index(t) + 1) if t in row else 0.0 for row, t in zip(top3, y, strict=True)]))
    confusion = np.zeros((len(labels), len(labels)), dtype=int)
    np.add.at(confusion, (y, pred), 1)
    per_class = {label: float(confusion[i, i] / max(1, confusion[i].sum())) for i, label in enumerate(labels)}
    return {
        "top1": topk_accuracy(probs, y, 1),
        "top3": topk_accuracy(probs, y, 3),
        "map3": map3,
        "agreement": None if reference is None else float((reference.argmax(axis=1) == pred).mean()),
        "per_class": per_class,
        "confusion": confusion.tolist(),
    }


def cost(row: dict[str, Any], macs: int | None, peak: dict[str, float]) -> dict[str, Any]:
    """Throughput, achieved GMAC/s and the fraction of this machine's GEMM peak for the cell's precision."""
    lat = row["latency_us"]
    out: dict[str, Any] = {"throughput_per_s": row["batch"] / (lat["mean"] / 1e6)}
    if macs:
        gmacs = macs * row["batch"] / (lat["p50"] / 1e6) / 1e9
        peak_gmacs = (peak["int8_gops"] if row["precision"] == "int8" else peak["fp32_gflops"]) / 2
        out |= {"macs": macs, "gmacs_per_s": gmacs, "peak_fraction": gmacs / peak_gmacs}
    return out


def mark_pareto(results: list[dict[str, Any]]) -> None:
    """Within each (threads, batch) group of ok cells: best top-1 for its p50 latency, not beaten on both."""
    ok = [r for r in results if r["status"] == "ok"]
    for r in results:
        r["pareto"] = r in ok and not any(
            o is not r
            and (o["threads"], o["batch"]) == (r["threads"], r["batch"])
            and o["latency_us"]["p50"] <= r["latency_us"]["p50"]
            and o["top1"] >= r["top1"]
            and (o["latency_us"]["p50"] < r["latency_us"]["p50"] or o["top1"] > r["top1"])
            for o in ok
        )


def environment() -> dict[str, Any]:
    cpu_model, flags = "unknown", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and cpu_model == "unknown":
                cpu_model = line.split(":", 1)[1].strip()
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    wanted = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8", "neon", "asimddp")
    try:
        revision = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=Path(__file__).parent, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        revision = ""
    return {
        "cpu": cpu_model,
        "cpu_flags": [f for f in wanted if f in flags],
        "cores": cpu_count(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "libraries": library_versions(LIBRARIES),
        "git_revision": revision or None,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
