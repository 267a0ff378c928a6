"""A search space: a model family and, per parameter, the values to try; candidates are drawn from their product.

Given as JSON (`--space FILE`), e.g. `{"family": "edge-cnn", "params": {"width": [16, 32], "pool": ["max", "stride"]}}`,
or with a list of such grids as `params` (their union); a parameter not named keeps the family's default. A file that cannot be read is an
error; a combination that cannot be built (a negative width, an unknown option)
is a candidate row saying why, so one bad value does not stop the others.
"""

from __future__ import annotations

import itertools
import json
import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sketch_edge.errors import ModelError, SpaceError
from sketch_edge.fileio import read_limited
from sketch_edge.models import list_families
from sketch_edge.models.registry import family_params, model_name

DEFAULT_SPACE: dict[str, Any] = {
    "family": "edge-cnn",
    "params": {
        "width": [16, 24, 32, 48],
        "depth": [2, 3],
        "convs": [1, 2],
        "conv": ["plain", "separable"],
        "pool": ["max", "stride"],
        "dropout": [0.2, 0.4],
        "augment": [0, 1, 2],
        "epochs": [10, 20],
    },
}


MAX_POINTS = 100_000
"""A tune tries a few dozen points; listing and shuffling 100,000 takes under a second and 60 MB (a million took
10 s and 530 MB, past the 5 s and 500 MB every hostile input is held to: benchmarks/hostile_inputs.py)."""


@dataclass(frozen=True)
class Candidate:
    """One point of the space: its model name when it can be built, else why not."""

    values: dict[str, Any]
    name: str
    problem: str | None = None


@dataclass(frozen=True)
class SearchSpace:
    """The union of the grids' products (as scikit-learn's `ParameterGrid` takes a list of grids)."""

    family: str
    grids: tuple[dict[str, list[Any]], ...]

    @property
    def size(self) -> int:
        return len(self.points())

    def points(self) -> list[dict[str, Any]]:
        """Every distinct point, grid by grid."""
        seen: dict[str, dict[str, Any]] = {}
        for grid in self.grids:
            for values in itertools.product(*grid.values()):
                point = dict(zip(grid, values, strict=True))
                seen.setdefault(json.dumps(point, sort_keys=True), point)
        return list(seen.values())

    def ordered(self, seed: int, limit: int | None = None) -> list[dict[str, Any]]:
        """Up to `limit` points in a seeded random order (random search: every order is as good a priori, and a
        budget cut leaves a spread sample rather than one corner of the grid). A point becomes a `candidate` when
        it is taken: a tune that stops early builds no more of its points than it tried."""
        points = self.points()
        random.Random(seed).shuffle(points)
        return points[:limit]

    def candidate(self, values: dict[str, Any]) -> Candidate:
        try:
            params = family_params(self.family, values, check=False)
        except ModelError as exc:
            raw = ",".join(f"{k}={v}" for k, v in values.items())
            return Candidate(values, f"{self.family}[{raw}]", str(exc))
        return Candidate(values, model_name(self.family, params), params.check())


def parse_space(data: Any, origin: str) -> SearchSpace:
    """A SearchSpace from decoded JSON; a SpaceError naming `origin` when its shape is wrong."""
    grids = data.get("params") if isinstance(data, dict) else None
    grids = [grids] if isinstance(grids, dict) else grids
    if not isinstance(grids, list) or not grids or not all(isinstance(g, dict) and g for g in grids):
        raise SpaceError(
            f'{origin}: expected {{"family": NAME, "params": {{PARAMETER: [VALUES, ...], ...}}}} with at least one parameter '
            "(or a list of such grids)"
        )
    family = data.get("family", DEFAULT_SPACE["family"])
    if family not in list_families():
        raise SpaceError(f"{origin}: unknown model family {family!r}; families: {', '.join(list_families())}")
    extra = set(data) - {"family", "params"}
    if extra:
        raise SpaceError(f"{origin}: unknown key(s) {', '.join(sorted(extra))}; a space has 'family' and 'params'")
    for grid in grids:
        for key, values in grid.items():
            if not isinstance(values, list) or not values or any(isinstance(v, (list, dict)) for v in values):
                raise SpaceError(f"{origin}: params.{key} must be a non-empty list of numbers or strings")
    bound = sum(math.prod(len(values) for values in grid.values()) for grid in grids)
    if bound > MAX_POINTS:
        raise SpaceError(f"{origin}: {bound:,} points; a tune tries a few dozen, so at most {MAX_POINTS:,} are listed: narrow it")
    return SearchSpace(family, tuple({key: list(dict.fromkeys(values)) for key, values in grid.items()} for grid in grids))


MAX_SPACE_BYTES = 1 << 20
"""A search space is a few hundred bytes; a megabyte is generous, and a file that never ends is refused."""


def load_space(path: Path | None) -> SearchSpace:
    """The space in `path` (JSON), or the default space."""
    if path is None:
        return parse_space(DEFAULT_SPACE, "the default space")
    try:
        data = json.loads(read_limited(path, MAX_SPACE_BYTES).decode("utf-8"))
    except OSError as exc:
        raise SpaceError(f"{path}: cannot read the search space ({exc.strerror or exc})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SpaceError(f"{path}: not JSON ({exc})") from None
    except RecursionError:
        raise SpaceError(f"{path}: nested too deep to be a search space") from None
    return parse_space(data, str(path))
