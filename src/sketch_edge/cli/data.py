"""`sketch-edge data`: what a data source holds, and a PNG of sample bitmaps."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sketch_edge.cli.options import DEFAULT_ARTIFACTS, Paths, add_data_options, data_path, data_request
from sketch_edge.display import markup

NAME = "data"
HELP = "summarise a data source and save sample bitmaps"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_data_options(parser)
    parser.add_argument("--out", type=Path, default=DEFAULT_ARTIFACTS, help="folder for data_samples.png (default: artifacts)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def paths(args: argparse.Namespace) -> Paths:
    return Paths(reads=data_path(args.data), writes={"--out": args.out})


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from sketch_edge.data.summary import describe, save_sample_grid
    from sketch_edge.reporting import print_table

    data = data_request(args).load()
    summary = describe(data)
    grid = args.out / "data_samples.png"
    save_sample_grid(data, grid)
    summary["samples_png"] = str(grid)
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    console = Console()
    console.print(
        f"[bold]{markup(summary['source'])}[/]: {markup(summary['format'])}; {summary['drawings']} drawings in "
        f"{summary['classes']} classes; inputs: {', '.join(summary['input_kinds'])}"
    )
    if summary["skipped"]:
        console.print("skipped: " + ", ".join(f"{n} ({markup(why)})" for why, n in summary["skipped"].items()))
    print_table(("class", "drawings"), [(name, str(count)) for name, count in summary["per_class"].items()], "")
    console.print(f"sample bitmaps: {markup(grid)}")
    return 0
