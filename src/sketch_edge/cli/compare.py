"""`sketch-edge compare`: several benched models on one table and one accuracy-latency plot."""

from __future__ import annotations

import argparse
from pathlib import Path

from sketch_edge.cli.options import BATCH, THREADS, Paths, repeated

NAME = "compare"
HELP = "several benched models (bitmap and stroke) on one table and one Pareto plot"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("artifacts", type=Path, nargs="+", metavar="ARTIFACTS", help="artifacts folders, each benched, same test drawings")
    parser.add_argument("--out", type=Path, default=Path("compare"), help="folder for compare.md/.json/.png (default: compare)")
    parser.add_argument("--threads", type=THREADS, default=1, help="the cells' thread count (default: 1)")
    parser.add_argument("--batch", type=BATCH, default=1, help="the cells' batch size (default: 1)")


def paths(args: argparse.Namespace) -> Paths:
    from sketch_edge.layout import Layout

    return Paths(reads=repeated("ARTIFACTS", [Layout(a).bench for a in args.artifacts]), writes={"--out": args.out})


def run(args: argparse.Namespace) -> int:
    from sketch_edge.bench.compare import COLUMNS, compare, table_rows
    from sketch_edge.reporting import print_table

    summary = compare(args.artifacts, args.out, threads=args.threads, batch=args.batch)
    print_table(COLUMNS, table_rows(summary), f"{args.out / 'compare.md'}: {summary['threads']} thread(s), batch {summary['batch']}")
    return 0
