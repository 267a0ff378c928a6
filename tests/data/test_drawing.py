import numpy as np
import pytest

from sketch_edge.data.drawing import from_stroke3, parse_drawing, rdp, resample, simplify_raw, to_stroke3
from sketch_edge.errors import DataError
from tests.helpers import SQUARE, TRIANGLE


def test_simplified_drawing_is_kept_as_is():
    drawing, raw = parse_drawing(SQUARE, "f:1")
    assert drawing == SQUARE and raw is False


def test_raw_drawing_is_simplified_the_official_way():
    # A raw stroke: float coordinates in device pixels and a time row, densely sampled along a line.
    xs = list(np.linspace(100.5, 600.5, 400))
    ys = list(np.linspace(50.25, 300.25, 400))
    drawing, raw = parse_drawing([[xs, ys, list(range(400))]], "f:1")
    assert raw is True
    ((sx, sy),) = drawing
    # aligned to the top-left, scaled uniformly so the longer side spans 0-255, a straight line collapses to its ends
    assert (sx[0], sy[0]) == (0, 0)
    assert (sx[-1], sy[-1]) == (255, 128)
    assert len(sx) == 2


def test_rdp_keeps_ends_and_corners_and_drops_points_within_epsilon():
    pts = np.array([[0, 0], [5, 0.5], [10, 0], [10, 10]], dtype=float)
    out = rdp(pts, 2.0)
    assert out.tolist() == [[0, 0], [10, 0], [10, 10]]


def test_resample_spacing():
    out = resample(np.array([[0.0, 0.0], [10.0, 0.0]]), 1.0)
    assert len(out) == 11 and np.allclose(np.diff(out[:, 0]), 1.0)


def test_simplify_raw_keeps_stroke_count():
    strokes = [np.array([[0, 10, 20], [0, 0, 5]]), np.array([[3, 3], [8, 30]])]
    assert len(simplify_raw(strokes)) == 2


def test_stroke3_round_trip():
    drawing = SQUARE + TRIANGLE
    s3 = to_stroke3(drawing)
    assert s3.shape == (9, 3) and s3[:, 2].sum() == 2
    assert from_stroke3(s3, "x") == drawing


@pytest.mark.parametrize(
    "bad, problem",
    [
        ([], "non-empty list"),
        ("abc", "non-empty list"),
        ([[[1, 2]]], "stroke 0"),
        ([[[1, 2], [3]]], "ragged"),
        ([[[], []]], "zero length"),
        ([[["a"], ["b"]]], "a coordinate that is not a number"),
        ([[["1", "2"], [3, 4]]], "a coordinate that is not a number"),  # numpy would read the text as numbers
        ([[[True, False], [3, 4]]], "a coordinate that is not a number"),  # and True as 1
        ([[[1, [2]], [3, 4]]], "a coordinate that is not a number"),
        ([[[10**400, 2], [3, 4]]], "too large for a number"),
        ([[[1, 300], [3, 4]]], "0-255"),
        ([[[1, float("nan")], [3, 4]]], "NaN"),
    ],
)
def test_bad_drawings_name_the_place_and_the_problem(bad, problem):
    with pytest.raises(DataError, match=problem) as err:
        parse_drawing(bad, "cat.ndjson:7")
    assert str(err.value).startswith("cat.ndjson:7:")


def test_bad_stroke3():
    with pytest.raises(DataError, match="shape"):
        from_stroke3(np.zeros((4, 2)), "x.npz[train][0]")


def test_a_huge_raw_zigzag_is_resampled_within_the_bound(monkeypatch):
    from sketch_edge.data import drawing

    seen = []
    real_rdp = drawing.rdp
    monkeypatch.setattr(drawing, "rdp", lambda points, eps: seen.append(len(points)) or real_rdp(points, eps))
    xs = np.linspace(0, 1000, 10_000).tolist()
    ys = [0.0 if i % 2 else 1000.0 for i in range(10_000)]  # 10,000 points, each segment ~1000 units long
    simplified, was_raw = parse_drawing([[xs, ys]], "zigzag")
    assert was_raw and sum(seen) <= drawing.MAX_RESAMPLED_POINTS + 2 and len(simplified[0][0]) >= 2


def test_a_normal_raw_drawing_is_resampled_at_one_unit(monkeypatch):
    from sketch_edge.data import drawing

    spacings = []
    real_resample = drawing.resample
    monkeypatch.setattr(drawing, "resample", lambda points, spacing: spacings.append(spacing) or real_resample(points, spacing))
    parse_drawing([[[0.5, 300.0, 300.0], [0.0, 0.0, 150.0]], [[10.0, 20.0], [5.0, 5.0]]], "raw")
    assert spacings == [1.0, 1.0]
