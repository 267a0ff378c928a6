"""The export gates: every way an artifact can be wrong fails, NaN included, each reason with its tolerance."""

import numpy as np
import pytest

from sketch_edge.export.recipes import GATES
from sketch_edge.export.verify import gate_failures, parity

REFERENCE = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]], dtype=np.float32)


def _failures(candidate, gate="fp32", test_top1=0.9, keras_top1=0.9, classes=2):
    return gate_failures(parity(REFERENCE, candidate), GATES[gate], classes=classes, test_top1=test_top1, keras_top1=keras_top1)


def test_an_exact_copy_passes():
    assert _failures(REFERENCE.copy()) == []


def test_nan_outputs_fail_even_where_the_argmax_agrees():
    candidate = REFERENCE.copy()
    candidate[0, 1] = np.nan  # argmax still picks column 0
    failures = _failures(candidate)
    assert any("1 NaN or infinite output values" in f for f in failures)
    assert any(f.startswith("max abs diff nan") for f in failures)


def test_an_infinite_output_fails_the_quantized_gate_too():
    candidate = REFERENCE.copy()
    candidate[2, 0] = np.inf
    assert any("NaN or infinite" in f for f in _failures(candidate, gate="quantized"))


def test_a_wrong_output_shape_fails():
    failures = _failures(np.ones((3, 3), dtype=np.float32) / 3, classes=2)
    assert "output shape (3, 3) != (3, 2)" in failures and any("agreement 0.0000" in f for f in failures)


def test_a_drop_in_test_top1_fails_with_its_tolerance():
    assert _failures(REFERENCE.copy(), gate="quantized", test_top1=0.895, keras_top1=0.9) == []
    (failure,) = _failures(REFERENCE.copy(), gate="quantized", test_top1=0.88, keras_top1=0.9)
    assert failure == "test top-1 0.8800 is more than 1 point(s) below Keras 0.9000"


def test_a_drop_within_noise_is_not_a_miss_and_one_beyond_it_is():
    def failures(changes):  # 2.5 points below Keras: past the 1-point gate
        return gate_failures(
            parity(REFERENCE, REFERENCE.copy()), GATES["quantized"], classes=2, test_top1=0.8875, keras_top1=0.9125, test_changes=changes
        )

    assert failures((2, 0)) == [] and failures((4, 0)) == [] and failures((7, 2)) == []  # at most 2 sqrt(lost + gained) net
    assert failures((5, 0)) == ["test top-1 0.8875 is more than 1 point(s) below Keras 0.9125 (5 drawings lost, 0 gained)"]
    assert len(failures(None)) == 1  # nothing known of which drawings changed: the drop alone decides


@pytest.mark.parametrize("test_top1", [None, float("nan")])
def test_an_unknown_test_top1_fails(test_top1):
    assert any("test top-1" in f for f in _failures(REFERENCE.copy(), test_top1=test_top1))


def test_agreement_and_diff_misses_are_all_reported():
    swapped = REFERENCE[:, ::-1].copy()
    failures = _failures(swapped)
    assert any(f.startswith("top-1 agreement 0.0000 < 0.999") for f in failures)
    assert any(f.startswith("max abs diff 8.00e-01 > 1e-04") for f in failures)


def test_a_near_tie_a_file_within_its_diff_tolerance_may_flip_is_not_a_disagreement():
    reference = np.array([[0.5004, 0.4996], [0.9, 0.1], [0.2, 0.8]] * 250, dtype=np.float32)  # 750 drawings, 250 near-ties
    candidate = reference.copy()
    candidate[0] = [0.4996, 0.5004]  # fp16-like rounding moved one near-tie by 8e-4 each way: its answer swaps
    candidate[3] = [0.4996, 0.5004]
    p = parity(reference, candidate)
    assert p.top1_agreement == pytest.approx(1 - 2 / 750) and p.flip_margins == pytest.approx((8e-4, 8e-4), abs=1e-6)
    assert gate_failures(p, GATES["fp16"], classes=2, test_top1=0.9, keras_top1=0.9) == []  # margins <= 2 x 3e-2
    (failure,) = gate_failures(p, GATES["fp32"], classes=2, test_top1=0.9, keras_top1=0.9)[:1]  # 1e-4: no excuse at 8e-4
    assert failure.startswith("top-1 agreement 0.9973 < 0.999")
    candidate[1] = [0.1, 0.9]  # a confident drawing flipped: no tolerance explains it
    (failure,) = [
        f for f in gate_failures(parity(reference, candidate), GATES["fp16"], classes=2, test_top1=0.9, keras_top1=0.9) if "agreement" in f
    ]
    assert failure == "top-1 agreement 0.9987 < 0.999 (near-ties within the diff tolerance not counted: 0.9960 with them)"


def _unsure_model(drawings: int = 1000, unsure: float = 0.2) -> np.ndarray:
    """Keras's probabilities over 3 classes: most drawings clear (0.8 against 0.1), a fifth near-ties (0.45, 0.44)."""
    rows = np.tile(np.array([[0.8, 0.1, 0.1]], np.float32), (drawings, 1))
    rows[: int(drawings * unsure)] = [0.45, 0.44, 0.11]
    return rows


def test_the_quantized_gate_leaves_out_near_ties_within_the_files_own_noise():
    """An int8 file moves every probability a little (here 0.01); the near-ties it swaps say nothing of the file."""
    reference = _unsure_model()
    candidate = reference + np.float32(0.01) * np.tile([[1, -1, 0]], (1000, 1)).astype(np.float32)
    candidate[:40, :2] = candidate[:40, 1::-1]  # 40 of the 200 near-ties swapped: 96% agreement in all
    p = parity(reference, candidate)
    assert p.top1_agreement == pytest.approx(0.96) and p.noise == pytest.approx(0.01, abs=1e-6) and p.near_ties == 200
    assert gate_failures(p, GATES["quantized"], classes=3, test_top1=0.9, keras_top1=0.9) == []
    candidate[500:510] = candidate[500:510, ::-1]  # and 10 clear drawings answered otherwise: 10 of 800 is 98.75%
    p = parity(reference, candidate)
    assert gate_failures(p, GATES["quantized"], classes=3, test_top1=0.9, keras_top1=0.9) == []
    candidate[510:530] = candidate[510:530, ::-1]  # 30 of 800 clear drawings: 96.25%
    (failure,) = gate_failures(parity(reference, candidate), GATES["quantized"], classes=3, test_top1=0.9, keras_top1=0.9)
    assert failure == "top-1 agreement 0.9625 < 0.98 on the drawings Keras is clear about (200 near-ties left out; 0.9300 with them)"


def test_a_file_whose_noise_makes_most_drawings_near_ties_is_judged_on_all_of_them():
    reference = _unsure_model()
    candidate = np.roll(reference, 1, axis=1)  # a broken file: every output moved by 0.7
    p = parity(reference, candidate)
    assert p.near_ties == 1000  # every margin is within twice its noise
    (failure,) = [f for f in gate_failures(p, GATES["quantized"], classes=3, test_top1=0.9, keras_top1=0.9) if "agreement" in f]
    assert failure == "top-1 agreement 0.0000 < 0.98"
