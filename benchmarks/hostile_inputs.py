"""Hostile or broken input files, each under 1 MB: accepted or refused, how fast, with how much memory.

    .venv/bin/python benchmarks/hostile_inputs.py [--json OUT.json]

Each case writes one file, then reads it in a fresh process the way the project does
(`load_source` for data folders, `open_image` + `bitmap_from_image` for images,
`read_metadata` for models, `Manifest.load`, `load_space`, a tune whose budget is spent,
the predictor on a drawing or on a file that fails when run, the CLI on a command line)
and reports the outcome (accepted, or the one-line error), the wall time and the
process's peak resident memory above its baseline after imports.
The project's rule: every such file is answered in under 5 s using under 500 MB.
A full disk and a kill at any moment are faults, not files: tests/test_faults.py and
tests/test_kills.py inject them.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

READER = """
import json, sys, time
import numpy as np
from pathlib import Path
from typing import Any
from sketch_edge.data import load_source
from sketch_edge.data.image import bitmap_from_image, open_image
from sketch_edge.errors import SketchEdgeError
from sketch_edge.formats import read_metadata
import PIL.Image

def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

kind, path = sys.argv[1], Path(sys.argv[2])
base = hwm()
started = time.perf_counter()
try:
    if kind == "folder":
        outcome = f"accepted ({len(load_source(str(path), skip_bad_lines=True))} drawings)"
    elif kind == "image":
        outcome = f"accepted (ink {int(bitmap_from_image(open_image(path)).sum())})"
    elif kind == "manifest":
        from sketch_edge.manifest import Manifest
        outcome = f"accepted ({len(Manifest.load(path).artifacts)} artifacts)"
    elif kind == "space":
        from sketch_edge.tune.space import load_space
        outcome = f"accepted ({load_space(path).size:,} points)"
    elif kind == "tune":
        from sketch_edge.data import DataRequest
        from sketch_edge.tune.space import load_space
        from sketch_edge.tune.stage import TuneConfig, run
        config = TuneConfig(DataRequest(per_class=20), load_space(path), path.parent / "out", budget_s=1e-9)
        outcome = f"accepted (counts {run(config, runner=lambda job, s: None).counts})"
    elif kind == "drawing":
        from sketch_edge.runtime.inputs import as_bitmaps
        outcome = f"accepted (ink {int(as_bitmaps(json.loads(path.read_text()))[0].sum())})"
    elif kind == "run":
        from sketch_edge.runtime import Predictor
        with Predictor(path, labels=["a", "b"]) as predictor:
            outcome = f"accepted ({predictor.predict(np.zeros((28, 28), np.uint8))})"
    elif kind == "cli":
        import contextlib, io as text_io
        from sketch_edge.cli import main
        err = text_io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(text_io.StringIO()):
            try:
                code = main(json.loads(path.read_text()))
            except SystemExit as exit:
                code = exit.code
        outcome = f"exit {code}: {err.getvalue().strip().splitlines()[-1][:200] if err.getvalue().strip() else ''}"
    else:
        outcome = f"accepted ({read_metadata(path)})"
except SketchEdgeError as exc:
    outcome = "refused: " + str(exc).replace(str(path if path.is_dir() else path.parent), "")
print(json.dumps({"outcome": outcome, "seconds": time.perf_counter() - started, "extra_mb": hwm() - base, "peak_mb": hwm()}))
"""


def zigzag(folder: Path, points: int) -> tuple[str, Path]:
    xs = np.linspace(0, 10_000, points).round(1).tolist()
    ys = [0.0 if i % 2 else 10_000.0 for i in range(points)]
    (folder / "cat.ndjson").write_text(json.dumps({"drawing": [[xs, ys, list(range(points))]]}) + "\n")
    return "folder", folder


def deep_json(folder: Path) -> tuple[str, Path]:
    (folder / "cat.ndjson").write_text('{"drawing": ' + "[" * 200_000 + "]" * 200_000 + "}\n")
    return "folder", folder


def corrupt_gz(folder: Path) -> tuple[str, Path]:
    line = json.dumps({"drawing": [[[0, 255, 255, 0], [0, 0, 255, 255]]]}) + "\n"
    packed = bytearray(gzip.compress((line * 20_000).encode()))
    packed[len(packed) // 2 : len(packed) // 2 + 16] = b"\xff" * 16
    (folder / "cat.ndjson.gz").write_bytes(bytes(packed))
    return "folder", folder


def gz_bomb(folder: Path, byte: bytes) -> tuple[str, Path]:
    """1 GB of one byte gzipped to about 1 MB: one endless line (b"a") or a billion empty lines (b"\\n")."""
    with gzip.open(folder / "cat.ndjson.gz", "wb", compresslevel=9) as out:
        for _ in range(1000):
            out.write(byte * (1 << 20))
    return "folder", folder


def npz_bomb(folder: Path) -> tuple[str, Path]:
    with zipfile.ZipFile(folder / "cat.npz", "w", zipfile.ZIP_DEFLATED) as archive, archive.open("train.npy", "w") as member:
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": (200 << 20,)})
        member.write(header.getvalue())
        for _ in range(800):
            member.write(bytes(1 << 20))
    return "folder", folder


def metadata_bomb(folder: Path) -> tuple[str, Path]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("sketch_edge.json", "w") as member:
        for _ in range(1000):
            member.write(b" " * (1 << 20))
    (folder / "m.tflite").write_bytes(b"TFL3" + bytes(60) + buffer.getvalue())
    return "model", folder / "m.tflite"


def image(folder: Path, size: tuple[int, int]) -> tuple[str, Path]:
    from PIL import Image

    picture = Image.new("L", size, 255)
    picture.paste(0, (size[0] // 4, size[1] // 4, max(size[0] // 4 + 1, 3 * size[0] // 4), max(size[1] // 4 + 1, 3 * size[1] // 4)))
    picture.save(folder / "sketch.png", optimize=True)
    return "image", folder / "sketch.png"


def written(kind: str, name: str, text: str) -> Callable[[Path], tuple[str, Path]]:
    def make(folder: Path) -> tuple[str, Path]:
        (folder / name).write_text(text)
        return kind, folder / name

    return make


def fifo(kind: str, name: str) -> Callable[[Path], tuple[str, Path]]:
    """A named pipe no one writes to: a reader that opens it plainly blocks forever."""

    def make(folder: Path) -> tuple[str, Path]:
        os.mkfifo(folder / name)
        return kind, folder / name

    return make


def command(argv: list[str]) -> Callable[[Path], tuple[str, Path]]:
    """A command line, `{d}` standing for the case's folder (made with a teacher-like subfolder `a`)."""

    def make(folder: Path) -> tuple[str, Path]:
        (folder / "a").mkdir()
        (folder / "argv.json").write_text(json.dumps([arg.format(d=folder) for arg in argv]))
        return "cli", folder / "argv.json"

    return make


def fails_when_run(folder: Path) -> tuple[str, Path]:
    """An ONNX file that loads but fails in its Gather node when run (an index past the input)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [
            helper.make_node("Flatten", ["image"], ["flat"]),
            helper.make_node("Gather", ["flat", "index"], ["picked"], axis=1, name="hostile_gather"),
            helper.make_node("Softmax", ["picked"], ["probabilities"], axis=1),
        ],
        "damaged",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 28, 28, 1])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 2])],
        initializer=[numpy_helper.from_array(np.array([0, 5000], dtype=np.int64), "index")],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(folder / "m.onnx"))
    return "run", folder / "m.onnx"


LIMIT = json.dumps(
    {"family": "edge-cnn", "params": {"width": list(range(8, 108)), "depth": list(range(1, 11)), "dropout": [i / 100 for i in range(100)]}}
)
MILLION = json.dumps(
    {"family": "edge-cnn", "params": {"width": list(range(8, 108)), "depth": list(range(1, 101)), "dropout": [i / 100 for i in range(100)]}}
)


CASES: dict[str, Callable[[Path], tuple[str, Path]]] = {
    "manifest.json that is a named pipe": fifo("manifest", "manifest.json"),
    "search space that never ends (/dev/zero)": lambda f: ("space", Path("/dev/zero")),
    "search space nested 100,000 deep": written("space", "space.json", "[" * 100_000 + "]" * 100_000),
    "tune of 100,000 points (the limit), budget spent": written("tune", "space.json", LIMIT),
    "search space of 1,000,000 points": written("space", "space.json", MILLION),
    "raw drawing whose extent overflows": written(
        "drawing", "d.json", json.dumps({"drawing": [[[0, 1e308, -1e308], [0, 1e308, 1], [0, 1, 2]]]})
    ),
    ".onnx that fails in a node when run": fails_when_run,
    "train --out over its --teacher": command(["train", "--teacher", "{d}/a", "--out", "{d}/a"]),
    "web --out over its artifacts": command(["web", "--artifacts", "{d}/a", "--out", "{d}/a"]),
    "verify-arm --cpus a name 1,000 times": command(["verify-arm", "--artifacts", "{d}/a", "--cpus", ",".join(["cortex-a55"] * 1000)]),
    "train --temperature 1e-310": command(["train", "--teacher", "{d}/a", "--temperature", "1e-310"]),
    "train --temperature 1e300": command(["train", "--teacher", "{d}/a", "--temperature", "1e300"]),
    "raw zigzag, 10,000 points": lambda f: zigzag(f, 10_000),
    "raw zigzag, 20,000 points": lambda f: zigzag(f, 20_000),
    "raw zigzag, 48,000 points": lambda f: zigzag(f, 48_000),
    "ndjson nested 200,000 deep": deep_json,
    "ndjson.gz corrupted mid-stream": corrupt_gz,
    "ndjson.gz of one 1 GB line": lambda f: gz_bomb(f, b"a"),
    "ndjson.gz of 1e9 empty lines": lambda f: gz_bomb(f, b"\n"),
    "sketch-rnn .npz inflating to 800 MB": npz_bomb,
    "TFLite metadata inflating to 1 GB": metadata_bomb,
    "PNG 50,000,000 x 1": lambda f: image(f, (50_000_000, 1)),
    "PNG 12,000 x 4,000": lambda f: image(f, (12_000, 4_000)),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    rows: dict[str, dict[str, Any]] = {}
    for name, make in CASES.items():
        with tempfile.TemporaryDirectory() as scratch:
            kind, path = make(Path(scratch))
            size = sum(p.stat().st_size for p in Path(scratch).iterdir())
            done = subprocess.run([sys.executable, "-c", READER, kind, str(path)], capture_output=True, text=True, timeout=600)
            if done.returncode != 0:
                rows[name] = {"bytes": size, "outcome": f"CRASHED: {done.stderr.strip().splitlines()[-1:]}"}
            else:
                rows[name] = {"bytes": size, **json.loads(done.stdout)}
        r = rows[name]
        shown = f"{r['seconds']:6.2f} s {r['extra_mb']:7.1f} MB" if "seconds" in r else ""
        print(f"{name:50} {r['bytes'] / 1024:8.1f} kB {shown}  {r['outcome'][:110]}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
