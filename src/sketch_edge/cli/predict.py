"""`sketch-edge predict`: classify inputs with an exported file; TensorFlow-free (the predictor, its runtime,
numpy and Pillow load)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sketch_edge.cli.options import RUNNABLE, THREADS, TOP, Paths, registry_names

if TYPE_CHECKING:
    from sketch_edge.runtime import Predictor

NAME = "predict"
HELP = f"classify images, .npy bitmaps or .ndjson drawings with an {RUNNABLE} model"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from sketch_edge.runtime import RUNTIMES

    parser.add_argument("artifact", type=Path, help=f"an exported (or any) {RUNNABLE} file")
    parser.add_argument("inputs", type=Path, nargs="+", metavar="INPUT", help="image files, .npy bitmap files, .ndjson(.gz) drawing files")
    parser.add_argument("--top", type=TOP, default=3, help="classes shown per input (default: 3)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per input line instead of a table")
    parser.add_argument("--labels", type=Path, default=None, help="labels.txt, for model files without sketch-edge metadata")
    parser.add_argument("--skip-bad-lines", action="store_true", help="ndjson: skip malformed lines instead of failing")
    parser.add_argument("--threads", type=THREADS, default=1, help="runtime threads (default: 1)")
    parser.add_argument(
        "--deny-amx",
        action="store_true",
        help="deny this process Intel's AMX before the runtime loads (faster int8 LiteRT on AMX Xeons: docs/embedding.md)",
    )
    served = {name: spec for name, spec in RUNTIMES.items() if not spec.needs_tensorflow}  # what runs a predictor file
    parser.add_argument(
        "--runtime",
        default=None,
        choices=list(served),
        help=f"{registry_names(served)} (default: the first that runs the file's format)",
    )


def paths(args: argparse.Namespace) -> Paths:
    """It writes no files."""
    return Paths()


def run(args: argparse.Namespace) -> int:
    """Every input answered: a bad one is one error line and the others still get their row (exit 2 at the end)."""
    from sketch_edge.display import printable
    from sketch_edge.errors import SketchEdgeError
    from sketch_edge.quiet import without_native_info
    from sketch_edge.runtime import Predictor, deny_amx

    if args.deny_amx:
        deny_amx()
    rows: list[tuple[str, Any]] = []
    failed = 0
    with without_native_info():  # LiteRT's "INFO: Created ... XNNPACK delegate" line is not for users
        predictor = Predictor(args.artifact, labels=args.labels, threads=args.threads, runtime=args.runtime)
    with predictor:
        for path in args.inputs:
            try:
                rows += list(_predict_file(predictor, path, args))
            except SketchEdgeError as exc:
                failed += 1
                print(f"sketch-edge: error: {printable(exc)}", file=sys.stderr)
    _show(rows, predictor, args)
    return 2 if failed else 0


def _show(rows: list[tuple[str, Any]], predictor: Predictor, args: argparse.Namespace) -> None:
    if args.json:
        for name, top in rows:
            print(json.dumps({"input": name, "top": [{"label": label, "probability": round(p, 6)} for label, p in top]}))
        return
    from rich.console import Console
    from rich.table import Table

    from sketch_edge.display import markup

    table = Table(title=markup(f"{predictor.metadata.get('display_name', predictor.model_name)}: {args.artifact}"))
    table.add_column("input", overflow="fold")  # long paths wrap rather than lose the part that tells inputs apart
    for k in range(min(args.top, len(predictor.labels))):
        table.add_column(f"#{k + 1}")
    for name, top in rows:
        table.add_row(markup(name), *(markup(f"{label} {p:.1%}") for label, p in top))
    Console().print(table)


def _predict_file(predictor: Predictor, path: Path, args: argparse.Namespace) -> Iterator[tuple[str, Any]]:
    """(name, top pairs) for every item of one input file: each bitmap of an .npy (or its one bitmap), each drawing of an
    .ndjson, or the image."""
    from collections import Counter

    from sketch_edge.data.local import read_ndjson, read_npy_bitmaps
    from sketch_edge.errors import DataError
    from sketch_edge.runtime.predictor import CHUNK

    if not path.is_file():
        raise DataError(f"{path}: no such input file")
    items: Any
    if path.suffix == ".npy":
        items = read_npy_bitmaps(path, limit=None, single=True)
    elif path.name.endswith((".ndjson", ".ndjson.gz")):
        items = read_ndjson(path, None, recognized_only=False, skip_bad_lines=args.skip_bad_lines, skipped=Counter(), formats_seen=set())
        if not items:
            raise DataError(f"{path}: no drawings in it")
    else:
        yield str(path), predictor.predict(path, top=args.top)
        return
    for start in range(0, len(items), CHUNK):
        for offset, top in enumerate(predictor.predict(items[start : start + CHUNK], top=args.top)):
            yield f"{path}:{start + offset + 1}", top  # counted from 1, as an ndjson error names its line
