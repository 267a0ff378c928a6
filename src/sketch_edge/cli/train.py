"""`sketch-edge train`: train a model alone, with local workers, or as a member of a TF_CONFIG cluster."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from sketch_edge.cli.options import (
    BATCH,
    COUNT,
    DEFAULT_ARTIFACTS,
    SECONDS,
    SEED,
    WORKERS,
    Paths,
    add_data_options,
    add_teacher_options,
    data_path,
    data_request,
    repeated,
    teaching_of,
    warn_skipped,
)
from sketch_edge.display import printable

NAME = "train"
HELP = "train a model and write model.keras, labels.txt, train_report.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from sketch_edge.models import DEFAULT_MODEL

    add_data_options(parser)
    parser.add_argument(
        "--model", default=None, help=f"registered model name or family[key=value,...] (see `sketch-edge models`; default: {DEFAULT_MODEL})"
    )
    parser.add_argument("--epochs", type=COUNT, default=None, help="maximum epochs (default: the model's own)")
    parser.add_argument("--batch-size", type=BATCH, default=None)
    parser.add_argument(
        "--patience", type=COUNT, default=None, help="early-stopping patience in epochs (default: the model's own; edge-cnn: none)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_ARTIFACTS, help="output folder (default: artifacts)")
    parser.add_argument(
        "--steps-per-epoch", type=COUNT, default=None, help="bound each epoch (default: one pass over the training drawings)"
    )
    parser.add_argument("--eval-per-class", type=COUNT, default=None, help="validation and test drawings kept per class (default: 1000)")
    parser.add_argument(
        "--run-seed",
        type=SEED,
        default=None,
        help="seeds the weights and the shuffling but not the split, for a second run on the same drawings (default: --seed)",
    )
    add_teacher_options(parser)
    parser.add_argument(
        "--workers",
        type=WORKERS,
        default=None,
        help="train with this many local worker processes (MultiWorkerMirroredStrategy); a cluster sets TF_CONFIG instead",
    )
    parser.add_argument(
        "--worker-timeout",
        type=SECONDS,
        default=120,
        help="seconds a worker may wait for the others, to connect and between steps (default: 120)",
    )


def paths(args: argparse.Namespace) -> Paths:
    return Paths(reads=data_path(args.data) | repeated("--teacher", args.teacher), writes={"--out": args.out})


def run(args: argparse.Namespace) -> int:
    from sketch_edge.errors import ClusterError
    from sketch_edge.fileio import check_writable
    from sketch_edge.isolation import die_with_parent
    from sketch_edge.models import DEFAULT_MODEL, get_model_spec, short_name
    from sketch_edge.train.cluster import HEARTBEAT_ENV, Cluster, launch_local, supervise

    # A wrong model name, an unwritable --out, bad data or a bad cluster fails fast, before TensorFlow loads.
    get_model_spec(args.model or DEFAULT_MODEL)
    cluster = Cluster.from_env()
    teaching = teaching_of(args, args.out)
    if args.workers and cluster.config is not None:
        raise ClusterError("give either --workers (local workers) or TF_CONFIG (a cluster), not both")
    if cluster.is_chief:
        check_writable(args.out)
    if cluster.config is not None and HEARTBEAT_ENV not in os.environ:
        # A cluster member trains under a supervisor: the child opens the data (and says what is wrong with it).
        return supervise(args.argv, [os.environ["TF_CONFIG"]], args.worker_timeout)
    request = data_request(args)
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
            run_seed=args.run_seed,
            teaching=teaching,
        ),
        source,
    )
    warn_skipped(report.data)
    if not cluster.is_chief:
        return 0
    test, workers = report.test, report.distribution.workers
    taught, by = report.distillation, ""
    if taught:
        by = f"taught by {len(taught.teachers)} teacher(s) at T={taught.temperature:g}, mix {taught.mix:g}"
        by += " (consistent); " if taught.consistent else "; "
    print(
        f"{short_name(report.model)}: test top-1 {test.top1:.4f}, top-3 {test.top3:.4f} on {test.samples} drawings; "
        f"{report.epochs_run} epochs in {report.seconds:.1f} s"
        f"{f' on {workers} workers' if workers > 1 else ''}; {report.parameters:,} parameters; {by}wrote {printable(args.out)}"
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
