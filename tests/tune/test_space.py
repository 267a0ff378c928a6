"""Search spaces: a file that is not one is an error; a point that cannot be built is a candidate with its reason."""

import json

import pytest

from sketch_edge.errors import SpaceError
from sketch_edge.tune.space import DEFAULT_SPACE, SearchSpace, load_space, parse_space


def candidates(space, seed, limit=None):
    return [space.candidate(values) for values in space.ordered(seed, limit)]


def test_default_space_is_all_buildable_edge_cnns():
    space = load_space(None)
    found = candidates(space, 0)
    assert len(found) == space.size == len({c.name for c in found})
    assert all(c.problem is None and c.name.startswith("edge-cnn[") for c in found)
    assert space.grids == (DEFAULT_SPACE["params"],)


def test_candidates_are_a_seeded_sample_of_the_product():
    space = SearchSpace("edge-cnn", ({"width": [8, 16, 24], "depth": [2, 3]},))
    first = [c.values for c in candidates(space, 1)]
    assert sorted(map(str, first)) == sorted(str({"width": w, "depth": d}) for w in (8, 16, 24) for d in (2, 3))
    assert [c.values for c in candidates(space, 1)] == first
    assert [c.values for c in candidates(space, 2)] != first
    assert [c.values for c in candidates(space, 1, limit=2)] == first[:2]


def test_points_that_cannot_be_built_say_why():
    space = SearchSpace("edge-cnn", ({"width": [-4], "conv": ["fancy"], "colour": ["red"]},))
    (bad,) = candidates(space, 0)
    assert bad.problem is not None and "colour" in bad.problem
    problems = {c.values["width"]: c.problem for c in candidates(SearchSpace("edge-cnn", ({"width": [-4, 16]},)), 0)}
    assert problems == {-4: "width must be at least 1", 16: None}
    (fancy,) = candidates(SearchSpace("edge-cnn", ({"conv": ["fancy"]},)), 0)
    assert fancy.problem == "conv must be one of plain, separable"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "expected"),
        ('{"params": {}}', "at least one parameter"),
        ('{"family": "nope", "params": {"width": [8]}}', "unknown model family 'nope'"),
        ('{"params": {"width": 8}}', "params.width must be a non-empty list"),
        ('{"params": {"width": [[8]]}}', "params.width must be a non-empty list"),
        ('{"params": {"width": [8]}, "budget": 3}', "unknown key(s) budget"),
        ('{"params": [{"width": [8]}, {}]}', "or a list of such grids"),
    ],
)
def test_a_file_that_is_not_a_space_is_a_one_line_error(tmp_path, text, message):
    path = tmp_path / "space.json"
    path.write_text(text)
    with pytest.raises(SpaceError, match=str(path)) as caught:
        load_space(path)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_missing_space_file(tmp_path):
    with pytest.raises(SpaceError, match="cannot read the search space"):
        load_space(tmp_path / "absent.json")


def test_duplicate_values_are_one_candidate():
    space = parse_space(json.loads('{"params": {"width": [8, 8, 16]}}'), "inline")
    assert space.size == 2


def test_a_list_of_grids_is_their_union():
    space = parse_space({"params": [{"width": [8, 16], "pool": ["max"]}, {"width": [16, 24], "pool": ["max", "stride"]}]}, "inline")
    points = {(p["width"], p["pool"]) for p in space.points()}
    assert points == {(8, "max"), (16, "max"), (24, "max"), (16, "stride"), (24, "stride")} and space.size == 5


def test_a_space_too_large_to_list_is_refused():
    with pytest.raises(SpaceError, match="inline: 1,073,741,824 points"):
        parse_space({"params": {f"p{i}": list(range(8)) for i in range(10)}}, "inline")


def test_a_huge_space_with_a_spent_budget_is_counted_not_built(tmp_path):

    from sketch_edge.data import DataRequest
    from sketch_edge.tune.stage import TuneConfig, run

    huge = parse_space(
        {
            "family": "edge-cnn",
            "params": {"width": list(range(8, 108)), "depth": list(range(1, 11)), "dropout": [i / 100 for i in range(100)]},
        },
        "huge",
    )
    built = []
    original = SearchSpace.candidate
    SearchSpace.candidate = lambda self, values: built.append(values) or original(self, values)  # type: ignore[method-assign]
    try:
        summary = run(TuneConfig(DataRequest(per_class=20), huge, tmp_path, budget_s=1e-9), runner=lambda job, s: None)
    finally:
        SearchSpace.candidate = original  # type: ignore[method-assign]
    assert sum(summary.counts.values()) == 100_000 and summary.counts["not run"] > 99_000  # deep ones are invalid
    assert len(summary.candidates) <= 100 and len(built) < 1000 and summary.settings["space"]["size"] == 100_000
