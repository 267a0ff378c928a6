"""Bench outputs: the terminal table, results.json / results.csv, report.md and its plots."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from sketch_edge import fileio
from sketch_edge.errors import BenchError

CSV_COLUMNS = (
    "recipe", "format", "precision", "runtime", "threads", "batch", "status", "error",
    "top1", "top3", "map3", "agreement",
    "latency_us.p50", "latency_us.p90", "latency_us.p99", "latency_us.mean", "latency_us.std", "latency_us.min",
    "throughput_per_s", "load_ms", "first_call_ms", "peak_rss_mb", "rss_growth_mb",
    "bytes", "macs", "gmacs_per_s", "peak_fraction", "pareto",
)  # fmt: skip
COMPARED = (("p50", "latency_us.p50"), ("p99", "latency_us.p99"), ("thru", "throughput_per_s"), ("top1", "top1"), ("rss", "peak_rss_mb"))


def flat(row: dict[str, Any], column: str) -> Any:
    value: Any = row
    for part in column.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def write_all(results: dict[str, Any], out: Path, baseline: dict[str, Any] | None) -> None:
    latencies = results.pop("latencies")
    fileio.write_json(out / "results.json", results)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in results["results"]:
        writer.writerow(["" if flat(row, c) is None else flat(row, c) for c in CSV_COLUMNS])
    fileio.write_text(out / "results.csv", buffer.getvalue())
    plots(results, latencies, out)
    fileio.write_text(out / "report.md", markdown(results, baseline))


def table_rows(results: dict[str, Any], baseline: dict[str, Any] | None) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the one table the terminal and the Markdown report both show."""
    header = ["recipe", "runtime", "thr", "batch", "status", "kB", "top-1", "agree", "p50 us", "p99 us", "per s", "RSS MB", "peak %"]
    old = {_key(r): r for r in baseline["results"]} if baseline else {}
    if baseline:
        header += [f"{name} vs base" for name, _ in COMPARED]
    rows = []
    for r in results["results"]:
        lat = r["latency_us"] or {}
        row = [
            r["recipe"] + (" *" if r.get("pareto") else ""),
            r["runtime"],
            _fmt(r["threads"]),
            _fmt(r["batch"]),
            r["status"] if not r["error"] else f"{r['status']}: {r['error']}",
            _fmt(r["bytes"] and r["bytes"] / 1024, ".0f"),
            _fmt(r["top1"], ".4f"),
            _fmt(r["agreement"], ".4f"),
            _fmt(lat.get("p50"), ".1f"),
            _fmt(lat.get("p99"), ".1f"),
            _fmt(r["throughput_per_s"], ".0f"),
            _fmt(r["peak_rss_mb"], ".0f"),
            _fmt(r["peak_fraction"] and 100 * r["peak_fraction"], ".1f"),
        ]
        if baseline:
            before = old.get(_key(r))
            for _, column in COMPARED:
                new, prev = flat(r, column), before and flat(before, column)
                row.append(f"{new / prev:.2f}x" if new is not None and prev else "")
        rows.append(row)
    return header, rows


def _key(row: dict[str, Any]) -> tuple:
    return (row["recipe"], row["runtime"], row["threads"], row["batch"])


def _fmt(value: Any, spec: str = "") -> str:
    return "" if value is None else format(value, spec)


def markdown(results: dict[str, Any], baseline: dict[str, Any] | None) -> str:
    env, peaks = results["environment"], results["peaks"]
    header, rows = table_rows(results, baseline)
    lines = [
        f"# Bench of {results['source']['model']} ({results['source']['sha256'][:12]})",
        "",
        f"{env['cpu']} ({', '.join(env['cpu_flags']) or 'no SIMD flags read'}), {env['cores']} cores, {env['os']}, Python {env['python']}; "
        f"git {env['git_revision']}; {env['time']}.",
        "",
        "Libraries: " + ", ".join(f"{k} {v}" for k, v in env["libraries"].items()) + ".",
        "",
        "GEMM peaks (ONNX Runtime MatMul fp32 / MatMulInteger u8s8, 1024^3): "
        + "; ".join(f"{t} thread(s): {p['fp32_gflops']:.0f} GFLOP/s fp32, {p['int8_gops']:.0f} GOP/s int8" for t, p in peaks.items())
        + f". Model: {results['source']['macs'] or 0:,} MACs per drawing; Keras test top-1 {results['source']['keras_test_top1']:.4f}"
        + f" on {results['test_samples']} test drawings. `*`: Pareto-best (top-1 vs p50) among cells with the same threads and batch.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in rows),
        "",
        "![accuracy vs latency](latency_vs_accuracy.png)",
        "",
        "![latency distributions](latency_cdf.png)",
        "",
        "![size per artifact](size.png)",
        "",
        "![confusion matrix of the most accurate cell](confusion.png)",
        "",
    ]
    return "\n".join(lines)


def plots(results: dict[str, Any], latencies: dict[str, np.ndarray], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in results["results"] if r["status"] != "failed" and r["latency_us"]]
    single = [r for r in ok if r["batch"] == 1]

    fig, ax = plt.subplots(figsize=(8, 5))
    for r in single:
        ax.scatter(r["latency_us"]["p50"], r["top1"], marker="o" if r["threads"] == 1 else "s")
        ax.annotate(f"{r['recipe']}/{r['runtime']}/t{r['threads']}", (r["latency_us"]["p50"], r["top1"]), fontsize=7)
    for threads, style in zip(sorted({r["threads"] for r in single}), ("k--", "k:", "k-."), strict=False):
        front = sorted((r for r in single if r.get("pareto") and r["threads"] == threads), key=lambda r: r["latency_us"]["p50"])
        lat = [r["latency_us"]["p50"] for r in front]
        ax.plot(lat, [r["top1"] for r in front], style, linewidth=1, label=f"Pareto front, {threads} thread(s)")
    if single:
        ax.legend()
    ax.set_xscale("log")
    ax.set_xlabel("p50 latency at batch 1 (us, log scale)")
    ax.set_ylabel("test top-1")
    _save(fig, out / "latency_vs_accuracy.png")

    fig, ax = plt.subplots(figsize=(8, 5))
    for r in single:
        lat = np.sort(latencies[r["key"]])
        ax.plot(lat, np.arange(1, len(lat) + 1) / len(lat), label=f"{r['recipe']}/{r['runtime']}/t{r['threads']}", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("latency at batch 1 (us, log scale)")
    ax.set_ylabel("fraction of calls")
    ax.legend(fontsize=6)
    _save(fig, out / "latency_cdf.png")

    best = max((r for r in ok if r.get("confusion")), key=lambda r: (r["top1"], -r["latency_us"]["p50"]), default=None)
    if best is not None:
        labels = results["source"]["labels"]
        fig, ax = plt.subplots(figsize=(1.2 + 0.45 * len(labels), 1 + 0.45 * len(labels)))
        ax.imshow(np.asarray(best["confusion"]), cmap="Blues")
        ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(f"{best['recipe']} on {best['runtime']}: top-1 {best['top1']:.4f}", fontsize=9)
        _save(fig, out / "confusion.png")

    sizes = {r["recipe"]: r["bytes"] for r in results["results"] if r["bytes"]}
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.barh(list(sizes), [b / 1024 for b in sizes.values()])
    ax.set_xlabel("file size (kB)")
    _save(fig, out / "size.png")


def _save(fig: Any, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    with fileio.atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


def load_baseline(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise BenchError(f"{path}: not a readable results.json ({exc})") from None
