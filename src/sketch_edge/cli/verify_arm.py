"""`sketch-edge verify-arm`: the exported files run on emulated Arm cores and compared with x86, kept in the manifest."""

from __future__ import annotations

import argparse
from pathlib import Path

from sketch_edge.cli.options import COUNT, DEFAULT_ARTIFACTS, Paths, names, step_printer
from sketch_edge.display import markup
from sketch_edge.formats import suffix_list
from sketch_edge.numbers import option

NAME = "verify-arm"
EMULATED = suffix_list(lambda file_format: file_format.emulated)
HELP = f"run every exported {EMULATED} file on emulated Arm CPUs (qemu) and compare with x86"
STEPS = option(lo=0, hi=255)
DIFF = option(lo=0, hi=1)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from sketch_edge.arm.qemu import CPUS, DEFAULT_CPUS
    from sketch_edge.export.arm import FLOAT_SAMPLES, MAX_ABS_DIFF, MAX_STEPS

    add = parser.add_argument
    add("--artifacts", type=Path, default=DEFAULT_ARTIFACTS, help="folder exported by `sketch-edge export` (default: artifacts)")
    add(
        "--cpus",
        type=names,
        default=list(DEFAULT_CPUS),
        help=f"qemu CPU models (default: {','.join(DEFAULT_CPUS)}; known: {', '.join(CPUS)})",
    )
    add("--recipes", type=names, default=None, help=f"comma-separated artifacts (default: every ok {EMULATED} file)")
    add("--float-samples", type=COUNT, default=FLOAT_SAMPLES, help=f"test drawings a float file runs on (default: {FLOAT_SAMPLES})")
    add(
        "--max-steps", type=STEPS, default=MAX_STEPS, help=f"quantized outputs: the steps they may differ from x86 (default: {MAX_STEPS:g})"
    )
    add("--max-diff", type=DIFF, default=MAX_ABS_DIFF, help=f"float outputs: the max |diff| from x86 (default: {MAX_ABS_DIFF:.0e})")
    add("--max-dynamic-diff", type=DIFF, default=None, help="dynamic-range files' (default: each file's own max |diff| from Keras)")
    add("--cache", type=Path, default=None, help="where the emulated machine is built (default: ~/.cache/sketch-edge/arm)")
    add("--keep-going", action="store_true", help="exit 0 even when a file failed on Arm (it is marked failed in the manifest)")


def paths(args: argparse.Namespace) -> Paths:
    """It updates ARTIFACTS's manifest in place."""
    return Paths()


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from sketch_edge.errors import GateError
    from sketch_edge.export.arm import TABLE_HEADER, ArmConfig, table_rows, verify
    from sketch_edge.layout import Layout
    from sketch_edge.reporting import print_table

    config = ArmConfig(
        args.artifacts,
        cpus=tuple(args.cpus),
        recipes=tuple(args.recipes or ()),
        float_samples=args.float_samples,
        max_steps=args.max_steps,
        max_abs_diff=args.max_diff,
        max_dynamic_diff=args.max_dynamic_diff,
        cache=args.cache,
    )
    console = Console(soft_wrap=True, stderr=True)
    manifest = verify(config, log=lambda line: console.print(markup(line)), progress=step_printer("verify-arm"))
    asked = [a for a in manifest.artifacts if a.details.arm and (not config.recipes or a.name in config.recipes)]
    print_table(TABLE_HEADER, table_rows(asked, config.cpus), str(Layout(args.artifacts).manifest))
    failed = [a for a in asked if a.status != "ok"]
    for artifact in failed:
        Console(soft_wrap=True).print(f"[red]{markup(artifact.name)}[/]: {markup(artifact.error or '')}")
    if failed and not args.keep_going:
        shown = ", ".join(a.name for a in failed)
        raise GateError(
            f"{Layout(args.artifacts).manifest}: {len(failed)} file(s) differ on emulated Arm: {shown} (--keep-going to accept)"
        )
    return 0
