"""`sketch-edge tune`: candidates of a search space trained, exported to int8 and benched; the front and a pick."""

from __future__ import annotations

import argparse
from pathlib import Path

from sketch_edge.cli.options import (
    COUNT,
    DEFAULT_ARTIFACTS,
    MICROSECONDS,
    MINUTES,
    Paths,
    add_data_options,
    add_teacher_options,
    data_path,
    data_request,
    optional_path,
    repeated,
    step_printer,
    teaching_of,
)

NAME = "tune"
HELP = "train, export and bench candidate models of a search space: accuracy against int8 latency"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from sketch_edge.tune.stage import DEFAULT_TARGET, targets

    add_data_options(parser)
    parser.add_argument("--budget-minutes", type=MINUTES, default=10.0, help="total time for every candidate (default: 10)")
    parser.add_argument(
        "--target",
        default=DEFAULT_TARGET,
        help=f"runtime the int8 artifacts are timed on: {', '.join(targets())} (default: {DEFAULT_TARGET})",
    )
    parser.add_argument("--space", type=Path, default=None, help="search space JSON file (default: the built-in edge-cnn space)")
    parser.add_argument("--candidates", type=COUNT, default=None, help="at most this many candidates (default: until the budget)")
    parser.add_argument("--max-p50-us", type=MICROSECONDS, default=None, help="recommend the best model within this int8 p50 latency")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_ARTIFACTS, help="artifacts folder; the tune writes to OUT/tune (default: artifacts)"
    )
    add_teacher_options(parser)


def paths(args: argparse.Namespace) -> Paths:
    space = optional_path("--space", args.space)
    return Paths(reads=data_path(args.data) | space | repeated("--teacher", args.teacher), writes={"--out": args.out})


def run(args: argparse.Namespace) -> int:
    from sketch_edge.errors import IncompleteError
    from sketch_edge.fileio import check_writable
    from sketch_edge.layout import REPORT, Layout
    from sketch_edge.models import get_model_spec, short_name
    from sketch_edge.reporting import print_table
    from sketch_edge.train.distill import check_teachers
    from sketch_edge.tune.report import COLUMNS, table_rows, write_all
    from sketch_edge.tune.results import TuneRow
    from sketch_edge.tune.space import load_space
    from sketch_edge.tune.stage import TuneConfig, target_recipes
    from sketch_edge.tune.stage import run as tune

    target_recipes(args.target)  # a wrong target, space, data or --out fails now, not after the first candidate
    space = load_space(args.space)
    request = data_request(args)
    source = request.open()
    check_writable(args.out)
    teaching = teaching_of(args, Layout(args.out).tune)
    if teaching:  # a teacher that cannot teach fails now, not in every candidate
        check_teachers(teaching, request, source, get_model_spec(space.family).input_kind)
    config = TuneConfig(request, space, args.out, args.budget_minutes * 60, args.target, args.candidates, args.max_p50_us, teaching)

    step = step_printer("tune")
    most = space.size if config.limit is None else min(config.limit, space.size)  # the budget may stop it sooner
    tried: list[TuneRow] = []

    def progress(row: TuneRow) -> None:
        if row.status != "not run":
            tried.append(row)
            result = row.result
            best = result.best if result else None
            figures = f"val top-1 {result.val_top1:.4f}, int8 p50 {best.p50_us:.1f} us" if result and best and best.p50_us else row.reason
            step(len(tried), most, f"{row.status} {short_name(row.model)}: {figures or ''}")

    summary = tune(config, progress)
    out = config.layout.tune
    write_all(summary, out)
    print_table(COLUMNS, table_rows(summary), str(out / REPORT))
    rec = summary.recommended
    print(f"recommended: #{rec.number} {rec.model}" if rec.number else f"no recommendation: {rec.reason}")
    if not summary.counts.get("ok"):
        raise IncompleteError(f"no candidate finished; {out / 'report.md'} says why")
    return 0
