"""A kill at any moment leaves the artifacts folder in its old state or its new one, never a mix (issue "nothing
lost"): export and train are killed, with their worker processes, at seeded random moments, and the folder's record
(manifest, train report) must then be absent or describe exactly the bytes beside it."""

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sketch_edge.errors import ExportError
from sketch_edge.export.stage import _describe_source
from sketch_edge.fileio import sha256_file
from sketch_edge.layout import Layout
from sketch_edge.manifest import Manifest
from sketch_edge.train.report import TrainReport
from tests.helpers import copy_artifacts

pytestmark = pytest.mark.slow
SEED = 37
RECIPES = "tflite-fp32,onnx-int8"
EXPORT = ["--recipes", RECIPES, "--gate", "quantized:0.97", "--keep-going"]  # another gate: a real export, not a reuse


def killed(argv: list[str], after_s: float) -> int | None:
    """Run the CLI; SIGKILL it and every process it started after `after_s` (None), or its exit status."""
    command = [sys.executable, "-m", "sketch_edge", *argv]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        return proc.wait(timeout=after_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return None


def manifest_state(root: Path) -> tuple[str, ...] | None:
    """The artifacts a present manifest lists, each checked against the bytes of its file; None without one."""
    layout = Layout(root)
    if not layout.manifest.exists():
        return None
    manifest = Manifest.load(layout.manifest)
    for a in manifest.artifacts:
        path = layout.export / a.path
        if a.status == "ok" and path.is_file():
            assert sha256_file(path) == a.sha256, f"{a.name}: the manifest describes bytes it did not hash"
    return tuple(a.name for a in manifest.artifacts)


def test_export_killed_at_any_moment_leaves_the_old_manifest_or_the_new_one(exported, tmp_path):
    root = copy_artifacts(exported[0], tmp_path / "artifacts")
    old = manifest_state(root)
    moments = [random.Random(SEED).uniform(2.0, 9.0)]  # one seeded moment a run: the suite stays within its time
    for after_s in moments:
        assert killed(["export", "--artifacts", str(root), *EXPORT], after_s) is None, "it ended before the kill"
        assert manifest_state(root) in (old, None, tuple(RECIPES.split(","))), f"killed after {after_s:.1f} s"
    assert killed(["export", "--artifacts", str(root), *EXPORT], 600) == 0
    assert manifest_state(root) == tuple(RECIPES.split(","))
    assert not [p.name for p in (root / "export").iterdir() if p.name.startswith(".")]  # no scratch left behind


def test_train_killed_at_any_moment_leaves_a_report_that_matches_its_model_and_split(exported, tmp_path):
    root = copy_artifacts(exported[0], tmp_path / "artifacts", "export")
    layout = Layout(root)
    after_s = random.Random(SEED + 1).uniform(3.0, 8.0)
    argv = ["train", "--data", "synthetic", "--per-class", "40", "--epochs", "20", "--out", str(root)]
    assert killed(argv, after_s) is None, "it ended before the kill"
    if layout.train_report.exists():
        report = TrainReport.load(layout.train_report)
        assert report.files == {p.name: sha256_file(p) for p in (layout.model, layout.split)}, f"killed after {after_s:.1f} s"
    else:  # no record: export refuses the folder in one line, rather than export a model beside another's split
        with pytest.raises(ExportError):
            _describe_source(layout)
