"""Hostile or broken input files, each under 1 MB: accepted or refused, how fast, with how much memory.

    .venv/bin/python benchmarks/hostile_inputs.py [--json OUT.json]

Each case writes one file, then reads it in a fresh process the way the project does
(`load_source` for data folders, `open_image` + `bitmap_from_image` for images,
`read_metadata` for models) and reports the outcome (accepted, or the one-line error),
the wall time and the process's peak resident memory above its baseline after imports.
The project's rule: every such file is answered in under 5 s using under 500 MB.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
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


CASES: dict[str, Callable[[Path], tuple[str, Path]]] = {
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
        print(f"{name:38} {r['bytes'] / 1024:8.1f} kB {shown}  {r['outcome'][:110]}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
