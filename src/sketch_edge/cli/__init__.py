"""The `sketch-edge` command: a thin layer over the library, one module per sub-command.

Each command module has `NAME`, `HELP`, `add_arguments(parser)`, `paths(args)` (what it reads
and writes, checked apart before it runs) and `run(args)`;
`COMMANDS` lists them in the order `--help` shows. This file is the one place
that maps errors to exit codes: a `SketchEdgeError` prints as one line and exits
with its code (2 for bad input; 3 a failed bench gate; 4 an incomplete bench).
Heavy libraries are imported inside each command, so `--help` stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from types import ModuleType

from sketch_edge.cli import bench, compare, data, export, models, predict, train, tune, verify_arm, web
from sketch_edge.cli.options import Paths
from sketch_edge.display import printable
from sketch_edge.errors import SketchEdgeError
from sketch_edge.fileio import WRITE_ERRNOS, refuse_overlap, write_failure

COMMANDS: tuple[ModuleType, ...] = (data, models, train, export, verify_arm, bench, compare, tune, predict, web)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's C++ start-up chatter is not for users
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # local workers rerun the same command
    try:
        refuse_overlaps(args.paths(args))
        code: int = args.run(args)
        return code
    except SketchEdgeError as exc:
        print(f"sketch-edge: error: {printable(exc)}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:  # a write outside the atomic writer (a library's own save): the same one line
        if exc.errno not in WRITE_ERRNOS:
            raise
        failure = write_failure(Path(exc.filename or "."), exc)
        print(f"sketch-edge: error: {printable(failure)}", file=sys.stderr)
        return failure.exit_code
    except KeyboardInterrupt:
        print("sketch-edge: interrupted; nothing half-written was left behind", file=sys.stderr)
        return 130


def refuse_overlaps(paths: Paths) -> None:
    """Before any work: no output of a command may hold, equal or lie inside what it reads (nor the reverse)."""
    for flag, out in paths.writes.items():
        refuse_overlap(out, paths.reads, flag)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sketch-edge", description="Train, export, bench and embed a Quick, Draw! sketch classifier.")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_arguments(sub.add_parser(command.NAME, help=command.HELP))
        sub.choices[command.NAME].set_defaults(run=command.run, paths=command.paths)
    return parser
