"""Where each stage's files live inside an artifacts folder: the one place that knows the layout.

ARTIFACTS/model.keras, labels.txt, train_report.json, train_curves.png, split.npz   (train)
ARTIFACTS/model.keras, labels.txt, origin.json, split.npz: a model trained elsewhere (export --model)
ARTIFACTS/teacher_targets-KEY.npz: the teachers' targets of a distilled model        (train, a cache)
ARTIFACTS/export/manifest.json and one file (or folder) per recipe                   (export)
ARTIFACTS/export/sensitivity/RECIPE.json and .png, per quantized recipe              (export)
ARTIFACTS/bench/results.json, results.csv, report.md, plots, profiles/               (bench)
ARTIFACTS/web/                                                                       (the demo page)
ARTIFACTS/tune/results.json, results.csv, report.md, pareto.png                      (tune)
ARTIFACTS/tune/candidates/KEY/: an artifacts folder per candidate, + tune_result.json (tune)
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

RESULTS = "results.json"
"""In bench/ and tune/: the typed results (bench.results.Results, tune.results.TuneResults)."""
RESULTS_CSV = "results.csv"
REPORT = "report.md"
PROFILES = "profiles"
"""In bench/: one per-operator profile per profiled cell."""


@dataclass(frozen=True)
class Layout:
    root: Path

    @property
    def export_command(self) -> str:
        """The command that (re)makes this folder's export, for messages: the one that fixes what they report."""
        return f"`sketch-edge export --artifacts {shlex.quote(str(self.root))}`"

    @property
    def model(self) -> Path:
        return self.root / "model.keras"

    @property
    def labels(self) -> Path:
        return self.root / "labels.txt"

    @property
    def origin(self) -> Path:
        """Where a model trained elsewhere came from (`sketch-edge export --model`): written instead of a train report."""
        return self.root / "origin.json"

    @property
    def train_report(self) -> Path:
        return self.root / "train_report.json"

    @property
    def curves(self) -> Path:
        return self.root / "train_curves.png"

    @property
    def split(self) -> Path:
        """The drawings the model was trained, validated and tested on, saved by train, read by export and bench."""
        return self.root / "split.npz"

    def teacher_targets(self, key: str) -> Path:
        """The teachers' softened probabilities for the training drawings, `key` naming what they depend on (a cache)."""
        return self.root / f"teacher_targets-{key}.npz"

    @property
    def export(self) -> Path:
        return self.root / "export"

    @property
    def manifest(self) -> Path:
        return self.export / "manifest.json"

    @property
    def sensitivity_folder(self) -> Path:
        return self.export / "sensitivity"

    def sensitivity(self, recipe: str) -> tuple[Path, Path]:
        """A quantized recipe's per-layer comparison with its float twin: the JSON report and its plot."""
        return self.sensitivity_folder / f"{recipe}.json", self.sensitivity_folder / f"{recipe}.png"

    @property
    def reference(self) -> Path:
        """Keras's own probabilities on the saved validation and test drawings: written by export, read by bench."""
        return self.export / "reference.npz"

    @property
    def bench(self) -> Path:
        return self.root / "bench"

    @property
    def web(self) -> Path:
        return self.root / "web"

    @property
    def tune(self) -> Path:
        return self.root / "tune"

    @property
    def tune_candidates(self) -> Path:
        return self.tune / "candidates"

    def tune_candidate(self, key: str) -> Path:
        """A candidate's own artifacts folder (train, export and bench outputs as above)."""
        return self.tune_candidates / key

    @property
    def tune_result(self) -> Path:
        """In a candidate's folder: what the tune measured of it, written last (present: the candidate finished)."""
        return self.root / "tune_result.json"
