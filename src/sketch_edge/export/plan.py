"""What an export will make, decided before anything runs (pure): the recipes, in waves, and those left out and why.

The stage (`export/stage.py`) runs the plan's waves in worker processes; what it derives from their artifacts (the
gates) is `export/verify.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sketch_edge.export.recipes import RECIPES, Recipe, get_recipe, list_recipes
from sketch_edge.manifest import Artifact
from sketch_edge.runtime import REFERENCE

LIBRARIES = ("numpy", *REFERENCE.libraries)
"""What every export runs on (the trained model is read with Keras); each recipe adds its own (`Recipe.libraries`)."""


@dataclass(frozen=True, kw_only=True)
class Plan:
    recipes: tuple[Recipe, ...]  # in the manifest's order: each converted recipe's twin before it
    left_out: dict[str, str]  # default recipes not made for this model's architecture or input, and why

    @property
    def waves(self) -> tuple[tuple[Recipe, ...], tuple[Recipe, ...]]:
        """Recipes made from the model first, then those converting another recipe's file (which must exist)."""
        return tuple(r for r in self.recipes if r.converts is None), tuple(r for r in self.recipes if r.converts is not None)

    @property
    def libraries(self) -> tuple[str, ...]:
        return libraries(self.recipes)


def plan(asked: tuple[str, ...], architecture: str, input_kind: str) -> Plan:
    """The recipes asked for (each checked by name), or the defaults for this architecture and input kind, with
    every converted recipe's twin; when the defaults were taken, the defaults left out and why."""
    for name in asked:
        get_recipe(name)
    names = asked or tuple(list_recipes(defaults_only=True, architecture=architecture, input_kind=input_kind))
    left_out: dict[str, str] = {}
    for r in () if asked else RECIPES.values():
        if r.default and architecture in r.not_default_for:
            left_out[r.name] = f"not a default for {architecture} models: {r.not_default_for[architecture]}"
        elif r.default and r.not_for(input_kind):
            left_out[r.name] = str(r.not_for(input_kind))
    return Plan(recipes=tuple(get_recipe(name) for name in with_twins(names)), left_out=left_out)


def with_twins(names: tuple[str, ...]) -> list[str]:
    """The recipes asked for, each converted one's twin added before it when it was not asked for too."""
    found: list[str] = []
    for name in names:
        twin = get_recipe(name).converts
        found += [n for n in (twin, name) if n is not None and n not in found]
    return found


def refusal(recipe: Recipe, input_kind: str, made: dict[str, Artifact]) -> str | None:
    """Why a recipe is not run for this model (a row of the manifest, not an error), or None; `made`: the artifacts
    of the waves before."""
    why = recipe.not_for(input_kind)
    if why is not None:
        return f"{recipe.name} is {why}"
    twin = made.get(recipe.converts) if recipe.converts else None
    if recipe.converts and (twin is None or twin.status != "ok"):
        return f"not converted: its twin {recipe.converts} " + ("was not exported" if twin is None else "failed")
    return None


def libraries(recipes: tuple[Recipe, ...] | list[Recipe]) -> tuple[str, ...]:
    """The distributions the artifacts of `recipes` depend on, each once, in a stable order."""
    return tuple(dict.fromkeys([*LIBRARIES, *(name for r in recipes for name in r.libraries)]))
