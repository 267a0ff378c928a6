"""`pip install sketch-edge` alone (no extras) gives an app the predictor and `sketch-edge predict`, without TensorFlow."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from tests.helpers import REPO, linear_softmax_onnx

pytestmark = pytest.mark.slow


def test_the_base_install_predicts_without_tensorflow(tmp_path):
    pytest.importorskip("onnx")  # to build the test model here, not in the app's environment
    venv = tmp_path / "app"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-c", str(REPO / "constraints.txt"), str(REPO)], check=True, capture_output=True, timeout=600)

    model = linear_softmax_onnx(tmp_path / "m.onnx", np.full((784, 2), 0.001, np.float32), {"labels": ["a", "b"], "model": "linear"})
    np.save(tmp_path / "x.npy", np.zeros((2, 784), np.uint8))
    done = subprocess.run(
        [str(venv / "bin" / "sketch-edge"), "predict", str(model), str(tmp_path / "x.npy"), "--json"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["top"][0]["probability"] for line in done.stdout.splitlines()] == [0.5, 0.5]

    installed = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "list", "--format=json"], capture_output=True, text=True, check=True
    )
    names = {p["name"].lower() for p in json.loads(installed.stdout)}
    assert "onnxruntime" in names and not names & {"tensorflow", "keras", "tf2onnx", "onnx", "ai-edge-litert"}, sorted(names)
