"""What `sketch-edge bench` derives from the cells' measurements, without running anything: accuracy against the
truth and the reference, cost against the machine's peaks, noise across rounds, the Pareto fronts, and the library
versions the figures depend on. Tune and compare import these too."""

from __future__ import annotations

import statistics
from dataclasses import replace
from typing import Any

import numpy as np

from sketch_edge.bench.peak import Kernel
from sketch_edge.bench.plan import Cell
from sketch_edge.bench.results import KernelTiming, Mobile, Peak, Row
from sketch_edge.export.recipes import CLIENTS, RECIPES
from sketch_edge.export.verify import beyond_noise, changes
from sketch_edge.manifest import Manifest
from sketch_edge.metrics import topk_accuracy
from sketch_edge.runtime import RUNTIMES


def mobile_records(manifest: Manifest) -> dict[str, Mobile]:
    """The mobile recipes' artifacts as the export checked them; an .ort file shows its twin's provider coverage."""
    found = {}
    for a in manifest.artifacts:
        recipe = RECIPES.get(a.name)
        if recipe is None or recipe.client is None:
            continue
        twin = manifest.artifact(a.details.twin.twin) if a.details.twin else None
        providers = a.details.providers or (twin.details.providers if twin else ())
        found[a.name] = Mobile(CLIENTS[recipe.client].description, a.details.client, providers, a.details.twin)
    return found


def judged(row: Row, probs: np.ndarray, reference: np.ndarray, y: np.ndarray, keras_top1: float, max_drop: float) -> Row:
    """As the export's gate: a drop counts when it is beyond chance on these drawings."""
    lost, gained = changes(reference.argmax(axis=1), probs.argmax(axis=1), y)
    if row.top1 is not None and row.top1 < keras_top1 - max_drop and beyond_noise(lost, gained):
        return replace(row, status="low-accuracy")
    return row


def peaks_to_remeasure(rows: list[Row], measured: list[KernelTiming]) -> set[tuple[str, int]]:
    """The (runtime, threads) groups whose peaks are in doubt: a kernel timed while the machine was busy, or a
    cell faster than the peak that bounds it (the peak was slowed, so it is not the ceiling it claims to be)."""
    doubtful = {(m.runtime, m.threads) for m in measured if m.noisy}
    by_name = {m.kernel: m.runtime for m in measured}
    doubtful |= {(by_name[r.peak_kernel], r.threads or 1) for r in rows if (r.peak_fraction or 0) > 1 and r.peak_kernel in by_name}
    return doubtful


def mark_beaten(rows: list[Row], peaks: dict[str, dict[str, Peak]]) -> dict[str, dict[str, Peak]]:
    """Name, on its peak, every cell still faster than it after the second timing: that kernel is then not the
    ceiling of its kind on this CPU (on an AVX2 EPYC, OpenVINO's int8 convolutions beat ONNX Runtime's MatMulInteger)."""
    marked = {threads: dict(kinds) for threads, kinds in peaks.items()}
    for row in rows:
        if (row.peak_fraction or 0) > 1:
            peak = marked[str(row.threads)][row.compute]
            marked[str(row.threads)][row.compute] = replace(peak, beaten_by=(*peak.beaten_by, row.key))
    return marked


def busiest(a: float | None, b: float | None) -> float | None:
    """A cell timed in several rounds was as noisy as its noisiest round."""
    return b if a is None else a if b is None else max(a, b)


def summarize_rounds(row: Row, rounds: list[np.ndarray]) -> Row:
    """With --repeat, the reported p50 is the median of the rounds' p50s, and the spread says how far they ranged."""
    p50s = tuple(float(np.percentile(r, 50)) for r in rounds)
    if len(p50s) == 1 or row.latency_us is None:
        return replace(row, p50_rounds=p50s)
    spread = (max(p50s) - min(p50s)) / statistics.median(p50s)
    latency = replace(row.latency_us, p50=statistics.median(p50s), p50_low=min(p50s), p50_high=max(p50s))
    return replace(row, p50_rounds=p50s, p50_spread=spread, latency_us=latency)


def accuracy(probs: np.ndarray, y: np.ndarray, reference: np.ndarray, labels: tuple[str, ...]) -> dict[str, Any]:
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
        "agreement": float((reference.argmax(axis=1) == pred).mean()),
        "per_class": per_class,
        "confusion": confusion.tolist(),
    }


def cost(row: Row, macs: int | None, peaks: dict[str, Peak]) -> dict[str, Any]:
    """Throughput, achieved GMAC/s and the fraction of this machine's peak for the cell's compute kind."""
    lat, batch = row.latency_us, row.batch or 1
    if lat is None:
        return {}
    out: dict[str, Any] = {"throughput_per_s": batch / (lat.mean / 1e6)}
    peak = peaks.get(row.compute)
    if macs:
        out |= {"macs": macs, "gmacs_per_s": macs * batch / (lat.p50 / 1e6) / 1e9}
        if peak:
            out |= {"peak_fraction": out["gmacs_per_s"] / (peak.gops / 2), "peak_kernel": peak.kernel}
    return out


def pareto_front(points: list[tuple[Any, float, float]]) -> list[bool]:
    """For (group, p50, top-1) points: on its group's front (best top-1 for its p50, not beaten on both)."""
    return [
        not any(og == g and op <= p and ot >= t and (op < p or ot > t) for j, (og, op, ot) in enumerate(points) if j != i)
        for i, (g, p, t) in enumerate(points)
    ]


def mark_pareto(rows: list[Row]) -> list[Row]:
    """The rows, each ok cell marked when it is on the front of its (threads, batch) group."""
    ok = [i for i, r in enumerate(rows) if r.status == "ok" and r.p50 is not None and r.top1 is not None]
    front = pareto_front([((rows[i].threads, rows[i].batch), rows[i].p50 or 0.0, rows[i].top1 or 0.0) for i in ok])
    on = {i for i, f in zip(ok, front, strict=True) if f}
    return [replace(r, pareto=i in on) for i, r in enumerate(rows)]


def libraries(cells: list[Cell], kernels: list[Kernel]) -> tuple[str, ...]:
    """The distributions the figures depend on: numpy, the runtimes that ran cells and peaks, and what made each
    benched file (its recipe's libraries; the peak GEMMs of LiteRT are made by TFLite recipes too)."""
    runtimes = [c.runtime for c in cells] + [k.runtime for k in kernels]
    recipes = [RECIPES[name] for name in [c.recipe for c in cells] + [k.recipe for k in kernels] if name in RECIPES]
    names = ["numpy", *(lib for r in runtimes for lib in RUNTIMES[r].libraries), *(lib for r in recipes for lib in r.libraries)]
    return tuple(dict.fromkeys(names))
