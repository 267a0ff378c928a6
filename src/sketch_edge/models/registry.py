"""Model registry: a name -> a builder and the training settings that go with it.

Two kinds of entries: fixed models (`register`), and families built from
parameters (`register_family`), named `family[key=value,...]` (a bare family
name is its defaults), so every model the tuner tries can be trained again by
name. Builders import Keras lazily, so listing models (or anything else that
only needs names) never loads TensorFlow.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sketch_edge.data.dataset import INPUT_SPECS, InputSpec
from sketch_edge.errors import ModelError, unknown_name

if TYPE_CHECKING:
    import keras


@dataclass(frozen=True, kw_only=True)
class ModelSpec:
    name: str
    input_kind: str
    build: Callable[[int], keras.Model]
    description: str
    epochs: int
    batch_size: int
    learning_rate: float
    augment: float  # augmentation strength: 0 none, 1 the project's usual (see train/input.py)
    label_smoothing: float  # share of each target spread over the other classes: keeps a small model from overconfidence
    patience: int = 3  # early stopping: epochs without a better validation top-1 (counted from half the epochs)

    @property
    def input_spec(self) -> InputSpec:
        return INPUT_SPECS[self.input_kind]


class FamilyParams(Protocol):
    """A frozen dataclass of a family's parameters: `check` returns what is wrong with a combination (None: buildable)."""

    def check(self) -> str | None: ...

    def spec(self, name: str) -> ModelSpec: ...


P = TypeVar("P", bound=FamilyParams)

_REGISTRY: dict[str, ModelSpec] = {}
_FAMILIES: dict[str, type[Any]] = {}


def register(
    name: str,
    *,
    input_kind: str,
    epochs: int,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    augment: float = 0.0,
    label_smoothing: float = 0.0,
) -> Callable[[Callable[[int], keras.Model]], Callable[[int], keras.Model]]:
    """Decorator: register `builder(num_classes) -> keras.Model` under `name`."""

    def add(builder: Callable[[int], keras.Model]) -> Callable[[int], keras.Model]:
        _check_new(name, input_kind)
        doc = (builder.__doc__ or "").strip().splitlines()
        _REGISTRY[name] = ModelSpec(
            name=name,
            input_kind=input_kind,
            build=builder,
            description=doc[0] if doc else "",
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            augment=augment,
            label_smoothing=label_smoothing,
        )
        return builder

    return add


def register_family(name: str, input_kind: str) -> Callable[[type[P]], type[P]]:
    """Class decorator: register a parameter dataclass as the family `name` (its `spec` builds the model)."""

    def add(params: type[P]) -> type[P]:
        _check_new(name, input_kind)
        _FAMILIES[name] = params
        return params

    return add


def _check_new(name: str, input_kind: str) -> None:
    if name in _REGISTRY or name in _FAMILIES:
        raise ValueError(f"model {name!r} registered twice")
    if input_kind not in INPUT_SPECS:
        raise ValueError(f"model {name!r}: unknown input kind {input_kind!r}")


def list_models() -> list[str]:
    """Every fixed model and every family (by its bare name: its defaults)."""
    return sorted([*_REGISTRY, *_FAMILIES])


def list_families() -> list[str]:
    return sorted(_FAMILIES)


def get_model_spec(name: str) -> ModelSpec:
    """The spec of a fixed model, or of `family[key=value,...]`; a ModelError saying what is wrong otherwise."""
    found = _family_model(name)
    if found is not None:
        family, params = found
        return params.spec(model_name(family, params))
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ModelError(unknown_name("model", name, list_models())) from None


def _family_model(name: str) -> tuple[str, Any] | None:
    """(family, parameters) of a family model's name; None for any other name."""
    family, bracket, rest = name.partition("[")
    if bracket and family not in _FAMILIES:
        raise ModelError(unknown_name("model family", family, _FAMILIES))
    if family not in _FAMILIES:
        return None
    if rest and not rest.endswith("]"):
        raise ModelError(f"model {name!r}: parameters go in one pair of brackets, e.g. {family}[width=32,depth=3]")
    return family, family_params(family, _parse_pairs(name, rest[:-1]) if rest else {})


def family_params(family: str, values: dict[str, Any], check: bool = True) -> Any:
    """The family's parameters with `values` (strings or values) over its defaults; a ModelError naming the bad one
    (`check=False`: only unknown keys and wrong types; the caller asks `check()` what else is wrong)."""
    if family not in _FAMILIES:
        raise ModelError(unknown_name("model family", family, _FAMILIES))
    params = _FAMILIES[family]
    fields = {f.name: f for f in dataclasses.fields(params)}
    converted = {}
    for key, value in values.items():
        if key not in fields:
            raise ModelError(unknown_name(f"{family} parameter", key, fields))
        converted[key] = _convert(family, key, value, type(getattr(params(), key)))
    made = params(**converted)
    problem = made.check() if check else None
    if problem:
        raise ModelError(f"{model_name(family, made)}: {problem}")
    return made


def model_name(family: str, params: Any) -> str:
    """The canonical name: every parameter in declaration order, so one model has one name."""
    pairs = ",".join(f"{f.name}={_text(getattr(params, f.name))}" for f in dataclasses.fields(params))
    return f"{family}[{pairs}]"


def short_name(name: str) -> str:
    """For plots and tables: a family model by the parameters that differ from the family's defaults
    (`edge-cnn[width=48,pool=stride]`); any other name as it is."""
    try:
        found = _family_model(name)
    except ModelError:  # a name from an older file: shown as it is
        return name
    if found is None:
        return name
    family, params = found
    defaults = _FAMILIES[family]()
    changed = [
        f"{f.name}={_text(getattr(params, f.name))}"
        for f in dataclasses.fields(params)
        if getattr(params, f.name) != getattr(defaults, f.name)
    ]
    return f"{family}[{','.join(changed)}]" if changed else family


def _parse_pairs(name: str, text: str) -> dict[str, str]:
    pairs = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, eq, value = item.partition("=")
        if not eq or not key.strip() or not value.strip():
            raise ModelError(f"model {name!r}: {item!r} is not key=value")
        pairs[key.strip()] = value.strip()
    return pairs


def _convert(family: str, key: str, value: Any, kind: type) -> Any:
    try:
        if isinstance(value, bool):  # no family has a bool parameter; True would pass as 1
            raise ValueError
        converted = kind(value)
        if kind is int and isinstance(value, float) and converted != value:
            raise ValueError
        return converted
    except (TypeError, ValueError):
        raise ModelError(f"{family} parameter {key}={value!r} is not a{'n' if kind is int else ''} {kind.__name__}") from None


def _text(value: Any) -> str:
    """A value as the name shows it: floats short (`2`, `0.002`) where that reads back exactly, else in full."""
    if not isinstance(value, float):
        return str(value)
    short = f"{value:g}"
    return short if float(short) == value else repr(value)
