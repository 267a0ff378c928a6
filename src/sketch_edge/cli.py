"""The `sketch-edge` command: one sub-command per stage.

User errors (`SketchEdgeError`) print as one line and exit with status 2.
Heavy libraries are imported inside each sub-command, so `sketch-edge data`
and `--help` stay fast.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

from sketch_edge import numbers
from sketch_edge.display import markup, printable
from sketch_edge.errors import SketchEdgeError

DEFAULT_ARTIFACTS = Path("artifacts")
# Option types: every number from the command line bounded and finite (numbers.py says why).
COUNT = numbers.option(lo=1, hi=numbers.MAX_COUNT, integer=True)
BATCH = numbers.option(lo=1, hi=numbers.MAX_BATCH, integer=True)
THREADS = numbers.option(lo=1, hi=numbers.MAX_THREADS, integer=True)
REPEAT = numbers.option(lo=1, hi=100, integer=True)
SECONDS = numbers.option(lo=1, hi=numbers.MAX_SECONDS)
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


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's C++ start-up chatter is not for users
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # local workers rerun the same command
    try:
        return args.run(args)
    except SketchEdgeError as exc:
        print(f"sketch-edge: error: {printable(exc)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("sketch-edge: interrupted; nothing half-written was left behind", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    from sketch_edge.export.fallback import BUDGET_S as FALLBACK_BUDGET_S
    from sketch_edge.export.recipes import FALLBACK_MAX_DROP
    from sketch_edge.models import DEFAULT_MODEL

    parser = argparse.ArgumentParser(prog="sketch-edge", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    data = sub.add_parser("data", help="summarise a data source and save sample bitmaps")
    _data_options(data)
    data.add_argument("--out", type=Path, default=DEFAULT_ARTIFACTS, help="folder for data_samples.png (default: artifacts)")
    data.add_argument("--json", action="store_true", help="print the summary as JSON")
    data.set_defaults(run=run_data)

    models = sub.add_parser("models", help="list the registered models")
    models.set_defaults(run=run_models)

    train = sub.add_parser("train", help="train a model and write model.keras, labels.txt, train_report.json")
    _data_options(train)
    train.add_argument(
        "--model", default=None, help=f"registered model name or family[key=value,...] (see `sketch-edge models`; default: {DEFAULT_MODEL})"
    )
    train.add_argument("--epochs", type=COUNT, default=None, help="maximum epochs (default: the model's own)")
    train.add_argument("--batch-size", type=BATCH, default=None)
    train.add_argument(
        "--patience", type=COUNT, default=None, help="early-stopping patience in epochs (default: the model's own; edge-cnn: none)"
    )
    train.add_argument("--out", type=Path, default=DEFAULT_ARTIFACTS, help="output folder (default: artifacts)")
    train.add_argument(
        "--steps-per-epoch", type=COUNT, default=None, help="bound each epoch (default: one pass over the training drawings)"
    )
    train.add_argument("--eval-per-class", type=COUNT, default=None, help="validation and test drawings kept per class (default: 1000)")
    train.add_argument(
        "--workers",
        type=WORKERS,
        default=None,
        help="train with this many local worker processes (MultiWorkerMirroredStrategy); a cluster sets TF_CONFIG instead",
    )
    train.add_argument(
        "--worker-timeout",
        type=SECONDS,
        default=120,
        help="seconds a worker may wait for the others, to connect and between steps (default: 120)",
    )
    train.set_defaults(run=run_train)

    export = sub.add_parser("export", help="export the trained model to TFLite and ONNX artifacts, verified, with a manifest")
    export.add_argument("--artifacts", type=Path, default=DEFAULT_ARTIFACTS, help="folder holding model.keras (default: artifacts)")
    export.add_argument("--recipes", type=_names, default=None, help="comma-separated recipes (default: every default recipe)")
    export.add_argument("--keep-going", action="store_true", help="exit 0 even when a recipe failed (it is marked failed in the manifest)")
    export.add_argument("--timeout", type=SECONDS, default=300, help="seconds one recipe may take (default: 300)")
    export.add_argument(
        "--gate",
        action="append",
        default=[],
        metavar="PRECISION:AGREEMENT[:MAXDIFF]",
        help="override a parity gate, e.g. fp16:0.999:2e-3 (defaults: fp32 0.999/1e-4, fp16 0.999/5e-3, quantized 0.98)",
    )
    export.add_argument(
        "--max-top1-drop",
        type=POINTS,
        default=1.0,
        metavar="POINTS",
        help="fail an artifact whose test top-1 is more than this many points below Keras's (default: 1)",
    )
    export.add_argument(
        "--max-drop",
        type=POINTS,
        default=100 * FALLBACK_MAX_DROP,
        metavar="POINTS",
        help="mixed recipes: move the noisiest layers to float, one at a time, until validation top-1 is within this many "
        f"points of Keras's (default: {100 * FALLBACK_MAX_DROP:g})",
    )
    export.add_argument(
        "--fallback-budget",
        type=SECONDS,
        default=FALLBACK_BUDGET_S,
        metavar="SECONDS",
        help=f"mixed recipes: stop the search with the best file made after this long (default: {FALLBACK_BUDGET_S:g})",
    )
    export.set_defaults(run=run_export)

    bench = sub.add_parser("bench", help="accuracy, latency, throughput, memory and size of every artifact on every runtime")
    bench.add_argument(
        "--artifacts", type=Path, default=DEFAULT_ARTIFACTS, help="folder holding model.keras and export/ (default: artifacts)"
    )
    bench.add_argument(
        "--recipes", type=_names, default=None, help="comma-separated recipes, 'keras' for the Keras model (default: all ok)"
    )
    bench.add_argument(
        "--runtimes", type=_names, default=None, help="comma-separated: keras, litert, onnxruntime, openvino (default: all installed)"
    )
    bench.add_argument("--repeat", type=REPEAT, default=1, help="timing rounds per cell, each in a fresh process (default: 1)")
    bench.add_argument("--pin", action="store_true", help="run single-thread cells and peaks on one core")
    bench.add_argument("--no-profile", action="store_true", help="skip the per-operator profile of ONNX Runtime cells")
    bench.add_argument("--min-top1", type=FRACTION, default=None, help="exit 3, naming the cell, if any cell's test top-1 is below this")
    bench.add_argument(
        "--max-p50-us",
        type=_recipe_limit,
        action="append",
        default=[],
        metavar="RECIPE=US",
        help="exit 3, naming the cell, if a batch-1 cell of RECIPE has a p50 above US microseconds (repeatable)",
    )
    bench.add_argument(
        "--threads", type=THREAD_LIST, default=(), help="comma-separated thread counts, each at every --batch (default: see --full)"
    )
    bench.add_argument("--batch", type=BATCH_LIST, default=(), help="comma-separated batch sizes, each at every --threads")
    bench.add_argument(
        "--full",
        action="store_true",
        help="1 thread and all cores, each at batch 1 and 64, 2 s per cell (default: batch 1 on 1 thread and batch 64 on all cores, 1 s)",
    )
    bench.add_argument("--duration", type=DURATION, default=None, help="least seconds of timed calls per cell (default: 1, 2 with --full)")
    bench.add_argument("--quick", action="store_true", help="few calls and a tenth of the test split (for smoke tests)")
    bench.add_argument("--baseline", type=Path, default=None, help="an earlier results.json: show each figure's ratio to it")
    bench.set_defaults(run=run_bench)

    compare = sub.add_parser("compare", help="several benched models (bitmap and stroke) on one table and one Pareto plot")
    compare.add_argument("artifacts", type=Path, nargs="+", metavar="ARTIFACTS", help="artifacts folders, each benched, same test drawings")
    compare.add_argument("--out", type=Path, default=Path("compare"), help="folder for compare.md/.json/.png (default: compare)")
    compare.add_argument("--threads", type=THREADS, default=1, help="the cells' thread count (default: 1)")
    compare.add_argument("--batch", type=BATCH, default=1, help="the cells' batch size (default: 1)")
    compare.set_defaults(run=run_compare)

    tune = sub.add_parser("tune", help="train, export and bench candidate models of a search space: accuracy against int8 latency")
    _data_options(tune)
    tune.add_argument("--budget-minutes", type=MINUTES, default=10.0, help="total time for every candidate (default: 10)")
    tune.add_argument(
        "--target", default="litert", help="runtime the int8 artifacts are timed on: litert, onnxruntime, openvino (default: litert)"
    )
    tune.add_argument("--space", type=Path, default=None, help="search space JSON file (default: the built-in edge-cnn space)")
    tune.add_argument("--candidates", type=COUNT, default=None, help="at most this many candidates (default: until the budget)")
    tune.add_argument("--max-p50-us", type=MICROSECONDS, default=None, help="recommend the best model within this int8 p50 latency")
    tune.add_argument(
        "--out", type=Path, default=DEFAULT_ARTIFACTS, help="artifacts folder; the tune writes to OUT/tune (default: artifacts)"
    )
    tune.set_defaults(run=run_tune)

    predict = sub.add_parser("predict", help="classify images, .npy bitmaps or .ndjson drawings with an .onnx or .tflite model")
    predict.add_argument("artifact", type=Path, help="an exported .onnx or .tflite file")
    predict.add_argument("inputs", type=Path, nargs="+", metavar="INPUT", help="image files, .npy bitmap files, .ndjson(.gz) drawing files")
    predict.add_argument("--top", type=TOP, default=3, help="classes shown per input (default: 3)")
    predict.add_argument("--json", action="store_true", help="print one JSON object per input line instead of a table")
    predict.add_argument("--labels", type=Path, default=None, help="labels.txt, for model files without sketch-edge metadata")
    predict.add_argument("--skip-bad-lines", action="store_true", help="ndjson: skip malformed lines instead of failing")
    predict.add_argument("--threads", type=THREADS, default=1, help="runtime threads (default: 1)")
    predict.add_argument(
        "--runtime", default=None, help="onnxruntime, litert or openvino (default: ONNX Runtime for .onnx, LiteRT for .tflite)"
    )
    predict.set_defaults(run=run_predict)
    return parser


def _data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data", default="synthetic", help="'synthetic' (default), a folder of QuickDraw files, or 'tfds:quickdraw_bitmap'"
    )
    parser.add_argument("--classes", type=_names, default=None, help="comma-separated class subset, e.g. 'cat,The Eiffel Tower'")
    parser.add_argument("--per-class", type=COUNT, default=None, help="at most this many drawings per class")
    parser.add_argument("--recognized-only", action="store_true", help="ndjson: keep only drawings with recognized: true")
    parser.add_argument("--skip-bad-lines", action="store_true", help="ndjson: skip malformed lines (counted) instead of failing")
    parser.add_argument("--seed", type=SEED, default=0, help="seed for synthetic data, splits and training (default: 0)")
    parser.add_argument("--tfds-data-dir", default=None, help="TFDS data dir holding a prepared quickdraw_bitmap")
    parser.add_argument("--tfds-download", action="store_true", help="let TFDS download and prepare quickdraw_bitmap (tens of GB)")


def _recipe_limit(text: str) -> tuple[str, float]:
    recipe, eq, limit = text.partition("=")
    if not recipe or not eq:
        raise argparse.ArgumentTypeError(f"expected RECIPE=MICROSECONDS, got {text!r}")
    return recipe, MICROSECONDS(limit)


def _names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError("give at least one class name")
    return names


def _data_request(args: argparse.Namespace):
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


def _warn_skipped(description: dict) -> None:
    for why, count in description.get("skipped", {}).items():
        print(f"sketch-edge: warning: skipped {count} drawing(s) of {printable(description['source'])}: {printable(why)}", file=sys.stderr)


def run_data(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from sketch_edge.data.summary import describe, save_sample_grid

    data = _data_request(args).load()
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
    table = Table("class", "drawings")
    for name, count in summary["per_class"].items():
        table.add_row(markup(name), str(count))
    console.print(table)
    console.print(f"sample bitmaps: {markup(grid)}")
    return 0


def run_models(args: argparse.Namespace) -> int:
    from sketch_edge.models import DEFAULT_MODEL, get_model_spec, list_families, list_models

    for name in list_models():
        spec = get_model_spec(name)
        default = " (default)" if name == DEFAULT_MODEL else ""
        print(f"{name}{default}: {spec.input_kind} input, {spec.epochs} epochs. {spec.description}")
        if name in list_families():
            print(f"  a family: {spec.name}; give any of its parameters, e.g. {name}[width=16,pool=stride]")
    return 0


def run_train(args: argparse.Namespace) -> int:
    from sketch_edge.fileio import check_writable
    from sketch_edge.isolation import die_with_parent
    from sketch_edge.models import DEFAULT_MODEL, get_model_spec
    from sketch_edge.train.cluster import HEARTBEAT_ENV, Cluster, ClusterError, launch_local, supervise

    # A wrong model name, an unwritable --out, bad data or a bad cluster fails fast, before TensorFlow loads.
    get_model_spec(args.model or DEFAULT_MODEL)
    cluster = Cluster.from_env()
    if args.workers and cluster.config is not None:
        raise ClusterError("give either --workers (local workers) or TF_CONFIG (a cluster), not both")
    if cluster.is_chief:
        check_writable(args.out)
    if cluster.config is not None and HEARTBEAT_ENV not in os.environ:
        # A cluster member trains under a supervisor: the child opens the data (and says what is wrong with it).
        return supervise(args.argv, [os.environ["TF_CONFIG"]], args.worker_timeout)
    request = _data_request(args)
    source = request.open()
    source.worker_shards(cluster.index, args.workers or cluster.workers)
    if args.workers and args.workers > 1:
        return launch_local(args.workers, _without_workers(args.argv), args.worker_timeout)
    if HEARTBEAT_ENV in os.environ:
        die_with_parent()  # a supervised worker never outlives its supervisor
    from sketch_edge.quiet import import_tensorflow

    import_tensorflow()
    from sketch_edge.train import TrainConfig, run

    report = run(
        TrainConfig(
            data=request,
            model=args.model or DEFAULT_MODEL,
            out=args.out,
            epochs=args.epochs,
            batch_size=args.batch_size,
            patience=args.patience,
            steps_per_epoch=args.steps_per_epoch,
        ),
        source,
    )
    _warn_skipped(report["data"])
    if not cluster.is_chief:
        return 0
    test = report["test"]
    workers = report["distribution"]["workers"]
    print(
        f"{report['model']}: test top-1 {test['top1']:.4f}, top-3 {test['top3']:.4f} on {test['samples']} drawings; "
        f"{report['epochs_run']} epochs in {report['seconds']:.1f} s"
        f"{f' on {workers} workers' if workers > 1 else ''}; {report['parameters']:,} parameters; wrote {printable(args.out)}"
    )
    return 0


def _without_workers(argv: list[str]) -> list[str]:
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--workers":
            skip = True
        elif not arg.startswith("--workers="):
            out.append(arg)
    return out


def run_export(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from sketch_edge.errors import ExportError
    from sketch_edge.export.recipes import GATES, get_recipe, parse_gate

    for name in args.recipes or ():
        get_recipe(name)  # a wrong name fails before TensorFlow loads
    drop = args.max_top1_drop / 100
    gates = {name: replace(gate, max_top1_drop=drop) for name, gate in GATES.items()} | dict(parse_gate(t, drop) for t in args.gate)
    from sketch_edge.quiet import import_tensorflow

    import_tensorflow()
    from sketch_edge.export.stage import ExportConfig, run, summarize
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
    manifest = run(config)
    table = Table(
        "recipe",
        "status",
        "size kB",
        "agreement",
        "max |diff|",
        "test top-1",
        "seconds",
        "worst layer (noise added, SQNR)",
        "float layers",
        title=markup(layout.manifest),
    )
    for row in summarize(manifest):
        table.add_row(
            markup(row["recipe"]),
            markup(row["status"]),
            f"{row['kB']:.1f}",
            "" if row["agreement"] is None else f"{row['agreement']:.4f}",
            "" if row["max_abs_diff"] is None else f"{row['max_abs_diff']:.1e}",
            "" if row["test_top1"] is None else f"{row['test_top1']:.4f}",
            f"{row['seconds']:.1f}",
            markup(row["worst_layer"] or ""),
            "" if row["float_layers"] is None else str(row["float_layers"]),
        )
    console = Console(width=max(shutil.get_terminal_size().columns, 160))
    console.print(table)
    for row in summarize(manifest):
        if row["error"]:
            console.print(f"[red]{markup(row['recipe'])}[/]: {markup(row['error'])}", soft_wrap=True)
    for name, why in manifest.left_out.items():
        console.print(f"{markup(name)}: {markup(why)} (`--recipes {markup(name)}` makes it)", soft_wrap=True)
    state = "up to date, reused" if manifest.reused else f"exported in {time.perf_counter() - started:.1f} s"
    console.print(f"Keras test top-1 {manifest.source.keras_test_top1:.4f}; {state}")
    failed = manifest.failed()
    if failed and not args.keep_going:
        raise ExportError(f"{layout.manifest}: {len(failed)} recipe(s) failed: {', '.join(failed)} (--keep-going to accept)")
    return 0


def run_bench(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from sketch_edge.bench import report
    from sketch_edge.bench.stage import BenchConfig, check_complete, check_gates, run
    from sketch_edge.runtime import RUNTIMES

    baseline = report.load_baseline(args.baseline) if args.baseline else None
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
    )
    started = time.perf_counter()
    results = run(config)
    header, rows = report.table_rows(results, baseline)
    out = config.layout.bench
    table = Table(*header, title=markup(f"{out / 'results.json'} (* Pareto-best top-1 vs p50 among cells with the same threads and batch)"))
    for row in rows:
        table.add_row(*(markup(cell) for cell in row))
    report.write_all(results, out, baseline)
    console = Console(width=max(shutil.get_terminal_size().columns, 200))
    console.print(table)
    peaks = "; ".join(f"{t} thread(s) {kind} {p['gops']:.0f} GOP/s" for t, kinds in results["peaks"].items() for kind, p in kinds.items())
    console.print(markup(f"peaks: {peaks}"), soft_wrap=True)
    for note in report.noise_notes(results):
        console.print(markup(note), soft_wrap=True)
    console.print(markup(f"benched {len(rows)} cells in {time.perf_counter() - started:.0f} s; report: {out / 'report.md'}"))
    check_gates(results, args.min_top1, dict(args.max_p50_us))
    check_complete(results)
    return 0


def run_compare(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from sketch_edge.bench.compare import COLUMNS, compare, table_rows

    summary = compare(args.artifacts, args.out, threads=args.threads, batch=args.batch)
    table = Table(*COLUMNS, title=markup(f"{args.out / 'compare.md'}: {summary['threads']} thread(s), batch {summary['batch']}"))
    for row in table_rows(summary):
        table.add_row(*(markup(cell) for cell in row))
    Console(width=max(shutil.get_terminal_size().columns, 160)).print(table)
    return 0


def run_tune(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from sketch_edge.errors import IncompleteError
    from sketch_edge.fileio import check_writable
    from sketch_edge.models import short_name
    from sketch_edge.tune.report import COLUMNS, table_rows, write_all
    from sketch_edge.tune.space import load_space
    from sketch_edge.tune.stage import TuneConfig, run, target_recipes

    target_recipes(args.target)  # a wrong target, space, data or --out fails now, not after the first candidate
    space = load_space(args.space)
    request = _data_request(args)
    request.open()
    check_writable(args.out)
    config = TuneConfig(request, space, args.out, args.budget_minutes * 60, args.target, args.candidates, args.max_p50_us)

    def progress(row: dict) -> None:
        if row["status"] != "not run":
            best = (row.get("best") or {}).get("p50_us")
            figures = f"val top-1 {row['val_top1']:.4f}, int8 p50 {best:.1f} us" if row["status"] == "ok" else row.get("reason", "")
            print(f"{row['status']:>8}  {short_name(row['model'])}: {markup(figures)}", flush=True)

    summary = run(config, progress)
    out = config.layout.tune
    write_all(summary, out)
    table = Table(*COLUMNS, title=markup(f"{out / 'report.md'}"))
    for row in table_rows(summary):
        table.add_row(*(markup(cell) for cell in row))
    Console(width=max(shutil.get_terminal_size().columns, 200)).print(table)
    rec = summary["recommended"]
    print(f"recommended: #{rec['number']} {rec['model']}" if rec.get("number") else f"no recommendation: {rec['reason']}")
    if not summary["counts"]["ok"]:
        raise IncompleteError(f"no candidate finished; {out / 'report.md'} says why")
    return 0


def run_predict(args: argparse.Namespace) -> int:
    """TensorFlow-free: only the predictor, its runtime, numpy and Pillow load."""
    from sketch_edge.runtime import Predictor

    with Predictor(args.artifact, labels=args.labels, threads=args.threads, runtime=args.runtime) as predictor:
        rows = [(name, top) for path in args.inputs for name, top in _predict_file(predictor, path, args)]
    if args.json:
        for name, top in rows:
            print(json.dumps({"input": name, "top": [{"label": label, "probability": round(p, 6)} for label, p in top]}))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=markup(f"{predictor.model_name}: {args.artifact}"))
    table.add_column("input", overflow="fold")  # long paths wrap rather than lose the part that tells inputs apart
    for k in range(min(args.top, len(predictor.labels))):
        table.add_column(f"#{k + 1}")
    for name, top in rows:
        table.add_row(markup(name), *(markup(f"{label} {p:.1%}") for label, p in top))
    Console().print(table)
    return 0


def _predict_file(predictor, path: Path, args: argparse.Namespace):
    """(name, top pairs) for every item of one input file: each bitmap of an .npy, each drawing of an .ndjson, or the image."""
    from collections import Counter

    from sketch_edge.data.local import read_ndjson, read_npy_bitmaps
    from sketch_edge.errors import DataError
    from sketch_edge.runtime.predictor import CHUNK

    if not path.is_file():
        raise DataError(f"{path}: no such input file")
    if path.suffix == ".npy":
        items = read_npy_bitmaps(path, limit=None)
    elif path.name.endswith((".ndjson", ".ndjson.gz")):
        items = read_ndjson(path, None, recognized_only=False, skip_bad_lines=args.skip_bad_lines, skipped=Counter(), formats_seen=set())
        if not items:
            raise DataError(f"{path}: no drawings in it")
    else:
        yield str(path), predictor.predict(path, top=args.top)
        return
    for start in range(0, len(items), CHUNK):
        for offset, top in enumerate(predictor.predict(items[start : start + CHUNK], top=args.top)):
            yield f"{path}[{start + offset}]", top
