"""What streaming training costs: peak memory against source size, and the input pipeline against training's appetite.

    python benchmarks/streaming.py [--real ../shared/quickdraw] [--json OUT.json]

- memory: `sketch-edge train` (cnn-bn, --steps-per-epoch bounds the run) on numpy_bitmap folders of 10 classes
  holding 1,000 and 100,000 drawings each (10,000 vs 1,000,000), made by repeating the real bitmaps (or random ink
  without --real); peak resident memory (ru_maxrss) of the training process, each in a fresh process;
- input: drawings per second of the training stream alone (tf.data, batch 128, after a warm-up), for each source
  and input kind, read as a large source is (no cache), to set against what training consumes
  (`drawings_per_second_per_worker` of the train_report.json files given with --train-report).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CLASSES = 10


def make_bitmap_folder(folder: Path, per_class: int, real: Path | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    files = sorted((real / "numpy_bitmap").glob("*.npy"))[:CLASSES] if real else []
    for index in range(CLASSES):
        rows = np.load(files[index]) if files else rng.integers(0, 256, size=(1000, 784), dtype=np.uint8)
        reps = -(-per_class // len(rows))
        with open(folder / f"class{index}.npy", "wb") as handle:  # written in pieces: never the whole file in memory
            np.lib.format.write_array_header_1_0(handle, {"descr": "|u1", "fortran_order": False, "shape": (per_class, 784)})
            left = per_class
            for _ in range(reps):
                piece = rows[: min(left, len(rows))]
                handle.write(piece.tobytes())
                left -= len(piece)
    return folder


def peak_memory(folder: Path, out: Path, steps: int, epochs: int) -> dict[str, float]:
    """Train in a child process and read its peak resident memory from the kernel's accounting."""
    command = [sys.executable, "-m", "sketch_edge", "train", "--data", str(folder), "--model", "cnn-bn", "--out", str(out)]
    command += ["--steps-per-epoch", str(steps), "--epochs", str(epochs)]
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.run(command, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"training failed: {proc.stderr.strip().splitlines()[-1]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak <= before:
        raise SystemExit("could not separate this run's peak from an earlier child's: run each size in its own process")
    report = json.loads((out / "train_report.json").read_text())
    return {
        "peak_rss_mb": round(peak / 1024, 1),
        "seconds": round(time.perf_counter() - started, 1),
        "train_drawings": report["splits"]["train"],
    }


def input_rate(source: str, kind: str, batches: int, cache: bool, batch_size: int = 128) -> dict[str, float]:
    """Batches per second of the training stream alone, after a warm-up of one tenth. Without `cache` every
    drawing is read and decoded as it comes, as for a source too large to cache (the full dataset)."""
    from sketch_edge.quiet import import_tensorflow

    import_tensorflow()
    from sketch_edge.data import DataRequest
    from sketch_edge.train import input as train_input
    from sketch_edge.train.input import Errors, train_stream

    train_input.CACHE_BYTES = 256 << 20 if cache else 0

    opened = DataRequest(source=source).open()
    stream = iter(train_stream(opened, opened.shards, kind, 0, batch_size, False, Errors()))
    for _ in range(batches // 10):
        next(stream)
    started = time.perf_counter()
    for _ in range(batches):
        next(stream)
    seconds = time.perf_counter() - started
    return {"batches_per_s": round(batches / seconds, 1), "drawings_per_s": round(batches * batch_size / seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, default=None, help="the real QuickDraw subset (../shared/quickdraw)")
    parser.add_argument("--sizes", default="1000,100000", help="drawings per class of the memory runs")
    parser.add_argument("--steps", type=int, default=100, help="steps per epoch of the memory runs")
    parser.add_argument("--train-report", type=Path, nargs="*", default=[], help="train_report.json files: training's rate")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    flags = next((line.split(":", 1)[1].split() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags")), [])
    results: dict = {
        "machine": {"python": platform.python_version(), "cpu_flags": [f for f in flags if f in ("avx2", "fma", "avx512f", "avx512_vnni")]},
        "memory": {},
        "input": {},
    }
    with tempfile.TemporaryDirectory(prefix="sketch-edge-stream-", dir=Path.cwd()) as tmp:
        for per_class in (int(s) for s in args.sizes.split(",")):
            folder = make_bitmap_folder(Path(tmp) / f"data{per_class}", per_class, args.real)
            results["memory"][per_class * CLASSES] = peak_memory(folder, Path(tmp) / f"out{per_class}", args.steps, 2)
            print(f"memory, {per_class * CLASSES:,} drawings: {results['memory'][per_class * CLASSES]}", flush=True)
            if per_class == max(int(s) for s in args.sizes.split(",")):
                results["input"]["numpy_bitmap, large, streamed"] = input_rate(str(folder), "bitmap", 400, cache=False)
                print(f"input: {results['input']}", flush=True)
    if args.real:
        for name, source, kind, cache in (
            ("numpy_bitmap, real subset, cached", "numpy_bitmap", "bitmap", True),
            ("numpy_bitmap, real subset, streamed", "numpy_bitmap", "bitmap", False),
            ("simplified ndjson, rasterized as read", "simplified", "bitmap", False),
            ("strokes ndjson, point rows as read", "strokes", "strokes", False),
        ):
            results["input"][name] = input_rate(str(args.real / source), kind, 400, cache)
            print(f"input, {name}: {results['input'][name]}", flush=True)
    for path in args.train_report:
        report = json.loads(path.read_text())
        rate = report["distribution"]["drawings_per_second_per_worker"]
        results.setdefault("training", {})[str(path)] = {"model": report["model"], "drawings_per_s": rate}
        print(f"training consumes, {report['model']} ({path}): {rate} drawings/s per worker", flush=True)
    sizes = sorted(results["memory"])
    if len(sizes) >= 2:
        small, large = (results["memory"][s]["peak_rss_mb"] for s in (sizes[0], sizes[-1]))
        results["memory_ratio"] = round(large / small, 3)
        print(f"peak memory, {sizes[-1]:,} vs {sizes[0]:,} drawings: {large} vs {small} MB ({results['memory_ratio']:.3f}x)")
    text = json.dumps(results, indent=2)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
