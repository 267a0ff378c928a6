"""Does a teacher help, more than run-to-run noise? Trained folders side by side, grouped by model and teachers.

    .venv/bin/python benchmarks/distillation.py FOLDER... [--json OUT.json]

Each FOLDER is a `sketch-edge train --out` folder (train it alone and taught, at
least twice each with `--run-seed`, on the same data). For every folder: its model,
teachers (with their own test top-1), temperature and mix, run seed, epochs, best
validation top-1, test top-1, training seconds and the teachers' targets' seconds;
then per group (model x teachers, consistent teaching apart) the runs' test top-1 range, and a taught group's
gain over the same model's untaught runs: the difference of the means, beside the
spread of each, so a gain smaller than the spread reads as noise. The folders must
share one split (the same data request); a folder of another is refused.

`--ensembles` adds what a teacher made of several of the folders would know before
a student is trained on it: the top-1 of their averaged probabilities (what
`--teacher A --teacher B` distils from, at T 1) on validation and on test, for every
combination of two or more folders, the `--top` best on validation (choose on validation).
Each folder's model reads its own `split.npz` (a stroke and a bitmap model read the
same drawings in their own encoding), rows matched by class and position.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from itertools import combinations
from pathlib import Path
from statistics import mean

import numpy as np

from sketch_edge import fileio
from sketch_edge.data.saved_split import SavedSplit
from sketch_edge.errors import RecordError
from sketch_edge.layout import Layout
from sketch_edge.models import short_name
from sketch_edge.reporting import markdown_table
from sketch_edge.train.distill import SPLIT_KEYS
from sketch_edge.train.report import Distillation, TrainReport


def group_of(report: TrainReport) -> tuple[str, str]:
    taught = report.distillation
    teachers = "" if taught is None else " + ".join(short_name(t.model) for t in taught.teachers)
    return short_name(report.model), f"{teachers} (consistent)" if taught and taught.consistent else teachers


def rows(reports: dict[str, TrainReport]) -> list[list[str]]:
    out = []
    for folder, r in reports.items():
        taught = r.distillation
        teachers = "-" if taught is None else ", ".join(f"{short_name(t.model)} ({t.test_top1:.4f})" for t in taught.teachers)
        out.append(
            [
                folder,
                short_name(r.model),
                teachers,
                "-" if taught is None else f"{taught.temperature:g}",
                "-" if taught is None else f"{taught.mix:g}",
                str(r.run_seed),
                f"{r.epochs_run}",
                f"{r.best_val_top1:.4f}",
                f"{r.test.top1:.4f}",
                f"{r.seconds:.0f}",
                _targets(taught),
            ]
        )
    return out


def _targets(taught: Distillation | None) -> str:
    if taught is None:
        return "-"
    return "none (consistent)" if taught.consistent else f"{taught.targets_seconds:.0f}{' (cached)' if taught.cached else ''}"


def gains(reports: dict[str, TrainReport]) -> list[list[str]]:
    groups: dict[tuple[str, str], list[float]] = defaultdict(list)
    for r in reports.values():
        groups[group_of(r)].append(r.test.top1)
    out = []
    for (model, teachers), scores in sorted(groups.items()):
        alone = groups.get((model, ""))
        gain = f"{100 * (mean(scores) - mean(alone)):+.2f}" if teachers and alone else "-"
        spread = f"{100 * (max(scores) - min(scores)):.2f}" if len(scores) > 1 else "-"
        out.append([model, teachers or "(labels alone)", str(len(scores)), f"{mean(scores):.4f}", spread, gain])
    return out


def probabilities(folder: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The folder's model's probabilities on its saved validation and test drawings, and each row's drawing as
    class << 32 | position, rows in that order."""
    from sketch_edge.models.saved import load_trained

    layout = Layout(folder)
    split, model = SavedSplit.load(layout.split), load_trained(layout.model)
    out = {}
    for part, x, y, positions in (
        ("val", split.val_x, split.val_y, split.val_positions),
        ("test", split.test_x, split.test_y, split.test_positions),
    ):
        order = np.lexsort((positions, y))
        keys = (y[order].astype(np.int64) << 32) | positions[order].astype(np.int64)
        out[part] = (np.asarray(model.predict(x[order].astype(np.float32), batch_size=512, verbose=0)), keys)
    return out


def ensembles(folders: list[Path]) -> list[list[str]]:
    """Every combination of two or more folders: the top-1 of their averaged probabilities on val and test."""
    probs = {folder.name: probabilities(folder) for folder in folders}
    first = next(iter(probs.values()))
    for name, p in probs.items():
        if any(not np.array_equal(p[part][1], first[part][1]) for part in first):
            raise ValueError(f"{name}: its saved split holds other drawings than {next(iter(probs))}'s")
    scores = []
    for size in range(2, len(probs) + 1):
        for names in combinations(probs, size):
            averaged = {part: np.mean([probs[n][part][0] for n in names], axis=0) for part in first}
            top1 = {part: float((averaged[part].argmax(1) == keys >> 32).mean()) for part, (_, keys) in first.items()}
            scores.append((top1["val"], top1["test"], " + ".join(names)))
    return [[names, f"{val:.4f}", f"{test:.4f}"] for val, test, names in sorted(scores, key=lambda s: s[:2], reverse=True)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--ensembles", action="store_true", help="also the averaged probabilities of every combination of folders")
    parser.add_argument("--top", type=int, default=10, help="the ensembles shown, best on validation first (default: 10)")
    parser.add_argument("--json", type=Path, default=None, help="also write the tables as JSON")
    args = parser.parse_args()
    if args.top < 1:
        parser.error(f"--top {args.top}: must be at least 1")
    if args.ensembles and len(args.folders) < 2:
        parser.error("--ensembles: give at least two folders")
    reports: dict[str, TrainReport] = {}
    for folder in args.folders:
        try:
            reports[folder.name] = TrainReport.load(Layout(folder).train_report)
        except RecordError as exc:
            print(f"distillation.py: {exc}", file=sys.stderr)
            return 2
    first = next(iter(reports.values()))
    for name, r in reports.items():
        split = {k: r.data["request"].get(k) for k in SPLIT_KEYS}
        if split != {k: first.data["request"].get(k) for k in SPLIT_KEYS} or r.data.get("files") != first.data.get("files"):
            print(f"distillation.py: {name} was trained on another split or other files than {next(iter(reports))}", file=sys.stderr)
            return 2
    runs = rows(reports)
    summary = gains(reports)
    columns = ["folder", "model", "teachers (their test top-1)", "T", "mix", "run seed", "epochs", "best val", "test top-1", "train s"]
    columns.append("targets s")
    print("\n".join(markdown_table(columns, runs)))
    print()
    print("\n".join(markdown_table(["model", "teachers", "runs", "mean test top-1", "spread (points)", "gain (points)"], summary)))
    tables = {"runs": runs, "groups": summary}
    if args.ensembles:
        try:
            tables["ensembles"] = ensembles(args.folders)[: args.top]
        except ValueError as exc:  # a DataError or ModelError of a folder's split or model, or another split
            print(f"distillation.py: {exc}", file=sys.stderr)
            return 2
        print()
        print("\n".join(markdown_table(["ensemble (probabilities averaged)", "val top-1", "test top-1"], tables["ensembles"])))
    if args.json:
        fileio.write_json(args.json, tables)
    return 0


if __name__ == "__main__":
    sys.exit(main())
