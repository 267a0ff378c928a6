"""tune.candidate: a benched cell of a candidate, with its floor from the target runtime's measured int8 peak."""

import pytest

from sketch_edge.bench.results import read
from sketch_edge.tune.candidate import _artifact
from tests.helpers import EXAMPLES

RESULTS = read(EXAMPLES / "results.json")


def test_the_floor_is_macs_over_the_targets_own_int8_peak_on_one_thread():
    cell = next(r for r in RESULTS.results if r.recipe == "tflite-int8" and r.threads == 1)
    peak = max(k.gops for k in RESULTS.peak_kernels if k.runtime == "litert" and "int8" in k.kinds and k.threads == 1 and k.gops)
    artifact = _artifact(cell, RESULTS, "litert")
    assert artifact.recipe == "tflite-int8" and artifact.p50_us == cell.p50 and artifact.peak_gops == peak
    assert artifact.floor_us == pytest.approx(2 * cell.macs / (peak * 1e9) * 1e6)
    assert artifact.floor_ratio == pytest.approx(cell.p50 / artifact.floor_us)


def test_no_peak_of_the_target_means_no_floor():
    cell = next(r for r in RESULTS.results if r.recipe == "tflite-int8")
    artifact = _artifact(cell, RESULTS, "keras")  # no kernel of the target was timed
    assert artifact.peak_gops is None and artifact.floor_us is None and artifact.floor_ratio is None and artifact.p50_us == cell.p50
