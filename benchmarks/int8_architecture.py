"""What makes a small CNN run close to its int8 floor? Variants of one design, timed int8 on LiteRT and ONNX Runtime.

    .venv/bin/python benchmarks/int8_architecture.py [--rounds 3] [--seconds 0.5] [--json OUT.json]

Latency does not depend on what the weights learned, so every variant is built
untrained (10 classes), calibrated on synthetic bitmaps and exported with the
project's own int8 recipes (`tflite-int8`, `onnx-int8`). Then, in a child process
pinned to one core that never loads TensorFlow, each file is timed batch 1 on one
thread with the bench's loop (`Runner.run` on a prepared input) in interleaved
rounds (best round's p50 kept), beside the runtime's own int8 GEMM peak, measured
in the same process with the bench's peak kernels. `x floor` = p50 / (MACs x 2 / peak).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from sketch_edge.bench.peak import KERNELS, PeakJob
from sketch_edge.bench.peak import build as build_kernels
from sketch_edge.bench.peak import measure as measure_kernels
from sketch_edge.bench.timing import time_calls
from sketch_edge.isolation import cpu_affinity, pin_to_core
from sketch_edge.runtime import open_runner

BASE_PARAMS = "width=32,depth=3,convs=1,kernel=3,conv=plain,pool=max,head=flatten,dense=128"
BASE = f"edge-cnn[{BASE_PARAMS}]"


def changed(change: str) -> str:
    """The base with `change` (key=value,...) over it: a later key wins, so no variant depends on the family's defaults."""
    return f"edge-cnn[{BASE_PARAMS},{change}]"


VARIANTS: dict[str, tuple[str, str]] = {
    # name: (model, the question it answers)
    "base": (BASE, "3 plain 3x3 conv blocks 32-64-128, max pool, flatten, dense 128"),
    "width=16": (changed("width=16"), "channels: half"),
    "width=24": (changed("width=24"), "channels: multiples of 8, not 16"),
    "width=30": (changed("width=30"), "channels: not a multiple of 8 or 16"),
    "width=48": (changed("width=48"), "channels: wider"),
    "convs=2,width=16": (changed("width=16,convs=2"), "more, smaller layers (MACs ~ base); the default edge-cnn's layers"),
    "depth=2,width=32": (changed("width=32,depth=2"), "fewer layers"),
    "separable": (changed("width=32,conv=separable"), "depthwise-separable after the first conv"),
    "separable,width=64": (changed("width=64,conv=separable"), "separable, wider"),
    "pool=stride": (changed("width=32,pool=stride"), "stride-2 convs instead of max pools"),
    "head=gap": (changed("width=32,head=gap"), "global average pool instead of flatten"),
    "kernel=5": (changed("width=32,kernel=5"), "5x5 kernels"),
    "no-rescaling": (BASE, "the x/255 Rescaling layer removed (latency only: not a usable model)"),
    "swish": (BASE, "swish instead of ReLU (not fusable into the conv)"),
    "flatten-static": (BASE, "Flatten to a constant (-1, features) shape: no shape arithmetic ops"),
    "cnn-bn": ("cnn-bn", "the previous default, for reference"),
}
RECIPES = ("tflite-int8", "onnx-int8")
RUNTIME = {"tflite-int8": "litert", "onnx-int8": "onnxruntime"}
PEAK = {"litert": "LiteRT FULLY_CONNECTED int8 (XNNPACK)", "onnxruntime": "ONNX Runtime MatMulInteger u8 x s8 (MLAS)"}


def variant_model(name: str) -> Any:
    import keras

    from sketch_edge.models import get_model_spec

    model = get_model_spec(VARIANTS[name][0]).build(10)

    class FlattenStatic(keras.layers.Layer):
        """Flatten to a constant (-1, features) shape: Keras's Flatten reads the batch at run time, which the
        converters keep as shape arithmetic (TFLite SHAPE, STRIDED_SLICE, PACK; seven ONNX ops)."""

        def call(self, inputs: Any) -> Any:
            return keras.ops.reshape(inputs, (-1, int(np.prod(inputs.shape[1:]))))

    swap = {
        "no-rescaling": ("Rescaling", lambda layer: keras.layers.Identity()),
        "swish": ("ReLU", lambda layer: keras.layers.Activation("swish")),
        "flatten-static": ("Flatten", lambda layer: FlattenStatic()),
    }.get(name)
    if swap:
        kind, make = swap
        model = keras.models.clone_model(model, clone_function=lambda layer: make(layer) if type(layer).__name__ == kind else layer)
    return model


def export_all(folder: Path) -> dict[str, dict[str, Any]]:
    """Every variant's int8 files (and the peak kernels' files) in `folder`; their MACs."""
    from sketch_edge.data import INPUT_SPECS, load_source
    from sketch_edge.export.calibration import CalibrationReader
    from sketch_edge.export.onnx import export_onnx
    from sketch_edge.export.recipes import get_recipe
    from sketch_edge.export.tflite import export_tflite
    from sketch_edge.models.macs import count_macs

    spec = INPUT_SPECS["bitmap"]
    calibration = CalibrationReader(load_source("synthetic", per_class=10).features("bitmap")[:64], spec.name)
    exporters = {"tflite-int8": export_tflite, "onnx-int8": export_onnx}
    out = {}
    for name in VARIANTS:
        model = variant_model(name)
        files = {}
        for recipe in RECIPES:
            path = folder / f"{name}-{recipe}{get_recipe(recipe).suffix}"
            exporters[recipe](model, path, input_spec=spec, recipe=get_recipe(recipe), calibration=calibration)
            files[recipe] = str(path)
        out[name] = {"macs": count_macs(model), "params": int(model.count_params()), "files": files}
    build_kernels(PeakJob("build", str(folder), tuple(PEAK.values()), result=""))
    return out


def time_all(folder: Path, variants: dict[str, dict[str, Any]], rounds: int, seconds: float) -> dict[str, Any]:
    """In this process (no TensorFlow), pinned: each file's best-round p50 and each runtime's int8 peak."""
    pin_to_core(max(cpu_affinity()))
    x = np.random.default_rng(0).integers(0, 256, size=(1, 28, 28, 1)).astype(np.float32)
    calls = {}
    for name, v in variants.items():
        for recipe, path in v["files"].items():
            runner = open_runner(Path(path), threads=1, runtime=RUNTIME[recipe])
            prepared = runner.prepare(x)
            calls[(name, recipe)] = (runner, prepared)
    best: dict[tuple[str, str], float] = {}
    for _ in range(rounds):  # interleaved: a noisy moment hits every variant alike
        for key, (runner, prepared) in calls.items():
            lat = time_calls(lambda r=runner, p=prepared: r.run(p), min_calls=200, min_seconds=seconds, warmup_calls=50, warmup_seconds=0.1)
            best[key] = min(best.get(key, np.inf), float(np.median(lat)))
    kernels = [k.name for k in KERNELS if k.name in PEAK.values()]
    job = PeakJob("measure", str(folder), tuple(kernels), result="", threads=1, seconds=1.0)
    peaks = {m.runtime: m.gops for m in measure_kernels(job).measured}
    return {"p50_us": {f"{n}|{r}": p for (n, r), p in best.items()}, "peak_gops": peaks}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=0.5, help="timed seconds per file per round")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--time", type=Path, default=None, help=argparse.SUPPRESS)  # the timing child: its variants file
    args = parser.parse_args()
    if args.time is not None:
        variants = json.loads(args.time.read_text())
        print(json.dumps(time_all(args.time.parent, variants, args.rounds, args.seconds)))
        return 0
    from sketch_edge.bench.machine import environment
    from sketch_edge.quiet import import_tensorflow

    import_tensorflow()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        variants = export_all(folder)
        (folder / "variants.json").write_text(json.dumps(variants))
        child = [
            sys.executable,
            __file__,
            "--time",
            str(folder / "variants.json"),
            "--rounds",
            str(args.rounds),
            "--seconds",
            str(args.seconds),
        ]
        timed = json.loads(subprocess.run(child, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])
    env = environment(("numpy", "onnxruntime", "ai-edge-litert")).to_json()
    print(
        f"{env['cpu']}; flags {' '.join(env['cpu_flags'])}; int8 peaks (1 thread): "
        + ", ".join(f"{rt} {g:.0f} GOP/s" for rt, g in timed["peak_gops"].items())
    )
    print(f"{'variant':20} {'MACs':>10} {'params':>9} {'LiteRT us':>10} {'x floor':>8} {'ORT us':>8} {'x floor':>8}  question")
    rows = {}
    for name, v in variants.items():
        row = {"macs": v["macs"], "params": v["params"], "question": VARIANTS[name][1]}
        cells = []
        for recipe in RECIPES:
            runtime = RUNTIME[recipe]
            p50 = timed["p50_us"][f"{name}|{recipe}"]
            floor = 2 * v["macs"] / (timed["peak_gops"][runtime] * 1e9) * 1e6
            row[runtime] = {"p50_us": p50, "floor_us": floor, "floor_ratio": p50 / floor}
            cells.append(f"{p50:10.1f} {p50 / floor:8.2f}")
        rows[name] = row
        print(f"{name:20} {v['macs']:10,} {v['params']:9,} {cells[0]} {cells[1][2:]}  {VARIANTS[name][1]}")
    if args.json:
        args.json.write_text(json.dumps({"environment": env, "peak_gops": timed["peak_gops"], "variants": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
