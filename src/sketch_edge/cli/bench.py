"""`sketch-edge bench`: every artifact on every runtime; the table, results.json and report.md; the user's gates."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sketch_edge.cli.options import (
    BATCH_LIST,
    DEFAULT_ARTIFACTS,
    DURATION,
    FRACTION,
    MICROSECONDS,
    REPEAT,
    RUNNABLE,
    THREAD_LIST,
    Paths,
    add_own_data_options,
    data_path,
    names,
    optional_path,
    own_data_flags,
    registry_names,
    repeated,
    skipped_note,
    step_printer,
)

if TYPE_CHECKING:
    from sketch_edge.export.files import FilesConfig

NAME = "bench"
HELP = "accuracy, latency, throughput, memory and size of every artifact on every runtime"


def recipe_limit(text: str) -> tuple[str, float]:
    recipe, eq, limit = text.partition("=")
    if not recipe or not eq:
        raise argparse.ArgumentTypeError(f"expected RECIPE=MICROSECONDS, got {text!r}")
    return recipe, MICROSECONDS(limit)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from sketch_edge.runtime import RUNTIMES

    parser.add_argument(
        "--artifacts", type=Path, default=DEFAULT_ARTIFACTS, help="folder holding model.keras and export/ (default: artifacts)"
    )
    parser.add_argument(
        "--model",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help=f"a {RUNNABLE} file made elsewhere, benched on --data's images into --artifacts (repeatable; "
        "the first float file is the reference the others are compared with)",
    )
    add_own_data_options(parser)
    parser.add_argument(
        "--recipes", type=names, default=None, help="comma-separated recipes, 'keras' for the Keras model (default: all ok)"
    )
    parser.add_argument(
        "--runtimes", type=names, default=None, help=f"comma-separated: {registry_names(RUNTIMES)} (default: all installed)"
    )
    parser.add_argument("--repeat", type=REPEAT, default=1, help="timing rounds per cell, each in a fresh process (default: 1)")
    parser.add_argument("--pin", action="store_true", help="run single-thread cells and peaks on one core")
    parser.add_argument("--no-profile", action="store_true", help="skip the per-operator profile of ONNX Runtime cells")
    parser.add_argument(
        "--amx-twins",
        choices=("auto", "yes", "no"),
        default="auto",
        help="also run each batch-1 one-thread cell with AMX denied to its process (auto: where the CPU has AMX, not with --quick)",
    )
    parser.add_argument("--min-top1", type=FRACTION, default=None, help="exit 3, naming the cell, if any cell's test top-1 is below this")
    parser.add_argument(
        "--max-p50-us",
        type=recipe_limit,
        action="append",
        default=[],
        metavar="RECIPE=US",
        help="exit 3, naming the cell, if a batch-1 cell of RECIPE has a p50 above US microseconds (repeatable)",
    )
    parser.add_argument(
        "--threads", type=THREAD_LIST, default=(), help="comma-separated thread counts, each at every --batch (default: see --full)"
    )
    parser.add_argument("--batch", type=BATCH_LIST, default=(), help="comma-separated batch sizes, each at every --threads")
    parser.add_argument(
        "--full",
        action="store_true",
        help="1 thread and all cores, each at batch 1 and 64, 2 s per cell (default: batch 1 on 1 thread and batch 64 on all cores, 1 s)",
    )
    parser.add_argument("--duration", type=DURATION, default=None, help="least seconds of timed calls per cell (default: 1, 2 with --full)")
    parser.add_argument("--quick", action="store_true", help="few calls and a tenth of the test split (for smoke tests)")
    parser.add_argument("--baseline", type=Path, default=None, help="an earlier results.json: show each figure's ratio to it")


def paths(args: argparse.Namespace) -> Paths:
    """With --model, the files and images made into --artifacts; else ARTIFACTS/bench is written (an earlier
    results.json there given as --baseline would be replaced by the run it is compared with)."""
    from sketch_edge.layout import Layout

    baseline = optional_path("--baseline", args.baseline)
    if not args.model:
        return Paths(reads=baseline, writes={"--artifacts": Layout(args.artifacts).bench})
    reads = repeated("--model", args.model) | data_path(args.data) | optional_path("--labels", args.labels) | baseline
    return Paths(reads=reads, writes={"--artifacts": args.artifacts})


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from sketch_edge.amx import has_amx
    from sketch_edge.bench import answer_table, report
    from sketch_edge.bench.gates import check_complete, check_gates
    from sketch_edge.bench.plan import BenchConfig
    from sketch_edge.bench.stage import run as bench
    from sketch_edge.display import markup
    from sketch_edge.reporting import print_table
    from sketch_edge.runtime import RUNTIMES

    baseline = report.load_baseline(args.baseline) if args.baseline else None
    files = _files_config(args)
    if files is not None:
        _take(files, Console(stderr=True))
    config = BenchConfig(
        artifacts=args.artifacts,
        recipes=tuple(args.recipes or ()),
        runtimes=tuple(args.runtimes or RUNTIMES),
        threads=tuple(args.threads),
        batches=tuple(args.batch),
        full=args.full,
        duration_s=args.duration or (2.0 if args.full else 1.0),
        quick=args.quick,
        repeat=args.repeat,
        pin=args.pin,
        profile=not args.no_profile,
        deny_amx=args.amx_twins == "yes" or (args.amx_twins == "auto" and has_amx() and not args.quick),
    )
    started = time.perf_counter()
    results, latencies = bench(config, step_printer("bench"))
    header, rows = report.table_rows(results, baseline)
    out = config.layout.bench
    report.write_all(results, latencies, out, baseline)
    print_table(header, rows, f"{out / 'results.json'} {report.TITLE}", keys=2)
    console = Console(soft_wrap=True)
    console.print(markup(report.peaks_line(results)))
    for note in report.noise_notes(results):
        console.print(markup(note))
    console.print(markup(f"benched {len(rows)} cells in {time.perf_counter() - started:.0f} s; report: {out / 'report.md'}"))
    if results.answers:  # last, so it is the screen the run leaves
        print_table(answer_table.HEADER, answer_table.rows(results.answers), "Which file to ship (why, and the cells as good: report.md)")
    check_gates(results, args.min_top1, dict(args.max_p50_us))
    check_complete(results.results)
    return 0


def _files_config(args: argparse.Namespace) -> FilesConfig | None:
    """`--model` files with `--data`: taken into the artifacts folder first (`export.files`)."""
    from sketch_edge.errors import ModelError
    from sketch_edge.export.files import FilesConfig
    from sketch_edge.models.contract import parse_range

    given = own_data_flags(args)
    if not args.model:
        if given:
            raise ModelError(f"{given[0]} goes with --model FILE (a {RUNNABLE} file made elsewhere)")
        return None
    if args.data is None:
        raise ModelError(f"{args.model[0]}: --model needs --data FOLDER (your images, one subfolder per class)")
    input_range = parse_range(args.input_range) if args.input_range else None
    return FilesConfig(files=tuple(args.model), data=args.data, out=args.artifacts, labels=args.labels, input_range=input_range)


def _take(config: FilesConfig, console: Any) -> None:
    from sketch_edge.display import markup
    from sketch_edge.export.files import take

    manifest = take(config, lambda line: console.print(markup(line)))
    if manifest.reused:
        console.print(f"{markup(str(config.out))}: already holds these files, taken with the same options")
        return
    source = manifest.source
    kinds = ", ".join(f"{markup(a.name)} ({markup(a.format)} {markup(a.precision)})" for a in manifest.artifacts)
    console.print(
        f"{kinds}; input {markup(source.input['description'])}; reference {markup(source.model)}: top-1 "
        f"{source.keras_test_top1:.4f} on {len(source.labels)} classes" + skipped_note(source.data)
    )
