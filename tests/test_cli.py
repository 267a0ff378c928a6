"""The command line as a user meets it: one-line errors with exit status 2, no tracebacks."""

import json
import subprocess
import sys

import numpy as np
import pytest

from sketch_edge.cli import main


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "sketch_edge", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def test_data_summary_json_and_sample_grid(tmp_path, capsys):
    assert main(["data", "--per-class", "4", "--classes", "circle,smiley face", "--out", str(tmp_path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["source"] == "synthetic" and summary["per_class"] == {"circle": 4, "smiley face": 4}
    assert summary["input_kinds"] == ["bitmap", "strokes"]
    assert (tmp_path / "data_samples.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_models_lists_the_registry(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "cnn-seed" in out and "cnn-bn (default)" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["data", "--data", "/no/such/folder"], "/no/such/folder: unknown data source"),
        (["data", "--classes", "circel"], "unknown class 'circel' (did you mean 'circle'?)"),
        (["train", "--model", "resnet"], "unknown model 'resnet'"),
        (["export", "--recipes", "onnx-int4"], "unknown export recipe 'onnx-int4'"),
        (["export", "--gate", "fp8:1"], "--gate 'fp8:1': expected PRECISION:MIN_AGREEMENT"),
        (["export", "--artifacts", "/no/such/artifacts"], "/no/such/artifacts/model.keras: no trained model here"),
    ],
)
def test_user_errors_are_one_line_with_status_2(args, message):
    result = run_cli(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.stderr


def test_corrupt_file_error_names_the_file(tmp_path):
    (tmp_path / "cat.npy").write_bytes(b"\x93NUMPY garbage")
    np.save(tmp_path / "dog.npy", np.zeros((5, 784), np.uint8))
    result = run_cli("data", "--data", str(tmp_path), "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and f"{tmp_path / 'cat.npy'}: not a readable .npy file" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_numbers_are_refused_by_the_parser():
    result = run_cli("train", "--epochs", "0")
    assert result.returncode == 2 and "must be at least 1" in result.stderr
