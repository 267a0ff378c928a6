"""The mobile recipes checked by the mobile toolchains' own clients (export.mobile, export.ort)."""

import subprocess
import sys

import numpy as np
import pytest

from sketch_edge.data.saved_split import SavedSplit
from sketch_edge.export import mobile
from sketch_edge.export.recipes import get_recipe, list_recipes
from sketch_edge.manifest import ClientCheck
from sketch_edge.runtime import open_runner
from sketch_edge.runtime.base import predict_all
from tests.helpers import TINY_CLASSES, copy_artifacts


def test_mediapipe_recipes_are_for_bitmap_models_and_the_ort_ones_convert_their_twins():
    assert "tflite-mobile-int8" in list_recipes(True, "feed-forward", "bitmap")
    strokes = list_recipes(True, "feed-forward", "strokes")
    assert "tflite-mobile-int8" not in strokes and {"onnx-mobile-int8", "ort-mobile-int8"} <= set(strokes)
    assert get_recipe("ort-mobile-int8").converts == "onnx-mobile-int8" and not get_recipe("ort-mobile-int8").measures_sensitivity


def test_every_client_and_twin_a_recipe_names_is_registered():
    from sketch_edge.export.recipes import CLIENTS, RECIPES

    assert {r.client for r in RECIPES.values() if r.client} == set(CLIENTS)
    for recipe in RECIPES.values():
        if recipe.converts:
            twin = RECIPES[recipe.converts]
            assert (twin.format, twin.compute, twin.client) == ("onnx", recipe.compute, recipe.client) and not twin.converts


def test_without_mediapipe_the_check_is_skipped_with_the_pip_command(monkeypatch, tmp_path):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "mediapipe" else real(name, *a))
    check = mobile.check_with_mediapipe(tmp_path / "m.tflite", np.zeros((1, 28, 28, 1)), ("a",), np.ones((1, 1)), np.zeros(1), tmp_path)
    assert check.status == "skipped" and "pip install 'sketch-edge[mobile]'" in check.reason


@pytest.mark.slow
def test_mediapipe_classifies_the_mobile_files_as_litert_does_and_refuses_a_desktop_one(exported, tmp_path):
    """The export's verdict, and MediaPipe run here again on the test drawings: the categories are the metadata's
    labels and the answers LiteRT's; a desktop file (one gray channel) is refused with MediaPipe's own words."""
    root, manifest = exported
    saved = SavedSplit.load(root / "split.npz")
    x = saved.test_x.astype(np.float32)
    for name in ("tflite-mobile-fp32", "tflite-mobile-int8"):
        artifact = manifest.artifact(name)
        assert artifact.status == "ok", artifact.error
        recorded = artifact.details.client
        assert recorded.status == "ok" and recorded.samples == len(x) and recorded.labels_from_metadata
        assert recorded.agreement >= mobile.MIN_CLIENT_AGREEMENT and recorded.client_top1 == pytest.approx(recorded.runtime_top1, abs=0.001)
        path = root / "export" / artifact.path
        litert = predict_all(open_runner(path), x, 64)
        again = mobile.check_with_mediapipe(path, x, TINY_CLASSES, litert, saved.test_y, tmp_path)
        assert again == recorded
    desktop = root / "export" / manifest.artifact("tflite-fp32").path
    refused = mobile.check_with_mediapipe(desktop, x[:4], TINY_CLASSES, np.eye(4)[:4], saved.test_y[:4], tmp_path)
    assert refused.status == "failed" and refused.reason == "it refused the file: Only RGB color space is supported for now."


def _cli_verdicts(path) -> dict[str, str]:
    """The verdicts ONNX Runtime's own command prints ("Model should perform well with NNAPI as is: YES")."""
    run = subprocess.run(
        [sys.executable, "-m", "onnxruntime.tools.check_onnx_model_mobile_usability", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    said = run.stdout + run.stderr
    marker = "Model should perform well with "
    return {
        line.split(marker)[1].split(" as is:")[0]: line.rsplit(":", 1)[1].strip()
        for line in said.splitlines()
        if marker in line and " as is:" in line
    }


@pytest.mark.slow
def test_fixed_batch_onnx_files_pass_the_nnapi_check_as_onnx_runtimes_own_command_says(exported):
    root, manifest = exported
    for name in ("onnx-mobile-fp32", "onnx-mobile-int8", "onnx-int8"):
        artifact = manifest.artifact(name)
        path = root / "export" / artifact.path
        ours = artifact.details.providers or mobile.usability(path)  # the desktop file is not checked at export
        assert [p.provider for p in ours] == list(mobile.PROVIDERS)
        assert {p.provider: p.verdict for p in ours} == _cli_verdicts(path), name
        nnapi = ours[0]
        if name.startswith("onnx-mobile"):
            assert artifact.inputs[0].shape[0] == 1 and nnapi.verdict == "YES" and nnapi.supported_nodes == nnapi.nodes
        else:  # the dynamic batch leaves Shape arithmetic and dynamic shapes the provider cannot take
            assert nnapi.verdict != "YES" and nnapi.supported_nodes < nnapi.nodes


@pytest.mark.slow
def test_ort_files_are_their_twins_converted_and_share_one_reduced_build_config(exported):
    root, manifest = exported
    for name, twin in (("ort-mobile-fp32", "onnx-mobile-fp32"), ("ort-mobile-int8", "onnx-mobile-int8")):
        artifact = manifest.artifact(name)
        assert artifact.status == "ok", artifact.error
        assert artifact.details.twin.twin == twin and artifact.details.twin.sha256 == manifest.artifact(twin).sha256
        assert artifact.details.twin.max_abs_diff <= 1e-5 and artifact.details.twin.agreement == 1.0
    config = root / "export" / manifest.after_export["ort"]
    text = config.read_text()
    assert "ort-mobile-fp32.ort" in text and "ort-mobile-int8.ort" in text
    assert "ai.onnx;" in text and "Softmax" in text and "QLinearConv" in text  # the int8 file's fused kernels too


@pytest.mark.slow
def test_a_mobile_recipe_asked_of_a_stroke_model_is_a_clear_row(exported_strokes, tmp_path):
    from sketch_edge.export import stage

    copy = copy_artifacts(exported_strokes[0], tmp_path / "a")
    manifest = stage.run(stage.ExportConfig(artifacts=copy, recipes=("tflite-mobile-int8",)))
    (row,) = manifest.artifacts
    assert row.status == "failed" and row.error == "tflite-mobile-int8 is made for bitmap and image models; this model reads strokes"


def test_a_failed_client_fails_the_artifact_and_a_skipped_one_does_not():
    from sketch_edge.export.verify import mobile_failures
    from sketch_edge.manifest import Details, TwinCheck

    failed = ClientCheck("MediaPipe", "failed", reason="it refused the file: Only RGB color space is supported for now.")
    assert mobile_failures(Details(client=failed)) == ["MediaPipe: it refused the file: Only RGB color space is supported for now."]
    assert mobile_failures(Details(client=ClientCheck("MediaPipe", "skipped", reason="not installed"))) == []
    far = TwinCheck("onnx-mobile-int8", "0" * 64, 0.25, 0.9, 80)
    assert mobile_failures(Details(twin=far)) == ["its outputs differ from its twin onnx-mobile-int8's by 2.50e-01 (> 1e-05)"]
    assert mobile_failures(Details(twin=TwinCheck("onnx-mobile-int8", "0" * 64, None, 0.0, 80)))[0].endswith("by not a number (> 1e-05)")
