"""`sketch-edge export`: every recipe of the trained model, verified against Keras, listed in the manifest."""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

from sketch_edge.cli.options import DEFAULT_ARTIFACTS, POINTS, SECONDS, names
from sketch_edge.display import markup

NAME = "export"
HELP = "export the trained model to TFLite and ONNX artifacts, verified, with a manifest"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from sketch_edge.export.fallback import BUDGET_S as FALLBACK_BUDGET_S
    from sketch_edge.export.recipes import FALLBACK_MAX_DROP

    parser.add_argument("--artifacts", type=Path, default=DEFAULT_ARTIFACTS, help="folder holding model.keras (default: artifacts)")
    parser.add_argument("--recipes", type=names, default=None, help="comma-separated recipes (default: every default recipe)")
    parser.add_argument("--keep-going", action="store_true", help="exit 0 even when a recipe failed (it is marked failed in the manifest)")
    parser.add_argument("--timeout", type=SECONDS, default=300, help="seconds one recipe may take (default: 300)")
    parser.add_argument(
        "--gate",
        action="append",
        default=[],
        metavar="PRECISION:AGREEMENT[:MAXDIFF]",
        help="override a parity gate, e.g. fp16:0.999:2e-3 (defaults: fp32 0.999/1e-4, fp16 0.999/5e-3, quantized 0.98)",
    )
    parser.add_argument(
        "--max-top1-drop",
        type=POINTS,
        default=1.0,
        metavar="POINTS",
        help="fail an artifact whose test top-1 is more than this many points below Keras's (default: 1)",
    )
    parser.add_argument(
        "--max-drop",
        type=POINTS,
        default=100 * FALLBACK_MAX_DROP,
        metavar="POINTS",
        help="mixed recipes: move the noisiest layers to float, one at a time, until validation top-1 is within this many "
        f"points of Keras's (default: {100 * FALLBACK_MAX_DROP:g})",
    )
    parser.add_argument(
        "--fallback-budget",
        type=SECONDS,
        default=FALLBACK_BUDGET_S,
        metavar="SECONDS",
        help=f"mixed recipes: stop the search with the best file made after this long (default: {FALLBACK_BUDGET_S:g})",
    )


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from sketch_edge.errors import ExportError
    from sketch_edge.export.recipes import GATES, get_recipe, parse_gate
    from sketch_edge.reporting import print_table

    for name in args.recipes or ():
        get_recipe(name)  # a wrong name fails before TensorFlow loads
    drop = args.max_top1_drop / 100
    gates = {name: replace(gate, max_top1_drop=drop) for name, gate in GATES.items()} | dict(parse_gate(t, drop) for t in args.gate)
    from sketch_edge.quiet import import_tensorflow

    import_tensorflow()
    from sketch_edge.export.stage import TABLE_HEADER, ExportConfig, table_rows
    from sketch_edge.export.stage import run as export
    from sketch_edge.layout import Layout

    layout = Layout(args.artifacts)
    started = time.perf_counter()
    config = ExportConfig(
        args.artifacts,
        tuple(args.recipes or ()),
        max_drop=args.max_drop / 100,
        timeout_s=args.timeout,
        gates=gates,
        fallback_budget_s=args.fallback_budget,
    )
    manifest = export(config)
    print_table(TABLE_HEADER, table_rows(manifest), str(layout.manifest), min_width=200)
    console = Console(soft_wrap=True)
    for artifact in manifest.artifacts:
        if artifact.error:
            console.print(f"[red]{markup(artifact.name)}[/]: {markup(artifact.error)}")
    for name, why in manifest.left_out.items():
        hint = "" if get_recipe(name).not_for(manifest.source.input["kind"]) else f" (`--recipes {markup(name)}` makes it)"
        console.print(f"{markup(name)}: {markup(why)}{hint}")
    if manifest.reduced_build is not None:
        config_file = markup(str(layout.export / manifest.reduced_build))
        console.print(f"ONNX Runtime reduced build: {config_file} (the operators and types of every .ort file)")
    state = "up to date, reused" if manifest.reused else f"exported in {time.perf_counter() - started:.1f} s"
    console.print(f"Keras test top-1 {manifest.source.keras_test_top1:.4f}; {state}")
    failed = manifest.failed()
    if failed and not args.keep_going:
        raise ExportError(f"{layout.manifest}: {len(failed)} recipe(s) failed: {', '.join(failed)} (--keep-going to accept)")
    return 0
