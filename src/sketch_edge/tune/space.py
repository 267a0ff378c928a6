"""A search space: a model family and, per parameter, the values to try; candidates are drawn from their product.

Given as JSON (`--space FILE`), e.g. `{"family": "edge-cnn", "params": {"width": [16, 32], "pool": ["max", "stride"]}}`;
a parameter not named keeps the family's default. A file that cannot be read is an
error; a combination that cannot be built (a negative width, an unknown option)
is a candidate row saying why, so one bad value does not stop the others.
"""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sketch_edge.errors import ModelError, SketchEdgeError
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


class SpaceError(SketchEdgeError):
    """A search-space file cannot be read as one."""


@dataclass(frozen=True)
class Candidate:
    """One point of the space: its model name when it can be built, else why not."""

    values: dict[str, Any]
    name: str
    problem: str | None = None


@dataclass(frozen=True)
class SearchSpace:
    family: str
    params: dict[str, list[Any]]

    @property
    def size(self) -> int:
        count = 1
        for values in self.params.values():
            count *= len(values)
        return count

    def candidates(self, seed: int, limit: int | None = None) -> list[Candidate]:
        """Up to `limit` distinct points in a seeded random order (random search: every order is as good a priori,
        and a budget cut leaves a spread sample rather than one corner of the grid)."""
        keys = list(self.params)
        count = self.size if limit is None else min(limit, self.size)
        if self.size <= 100_000:
            points = list(itertools.product(*self.params.values()))
            random.Random(seed).shuffle(points)
            points = points[:count]
        else:  # too many to list: draw distinct index tuples
            rng, seen, points = random.Random(seed), set(), []
            while len(points) < count:
                point = tuple(rng.randrange(len(v)) for v in self.params.values())
                if point not in seen:
                    seen.add(point)
                    points.append(tuple(v[i] for v, i in zip(self.params.values(), point, strict=True)))
        return [self.candidate(dict(zip(keys, point, strict=True))) for point in points]

    def candidate(self, values: dict[str, Any]) -> Candidate:
        try:
            params = family_params(self.family, values, check=False)
        except ModelError as exc:
            raw = ",".join(f"{k}={v}" for k, v in values.items())
            return Candidate(values, f"{self.family}[{raw}]", str(exc))
        return Candidate(values, model_name(self.family, params), params.check())


def parse_space(data: Any, origin: str) -> SearchSpace:
    """A SearchSpace from decoded JSON; a SpaceError naming `origin` when its shape is wrong."""
    if not isinstance(data, dict) or not isinstance(data.get("params"), dict) or not data["params"]:
        raise SpaceError(f'{origin}: expected {{"family": NAME, "params": {{PARAMETER: [VALUES, ...], ...}}}} with at least one parameter')
    family = data.get("family", DEFAULT_SPACE["family"])
    if family not in list_families():
        raise SpaceError(f"{origin}: unknown model family {family!r}; families: {', '.join(list_families())}")
    extra = set(data) - {"family", "params"}
    if extra:
        raise SpaceError(f"{origin}: unknown key(s) {', '.join(sorted(extra))}; a space has 'family' and 'params'")
    for key, values in data["params"].items():
        if not isinstance(values, list) or not values or any(isinstance(v, (list, dict)) for v in values):
            raise SpaceError(f"{origin}: params.{key} must be a non-empty list of numbers or strings")
    return SearchSpace(family, {key: list(dict.fromkeys(values)) for key, values in data["params"].items()})


def load_space(path: Path | None) -> SearchSpace:
    """The space in `path` (JSON), or the default space."""
    if path is None:
        return parse_space(DEFAULT_SPACE, "the default space")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SpaceError(f"{path}: cannot read the search space ({exc.strerror or exc})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SpaceError(f"{path}: not JSON ({exc})") from None
    return parse_space(data, str(path))
