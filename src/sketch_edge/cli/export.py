"""`sketch-edge export`: every recipe of the trained model, verified against Keras, listed in the manifest."""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sketch_edge.cli.options import (
    DEFAULT_ARTIFACTS,
    POINTS,
    SECONDS,
    Paths,
    add_own_data_options,
    data_path,
    names,
    optional_path,
    own_data_flags,
    skipped_note,
    step_printer,
)
from sketch_edge.display import markup

if TYPE_CHECKING:
    from sketch_edge.train.adopt import AdoptConfig

NAME = "export"
HELP = "export the trained model to TFLite and ONNX artifacts, verified, with a manifest"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from sketch_edge.export.fallback import BUDGET_S as FALLBACK_BUDGET_S
    from sketch_edge.export.recipes import FALLBACK_MAX_DROP

    parser.add_argument("--artifacts", type=Path, default=DEFAULT_ARTIFACTS, help="folder holding model.keras (default: artifacts)")
    parser.add_argument(
        "--model", type=Path, default=None, metavar="FILE.keras", help="a Keras 3 image classifier trained elsewhere (needs --data)"
    )
    add_own_data_options(parser)
    parser.add_argument("--recipes", type=names, default=None, help="comma-separated recipes (default: every default recipe)")
    parser.add_argument("--keep-going", action="store_true", help="exit 0 even when a recipe failed (it is marked failed in the manifest)")
    parser.add_argument("--timeout", type=SECONDS, default=300, help="seconds one recipe may take (default: 300)")
    parser.add_argument(
        "--gate",
        action="append",
        default=[],
        metavar="PRECISION:AGREEMENT[:MAXDIFF]",
        help="override a parity gate, e.g. fp16:0.999:2e-3 (defaults: fp32 0.999/1e-4, fp16 0.999/3e-2, quantized 0.98)",
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


def paths(args: argparse.Namespace) -> Paths:
    """With --model, the user's model, images and labels made into --artifacts; else the folder exports in place."""
    if args.model is None:
        return Paths()
    reads = {"--model": args.model} | data_path(args.data) | optional_path("--labels", args.labels)
    return Paths(reads=reads, writes={"--artifacts": args.artifacts})


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from sketch_edge.errors import ExportError
    from sketch_edge.export.recipes import GATES, get_recipe, parse_gate
    from sketch_edge.formats import FORMATS
    from sketch_edge.reporting import print_table

    for name in args.recipes or ():
        get_recipe(name)  # a wrong name fails before TensorFlow loads
    adopt_config = _adopt_config(args)
    drop = args.max_top1_drop / 100
    gates = {name: replace(gate, max_top1_drop=drop) for name, gate in GATES.items()} | dict(parse_gate(t, drop) for t in args.gate)
    from sketch_edge.quiet import import_tensorflow

    import_tensorflow()
    from sketch_edge.export.stage import ExportConfig
    from sketch_edge.export.stage import run as export
    from sketch_edge.export.table import TABLE_HEADER, table_rows
    from sketch_edge.layout import Layout

    layout = Layout(args.artifacts)
    if adopt_config is not None:
        _adopt(adopt_config, Console(stderr=True))
    started = time.perf_counter()
    config = ExportConfig(
        args.artifacts,
        tuple(args.recipes or ()),
        max_drop=args.max_drop / 100,
        timeout_s=args.timeout,
        gates=gates,
        fallback_budget_s=args.fallback_budget,
    )
    manifest = export(config, step_printer("export"))
    print_table(TABLE_HEADER, table_rows(manifest), str(layout.manifest))
    console = Console(soft_wrap=True)
    for artifact in manifest.artifacts:
        if artifact.error:
            console.print(f"[red]{markup(artifact.name)}[/]: {markup(artifact.error)}")
    for name, why in manifest.left_out.items():
        hint = "" if get_recipe(name).not_for(manifest.source.input["kind"]) else f" (`--recipes {markup(name)}` makes it)"
        console.print(f"{markup(name)}: {markup(why)}{hint}")
    for format_name, made in manifest.after_export.items():
        says = FORMATS[format_name].after_export_says if format_name in FORMATS else f"made from the {format_name} files"
        console.print(f"{markup(says)}: {markup(str(layout.export / made))}")
    state = "up to date, reused" if manifest.reused else f"exported in {time.perf_counter() - started:.1f} s"
    console.print(f"Keras test top-1 {manifest.source.keras_test_top1:.4f}; {state}")
    failed = manifest.failed()
    if failed and not args.keep_going:
        raise ExportError(f"{layout.manifest}: {len(failed)} recipe(s) failed: {', '.join(failed)} (--keep-going to accept)")
    return 0


def _adopt_config(args: argparse.Namespace) -> AdoptConfig | None:
    """`--model` with `--data`: the user's model is taken into the artifacts folder first (`train.adopt`)."""
    from sketch_edge.errors import ModelError
    from sketch_edge.models.contract import parse_range
    from sketch_edge.train.adopt import AdoptConfig

    given = own_data_flags(args)
    if args.model is None:
        if given:
            raise ModelError(f"{given[0]} goes with --model FILE.keras (a model trained elsewhere)")
        return None
    if args.data is None:
        raise ModelError(f"{args.model}: --model needs --data FOLDER (your images, one subfolder per class)")
    input_range = parse_range(args.input_range) if args.input_range else None
    return AdoptConfig(model=args.model, data=args.data, out=args.artifacts, labels=args.labels, input_range=input_range)


def _adopt(config: AdoptConfig, console: Any) -> None:
    from sketch_edge.train.adopt import adopt

    console.print(f"taking {markup(str(config.model))} with the images of {markup(str(config.data))} ...")
    origin = adopt(config)
    if origin.reused:
        console.print(f"{markup(str(config.out))}: already holds this model, taken with the same options")
        return
    console.print(
        f"{markup(origin.model)}: {len(origin.classes)} classes, input {markup(origin.input['description'])} "
        f"(from {markup(origin.contract_from)}), outputs {markup(origin.outputs)}; Keras test top-1 {origin.test_top1:.4f} on "
        f"{origin.splits['test']:,} images" + skipped_note(origin.data)
    )
