"""Would another OpenVINO setting change its place in the bench? Batch-1, one-thread p50 of each setting.

    .venv/bin/python benchmarks/openvino_settings.py [ARTIFACTS] [--recipes onnx-fp32,onnx-int8,tflite-int8] [--rounds 3]

The bench compiles every OpenVINO model with the adapter's settings
(`sketch_edge.runtime.openvino.CONFIG`: latency hint, one stream, f32 inference
precision, one thread). Here each artifact is also compiled with OpenVINO's own
defaults, with bf16 inference precision (its default on CPUs with bf16
instructions), and with the throughput hint, all at one thread, in interleaved
rounds in one process pinned to one core; each setting's best-round p50, its ratio
to the adapter's, and its top-1 agreement with the adapter's outputs on the test
drawings (bf16 changes the arithmetic, so it can change answers).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from sketch_edge.bench.machine import environment
from sketch_edge.bench.timing import time_calls
from sketch_edge.data.saved_split import SavedSplit
from sketch_edge.isolation import cpu_affinity, pin_to_core
from sketch_edge.layout import Layout
from sketch_edge.manifest import Manifest, resolve
from sketch_edge.runtime.openvino import CONFIG, OpenVINORunner, compile_model, read_model

SETTINGS: dict[str, dict[str, str]] = {
    "adapter": CONFIG,
    "openvino defaults": {},
    "bf16 precision": CONFIG | {"INFERENCE_PRECISION_HINT": "bf16"},
    "throughput hint": {"PERFORMANCE_HINT": "THROUGHPUT", "INFERENCE_PRECISION_HINT": "f32"},
}


def runner(path: Path, settings: dict[str, str]) -> OpenVINORunner:
    """The adapter (its input quantization and outputs), around a model compiled with these settings."""
    return OpenVINORunner(compile_model(read_model(path), 1, settings), path, metadata=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("artifacts", type=Path, nargs="?", default=Path("artifacts"))
    parser.add_argument("--recipes", default="onnx-fp32,onnx-int8,tflite-int8")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    layout = Layout(args.artifacts)
    manifest = Manifest.load(layout.manifest)
    test = SavedSplit.load(layout.split).test_x.astype(np.float32)
    pin_to_core(max(cpu_affinity()))
    rows: list[dict[str, Any]] = []
    for name in args.recipes.split(","):
        path = resolve(layout.export, manifest.artifact(name))
        runners = {setting: runner(path, config) for setting, config in SETTINGS.items()}
        answers = {
            s: np.concatenate([r.predict(test[i : i + 64]) for i in range(0, len(test), 64)]).argmax(axis=1) for s, r in runners.items()
        }
        prepared = {s: r.prepare(test[:1]) for s, r in runners.items()}
        best = {s: np.inf for s in runners}
        for _ in range(args.rounds):
            for s, r in runners.items():
                latencies = time_calls(lambda r=r, x=prepared[s]: r.run(x), min_calls=1000, min_seconds=1.0, warmup_seconds=0.3)
                best[s] = min(best[s], float(np.percentile(latencies, 50)))
        for s in runners:
            rows.append(
                {
                    "recipe": name,
                    "setting": s,
                    "p50_us": best[s],
                    "vs_adapter": best[s] / best["adapter"],
                    "agreement_with_adapter": float((answers[s] == answers["adapter"]).mean()),
                }
            )
    print(f"{'recipe':12} {'setting':18} {'p50 us':>8} {'vs adapter':>10} {'agreement':>9}")
    for r in rows:
        print(f"{r['recipe']:12} {r['setting']:18} {r['p50_us']:8.1f} {r['vs_adapter']:9.2f}x {r['agreement_with_adapter']:9.4f}")
    flags = list(environment(("openvino",)).cpu_flags)
    print(f"CPU flags: {', '.join(flags)}")
    if args.json:
        args.json.write_text(json.dumps({"cpu_flags": flags, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
