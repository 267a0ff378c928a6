"""What several commands share: bounded option types, the data options, and the data request they give."""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from sketch_edge import numbers
from sketch_edge.display import markup, printable
from sketch_edge.formats import suffix_list

if TYPE_CHECKING:
    from sketch_edge.data import DataRequest
    from sketch_edge.train.distill import Teaching

DEFAULT_ARTIFACTS = Path("artifacts")


@dataclass(frozen=True, kw_only=True)
class Paths:
    """What a command reads and what it writes, known from its options before it runs: `cli.main` refuses an output
    that holds, equals or lies inside an input (or the reverse) before any work, for every command alike."""

    reads: dict[str, Path] = field(default_factory=dict)  # by the option that names it ("--teacher 2")
    writes: dict[str, Path] = field(default_factory=dict)


BAR = 20
"""Characters of the progress bar drawn on a terminal."""


def step_printer(stage: str, stream: TextIO | None = None) -> Callable[[int, int, str], None]:
    """A long stage's progress on stderr as it happens. On a terminal, one line redrawn in place: a bar, the count and
    the last step, cut to the terminal's width; elsewhere (a CI log, a pipe), one line a step ("export 3/17 onnx-int8:
    ok"), which a log keeps whole."""

    def say(done: int, total: int, what: str) -> None:
        out = stream or sys.stderr
        line = f"{stage} {done}/{total} {printable(what)}"
        if not out.isatty():
            print(line, file=out, flush=True)
            return
        filled = BAR * done // max(total, 1)
        width = shutil.get_terminal_size().columns - 1
        drawn = f"{stage} [{'#' * filled}{'.' * (BAR - filled)}] {done}/{total} {printable(what)}"[:width]
        print(f"\r{drawn}\x1b[K", end="\n" if done >= total else "", file=out, flush=True)

    return say


def data_path(spec: str | Path | None) -> dict[str, Path]:
    """`--data` as a path the command reads, when it names one (not 'synthetic' nor a 'tfds:' source)."""
    if spec is None or str(spec) == "synthetic" or str(spec).startswith("tfds:"):
        return {}
    return {"--data": Path(spec).expanduser()}


def optional_path(flag: str, path: Path | None) -> dict[str, Path]:
    """An optional path option as {flag: path}, or {} when it was not given."""
    return {flag: path} if path is not None else {}


def repeated(flag: str, paths: list[Path]) -> dict[str, Path]:
    """A repeatable option's paths, each named apart: {"--teacher": a} or {"--teacher 1": a, "--teacher 2": b}."""
    return {flag if len(paths) == 1 else f"{flag} {i + 1}": path for i, path in enumerate(paths)}


# Option types: every number from the command line bounded and finite (numbers.py says why).
COUNT = numbers.option(lo=1, hi=numbers.MAX_COUNT, integer=True)
BATCH = numbers.option(lo=1, hi=numbers.MAX_BATCH, integer=True)
THREADS = numbers.option(lo=1, hi=numbers.MAX_THREADS, integer=True)
REPEAT = numbers.option(lo=1, hi=100, integer=True)
SECONDS = numbers.option(lo=1, hi=numbers.MAX_SECONDS)
PORT = numbers.option(lo=0, hi=65535, integer=True)
FRACTION = numbers.option(lo=0, hi=1)
POINTS = numbers.option(lo=0, hi=100)
MICROSECONDS = numbers.option(lo=1e-3, hi=1e9)
THREAD_LIST = numbers.option_list(lo=1, hi=numbers.MAX_THREADS, integer=True)
BATCH_LIST = numbers.option_list(lo=1, hi=numbers.MAX_BATCH, integer=True)
DURATION = numbers.option(lo=0.01, hi=3600)
MINUTES = numbers.option(lo=0.01, hi=numbers.MAX_SECONDS / 60)
TOP = numbers.option(lo=1, hi=100_000, integer=True)
SEED = numbers.option(lo=0, hi=numbers.MAX_SEED, integer=True)
WORKERS = numbers.option(lo=1, hi=64, integer=True)


MAX_NAMES = 1000
"""Names one option takes: every QuickDraw class (345) fits; a list a thousand names long is a mistake or an attack."""


def names(text: str) -> list[str]:
    """A comma-separated list of names (classes, recipes, runtimes, CPUs), each once, in the order given: a name
    repeated does its work once."""
    found = list(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    if not found:
        raise argparse.ArgumentTypeError("give at least one name")
    if len(found) > MAX_NAMES:
        raise argparse.ArgumentTypeError(f"{len(found):,} names given; at most {MAX_NAMES:,}")
    return found


def registry_names(registry: dict[str, Any]) -> str:
    """The names a registry holds, for an option's help: built from the registry, so help never goes stale."""
    return ", ".join(registry)


RUNNABLE = suffix_list(lambda file_format: file_format.graph_facts is not None)
"""The files a runtime opens and the predictor, bench --model and verify-arm take (not the Keras model)."""


def add_own_data_options(parser: argparse.ArgumentParser) -> None:
    """--data, --labels and --input-range: the user's images and what the user's model reads (with --model)."""
    parser.add_argument(
        "--data", type=Path, default=None, metavar="FOLDER", help="with --model: a folder with one subfolder of images per class"
    )
    parser.add_argument("--labels", type=Path, default=None, metavar="FILE", help="with --model: the model's class order, one name a line")
    parser.add_argument(
        "--input-range",
        default=None,
        metavar="LO,HI",
        help="with --model: what pixel 0 and pixel 255 become for the model, when it does not say itself; "
        "write it with '=' (--input-range=-1,1), as a value starting with '-' would be read as an option",
    )


def own_data_flags(args: argparse.Namespace) -> list[str]:
    """The --data, --labels, --input-range options given: they go with --model."""
    return [flag for flag, value in (("--data", args.data), ("--labels", args.labels), ("--input-range", args.input_range)) if value]


def add_data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data", default="synthetic", help="'synthetic' (default), a folder of QuickDraw files, or 'tfds:quickdraw_bitmap'"
    )
    parser.add_argument("--classes", type=names, default=None, help="comma-separated class subset, e.g. 'cat,The Eiffel Tower'")
    parser.add_argument("--per-class", type=COUNT, default=None, help="at most this many drawings per class")
    parser.add_argument("--recognized-only", action="store_true", help="ndjson: keep only drawings with recognized: true")
    parser.add_argument("--skip-bad-lines", action="store_true", help="ndjson: skip malformed lines (counted) instead of failing")
    parser.add_argument("--seed", type=SEED, default=0, help="seed for synthetic data, splits and training (default: 0)")
    parser.add_argument("--tfds-data-dir", default=None, help="TFDS data dir holding a prepared quickdraw_bitmap")
    parser.add_argument("--tfds-download", action="store_true", help="let TFDS download and prepare quickdraw_bitmap (tens of GB)")


def data_request(args: argparse.Namespace) -> DataRequest:
    from sketch_edge.data import DataRequest

    # A folder is recorded absolute, so later stages reload the same drawings from any working directory.
    source = (
        args.data
        if args.data == "synthetic" or args.data.startswith("tfds:") or not Path(args.data).exists()
        else str(Path(args.data).resolve())
    )
    return DataRequest(
        source=source,
        classes=tuple(args.classes) if args.classes else None,
        per_class=args.per_class,
        recognized_only=args.recognized_only,
        skip_bad_lines=args.skip_bad_lines,
        seed=args.seed,
        tfds_data_dir=args.tfds_data_dir,
        tfds_download=args.tfds_download,
        **({"eval_per_class": args.eval_per_class} if getattr(args, "eval_per_class", None) else {}),
    )


def skipped_note(description: dict[str, Any]) -> str:
    """ "; skipped 3 images that do not decode, ..." for a summary line (markup-safe), or "" when nothing was skipped."""
    skipped = description.get("skipped") or {}
    return f"; skipped {', '.join(f'{n} {markup(why)}' for why, n in skipped.items())}" if skipped else ""


def warn_skipped(description: dict[str, Any]) -> None:
    for why, count in description.get("skipped", {}).items():
        print(f"sketch-edge: warning: skipped {count} drawing(s) of {printable(description['source'])}: {printable(why)}", file=sys.stderr)


def add_teacher_options(parser: argparse.ArgumentParser) -> None:
    """`train` and `tune` distil alike."""
    from sketch_edge.train.distill import DEFAULT_MIX, DEFAULT_TEMPERATURE

    parser.add_argument(
        "--teacher",
        type=Path,
        action="append",
        default=[],
        help="distil from the model trained in this folder on the same drawings (any input kind); "
        "repeat for an ensemble, whose probabilities are averaged",
    )
    parser.add_argument(
        "--temperature",
        type=float,
        default=None,
        help=f"softens the teachers' and the student's probabilities in the distillation term (default: {DEFAULT_TEMPERATURE:g})",
    )
    parser.add_argument("--mix", type=float, default=None, help=f"the teachers' share of the loss, in (0, 1] (default: {DEFAULT_MIX:g})")
    parser.add_argument(
        "--consistent",
        action="store_true",
        help="run the teachers on the student's own augmented batch at every step instead of once on the plain drawings "
        "(slower; the teachers must read the student's input kind)",
    )


def teaching_of(args: argparse.Namespace, cache: Path) -> Teaching | None:
    """`--teacher`, `--temperature`, `--mix` and `--consistent` as one request; a TeacherError if a number is out of range.

    `cache` is where the teachers' targets are kept (the student's folder; the tune's, for all its candidates)."""
    from sketch_edge.errors import TeacherError
    from sketch_edge.train.distill import DEFAULT_MIX, DEFAULT_TEMPERATURE, Teaching

    if not args.teacher:
        if args.temperature is not None or args.mix is not None or args.consistent:
            raise TeacherError("--temperature, --mix and --consistent set how a student learns from its teachers: give --teacher DIR too")
        return None
    temperature = DEFAULT_TEMPERATURE if args.temperature is None else args.temperature
    mix = DEFAULT_MIX if args.mix is None else args.mix
    return Teaching(tuple(map(str, args.teacher)), temperature, mix, None if args.consistent else str(cache), args.consistent)
