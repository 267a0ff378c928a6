"""`verify-arm`: the comparison with x86 and its tolerances, which files run, and the check end to end under qemu."""

import json
from dataclasses import replace

import numpy as np
import pytest

from sketch_edge.arm import environment
from sketch_edge.arm.worker import RunResult
from sketch_edge.cli import main
from sketch_edge.export import arm
from sketch_edge.manifest import ARM_FAILURE, Manifest
from tests.arm.test_environment import cached
from tests.helpers import copy_artifacts

ARM = ("fp", "asimd", "asimddp")
X86 = ("sse2", "avx2")
STEP = 1 / 256
STRICT = arm.Held(None, 1.0, 1e-4)


def result(machine="aarch64", features=ARM, kernels="XNNPACK delegate", scale=STEP) -> RunResult:
    return RunResult(machine=machine, features=features, runtime="litert 2.3.0", kernels=kernels, output_scale=scale, seconds=1.0)


def outputs(tmp_path, name, values) -> object:
    path = tmp_path / f"{name}.npy"
    np.save(path, np.asarray(values, dtype=np.float32))
    return path


def check(tmp_path, a, b, *, x86=None, here=None, held=STRICT, truth=None):
    reference = (x86 or result("x86_64", X86), outputs(tmp_path, "a", a))
    truth = truth or arm.Truth(np.zeros(len(a), int), np.asarray(a, np.float32))
    return arm.compare(reference, (here or result(), outputs(tmp_path, "b", b)), held, truth, "qemu")


def test_a_quantized_output_may_move_one_step_and_no_more(tmp_path):
    base = [[0.75, 0.25], [0.5, 0.5]]
    one = check(tmp_path, base, [[0.75 - STEP, 0.25 + STEP], [0.5, 0.5]])
    assert (one.status, one.max_steps, one.agreement, one.samples, one.differing) == ("ok", pytest.approx(1.0), 1.0, 2, 1)
    two = check(tmp_path, base, [[0.75 - 2 * STEP, 0.25 + 2 * STEP], [0.5, 0.5]])
    assert two.status == "failed" and "2.00 steps of 0.00390625 (> 1)" in two.reason
    lenient = check(tmp_path, base, [[0.75 - 2 * STEP, 0.25 + 2 * STEP], [0.5, 0.5]], held=arm.Held(None, 2.0, 1e-4))
    assert lenient.status == "ok" and lenient.tolerance == "2 step(s) of 0.00390625"


def test_an_onnx_output_is_held_to_the_step_its_dequantize_gives_and_a_float_one_to_the_diff(tmp_path):
    onnx = result(kernels="ONNX Runtime CPU execution provider (MLAS)", scale=None)
    x86 = replace(onnx, machine="x86_64")
    stepped = check(tmp_path, [[0.5, 0.5]], [[0.5 + STEP, 0.5 - STEP]], x86=x86, here=onnx, held=arm.Held(STEP, 1, 1e-4))
    assert stepped.status == "ok" and stepped.max_steps == pytest.approx(1.0)
    floats = check(tmp_path, [[0.5, 0.5]], [[0.5 + 2e-4, 0.5 - 2e-4]], x86=x86, here=onnx)
    assert floats.status == "failed" and floats.max_steps is None and floats.reason == "max abs diff 0.0002 > 0.0001"


def test_top1_and_the_distance_from_keras_are_given_for_both_sides(tmp_path):
    truth = arm.Truth(np.array([0, 1]), np.array([[0.9, 0.1], [0.3, 0.7]], np.float32))
    found = check(tmp_path, [[0.75, 0.25], [0.5, 0.5]], [[0.75 - STEP, 0.25 + STEP], [0.5, 0.5]], truth=truth)
    assert (found.top1, found.x86_top1) == (0.5, 0.5)  # argmax of a tie is the first class
    assert found.x86_keras_max_abs_diff == pytest.approx(0.2) and found.keras_max_abs_diff == pytest.approx(0.2)


def test_a_dynamic_range_file_is_held_to_its_own_distance_from_keras(exported):
    root, manifest = exported
    dynamic = manifest.artifact("tflite-dynamic")
    held = arm.held_to(dynamic, manifest, root / "export", arm.ArmConfig(root))
    assert held.max_abs_diff == max(dynamic.parity.max_abs_diff, arm.MAX_ABS_DIFF) and held.step is None
    assert arm.held_to(dynamic, manifest, root / "export", arm.ArmConfig(root, max_dynamic_diff=0.5)).max_abs_diff == 0.5
    assert arm.held_to(manifest.artifact("tflite-fp32"), manifest, root / "export", arm.ArmConfig(root)).max_abs_diff == arm.MAX_ABS_DIFF


@pytest.mark.parametrize(
    ("here", "b", "reason"),
    [
        (result(kernels="LiteRT built-in kernels"), [[1.0, 0.0]], "did not create its XNNPACK delegate"),
        (result(), [[1.0, 0.0], [1.0, 0.0]], "output shape (2, 2) here, (1, 2) on x86"),
        (result(), [[np.nan, 0.0]], "not a finite number"),
    ],
)
def test_a_run_that_is_not_the_phone_s_kernels_or_not_comparable_fails(tmp_path, here, b, reason):
    found = check(tmp_path, [[1.0, 0.0]], b, here=here)
    assert found.status == "failed" and reason in found.reason


@pytest.mark.parametrize("here", [result(machine="x86_64", features=X86), result(features=())])
def test_an_emulator_that_does_not_emulate_arm_is_a_refusal_not_a_failed_file(tmp_path, here):
    from sketch_edge.errors import EmulationError

    done = {("tflite-int8", None): (result("x86_64", X86), tmp_path / "a.npy"), ("tflite-int8", "cortex-a55"): (here, tmp_path / "b.npy")}
    env = type("Env", (), {"qemu": tmp_path / "qemu-aarch64"})()
    with pytest.raises(EmulationError, match="seeing no Arm CPU features: this emulator does not emulate Arm"):
        arm.refuse_a_host_that_is_not_arm(done, env)
    arm.refuse_a_host_that_is_not_arm({("tflite-int8", "cortex-a55"): (result(), tmp_path / "b.npy")}, env)  # Arm: passes


def test_a_run_that_crashed_fails_with_its_reason(tmp_path):
    no_truth = arm.Truth(np.zeros(0), np.zeros((0, 2)))
    crashed = arm.compare(
        (result("x86_64", X86), tmp_path / "a.npy"), ("process died (SIGSEGV)", tmp_path / "b.npy"), STRICT, no_truth, "qemu"
    )
    assert crashed.status == "failed" and crashed.reason == "it did not run: process died (SIGSEGV)"


def test_integer_files_run_every_test_drawing_and_float_ones_a_stride_through_all(exported):
    _, manifest = exported
    assert len(arm.samples(manifest.artifact("tflite-int8"), 4000, 200)) == 4000
    rows = arm.samples(manifest.artifact("tflite-fp32"), 4000, 200)
    assert len(rows) == 200 and rows[0] == 0 and rows[-1] == 3999 and len(set(rows)) == 200
    assert len(arm.samples(manifest.artifact("tflite-fp16"), 80, 200)) == 80


def test_which_files_run_and_a_file_failed_only_on_arm_runs_again(exported):
    root, manifest = exported
    chosen = arm._chosen(manifest, root / "export", ())
    assert {a.format for a in chosen} == {"tflite", "onnx", "ort"} and "saved_model" not in {a.name for a in chosen}
    failed = arm._with_checks(manifest.artifact("tflite-int8"), {"cortex-a55": arm.ArmCheck("failed", reason="2 steps")})
    assert failed.status == "failed" and failed.error == ARM_FAILURE + "cortex-a55: 2 steps"
    again = replace(manifest, artifacts=tuple(failed if a.name == "tflite-int8" else a for a in manifest.artifacts))
    assert again.made("tflite-int8") == failed
    assert [a.name for a in arm._chosen(again, root / "export", ("tflite-int8",))] == ["tflite-int8"]
    with pytest.raises(arm.ManifestError, match="no artifact 'tflite-nine'"):
        arm._chosen(manifest, root / "export", ("tflite-nine",))


def test_a_file_changed_since_export_is_refused(exported, tmp_path):
    root = copy_artifacts(exported[0], tmp_path / "artifacts")
    path = root / "export" / exported[1].artifact("onnx-int8").path
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(arm.ManifestError, match=r"onnx-int8.onnx: missing, or not the file the manifest lists \(sha256\)"):
        arm._chosen(exported[1], root / "export", ())


def test_the_step_of_an_onnx_file_is_its_dequantize_scale_and_an_ort_file_takes_its_twin_s(exported):
    root, manifest = exported
    artifacts = manifest.artifacts
    assert arm.output_step(manifest.artifact("onnx-int8"), root / "export", artifacts) == pytest.approx(1 / 255)  # uint8 over [0, 1]
    assert arm.output_step(manifest.artifact("ort-mobile-int8"), root / "export", artifacts) == pytest.approx(1 / 255)
    assert arm.output_step(manifest.artifact("onnx-fp32"), root / "export", artifacts) is None


def test_a_known_bad_emulator_is_refused_before_any_run_and_the_manifest_is_untouched(exported, tmp_path, capsys):
    """A qemu 7.2 (bookworm's) in the cache: one line naming it and why, exit 2, nothing written."""
    root = copy_artifacts(exported[0], tmp_path / "artifacts")
    before = (root / "export" / "manifest.json").read_bytes()
    folder = cached(tmp_path / "cache", "7.2.0 (Debian 1:7.2+dfsg-7+deb12u18)")
    code = main(["verify-arm", "--artifacts", str(root), "--cache", str(tmp_path / "cache")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1].startswith(f"sketch-edge: error: {folder}/qemu-aarch64: qemu 7.2 does not emulate /proc/cpuinfo")
    assert (root / "export" / "manifest.json").read_bytes() == before


@pytest.mark.slow
@pytest.mark.skipif(environment.missing() is not None, reason=str(environment.missing()))
def test_verify_arm_runs_the_files_on_a_little_and_a_big_core_and_keeps_it_in_the_manifest(exported, tmp_path, capsys):
    """The real thing: the emulated machine built (or taken from the user's cache), four files on cortex-a55 and
    cortex-a710, every test drawing for the integer ones, each agreeing with x86 within one step."""
    root = copy_artifacts(exported[0], tmp_path / "artifacts")
    recipes = "tflite-int8,tflite-fp32,onnx-int8,ort-mobile-int8,tflite-mobile-int8"
    assert main(["verify-arm", "--artifacts", str(root), "--recipes", recipes, "--float-samples", "20"]) == 0
    manifest = Manifest.load(root / "export" / "manifest.json")
    for name in recipes.split(","):
        artifact = manifest.artifact(name)
        assert artifact.status == "ok" and set(artifact.details.arm) == {"cortex-a55", "cortex-a710"}, artifact.error
        for cpu, c in artifact.details.arm.items():
            assert c.status == "ok" and c.agreement == 1.0 and "aarch64" not in c.reference and "asimd" in c.features, (name, cpu)
            assert c.samples == (20 if name == "tflite-fp32" else exported[1].artifact(name).details.test_samples)
            assert c.kernels == ("XNNPACK delegate" if name.startswith("tflite") else "ONNX Runtime CPU execution provider (MLAS)")
            assert c.max_steps is None if name == "tflite-fp32" else c.max_steps <= 1.0
    assert "i8mm" in manifest.artifact("tflite-int8").details.arm["cortex-a710"].features
    assert "i8mm" not in manifest.artifact("tflite-int8").details.arm["cortex-a55"].features
    out = capsys.readouterr().out
    assert "cortex-a710" in out and "XNNPACK delegate" in out
    json.loads((root / "export" / "manifest.json").read_text())  # saved whole

    # Held to no difference at all, the float file fails (exit 3, marked in the manifest); the default passes it again.
    assert main(["verify-arm", "--artifacts", str(root), "--recipes", "tflite-fp32", "--float-samples", "20", "--max-diff", "0"]) == 3
    failed = Manifest.load(root / "export" / "manifest.json").artifact("tflite-fp32")
    assert failed.status == "failed" and failed.error.startswith(ARM_FAILURE + "cortex-a55: max abs diff")
    assert "differ on emulated Arm: tflite-fp32" in capsys.readouterr().err
    assert main(["verify-arm", "--artifacts", str(root), "--recipes", "tflite-fp32", "--float-samples", "20"]) == 0
    assert Manifest.load(root / "export" / "manifest.json").artifact("tflite-fp32").status == "ok"
