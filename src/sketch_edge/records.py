"""Typed records for everything that crosses a stage or a process: one reader and one writer per record.

A record is a dataclass that derives from `Record`. Its field annotations are its
schema: `from_json` checks every field against them (text, counts, fractions,
nested records, tuples, maps) and names the field that is wrong, so a results.json,
train report or job file edited by hand or written by another version is a
one-line error, never a KeyError in the middle of a table. `Annotated[float,
Bounds(0, 1)]` (`Fraction`) bounds a number. Files carry `schema_version`; a
reader of another version says which it found and what to do (older versions whose
files lack only fields added since with a default are read as they are).
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, Self, Union, get_args, get_origin, get_type_hints

from sketch_edge.errors import RecordError
from sketch_edge.fileio import read_limited


@dataclass(frozen=True)
class Bounds:
    lo: float
    hi: float


Fraction = Annotated[float, Bounds(0.0, 1.0)]
Count = Annotated[int, Bounds(0, 1e15)]
Figure = Annotated[float, Bounds(0.0, 1e15)]

MAX_FILE_BYTES = 64 << 20
"""No record file of the project comes near this; a larger one is refused unread."""


class Record:
    """Mixin for dataclasses: `to_json` (plain JSON values) and a validating `from_json`."""

    SCHEMA_VERSION: ClassVar[int | None] = None  # set on records written as a file of their own
    READS_VERSIONS: ClassVar[tuple[int, ...]] = ()  # older versions it reads too: they lack only fields that have defaults
    FILE: ClassVar[str] = "file"  # what such a file is called, in messages (`results.json`)

    def to_json(self) -> dict[str, Any]:
        data = {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}  # type: ignore[arg-type]
        if self.SCHEMA_VERSION is not None:
            data = {"schema_version": self.SCHEMA_VERSION} | data
        return data

    @classmethod
    def from_json(cls, data: Any, where: str = "") -> Self:
        """The record `data` describes; RecordError naming the first field that does not fit (`where` prefixes it)."""
        if not isinstance(data, dict):
            raise RecordError(f"{where or 'the file'} is not a JSON object")
        if cls.SCHEMA_VERSION is not None and not where:
            found = data.get("schema_version")
            if found != cls.SCHEMA_VERSION and found not in cls.READS_VERSIONS:
                raise RecordError(f"schema_version {found!r}, this version reads {cls.SCHEMA_VERSION}: {cls.upgrade_hint()}")
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(k for k in data if k not in names and not (k == "schema_version" and cls.SCHEMA_VERSION is not None))
        if unknown:
            raise RecordError(f"{where or 'the file'} has an unknown field {unknown[0]!r}")
        hints = get_type_hints(cls, include_extras=True)
        values = {}
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            name = f"{where}.{f.name}" if where else f.name
            if f.name not in data:
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                    raise RecordError(f"{name} is missing")
                continue
            values[f.name] = _read(data[f.name], hints[f.name], name)
        record = cls(**values)
        record.check(where or "the file")
        return record

    def check(self, where: str) -> None:
        """What the field types cannot say (a measured cell has its latency); RecordError naming `where`."""

    @classmethod
    def load(cls, path: Path, missing: str = "no such file") -> Self:
        """The record in the JSON file at `path`; RecordError naming the file and what is wrong (`missing`: the
        advice when there is no file). Each stage raises its own error type with the message."""
        try:
            data = json.loads(read_limited(path, MAX_FILE_BYTES).decode("utf-8"))
        except FileNotFoundError:
            raise RecordError(f"{path}: {missing}") from None
        except OSError as exc:
            raise RecordError(f"{path}: not a readable {cls.FILE} ({exc.strerror or type(exc).__name__})") from None
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise RecordError(f"{path}: not a readable {cls.FILE} ({type(exc).__name__})") from None
        try:
            return cls.from_json(data)
        except RecordError as exc:
            raise RecordError(f"{path}: not a {cls.FILE} of this version: {exc}") from None

    def save(self, path: Path) -> None:
        from sketch_edge import fileio

        fileio.write_json(path, self.to_json())

    @classmethod
    def upgrade_hint(cls) -> str:
        """What the user should do with a file of another schema version (a record's own words)."""
        return "make it again with this version"


def field_names(cls: type) -> tuple[str, ...]:
    """A record's fields in order: CSV columns and manifest checks are derived from them."""
    return tuple(f.name for f in dataclasses.fields(cls))


def _plain(value: Any) -> Any:
    if isinstance(value, Record):
        return value.to_json() if value.SCHEMA_VERSION is None else {k: v for k, v in value.to_json().items() if k != "schema_version"}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _read(value: Any, hint: Any, where: str) -> Any:
    bounds = None
    if get_origin(hint) is Annotated:
        hint, *extras = get_args(hint)
        bounds = next((e for e in extras if isinstance(e, Bounds)), None)
    origin, args = get_origin(hint), get_args(hint)
    if hint is Any:
        return value
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        problems = []
        for option in (a for a in args if a is not type(None)):
            try:
                return _read(value, Annotated[option, bounds] if bounds else option, where)
            except RecordError as exc:
                problems.append(str(exc))
        raise RecordError(problems[0] if len(problems) == 1 else f"{where} is {_shown(value)}, not {_name(hint)}")
    if origin is typing.Literal:
        if value not in args:
            raise RecordError(f"{where} is {_shown(value)}, not one of {', '.join(map(repr, args))}")
        return value
    if isinstance(hint, type) and issubclass(hint, Record):
        return hint.from_json(value, where)
    if origin is tuple or origin is list:
        if not isinstance(value, list | tuple):
            raise RecordError(f"{where} is {_shown(value)}, not a list")
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            if len(value) != len(args):
                raise RecordError(f"{where} has {len(value)} items, not {len(args)}")
            return tuple(_read(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args, strict=True)))
        items = [_read(v, args[0], f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise RecordError(f"{where} is {_shown(value)}, not an object")
        return {k: _read(v, args[1], f"{where}.{k}") for k, v in value.items()}
    return _scalar(value, hint, bounds, where)


def _scalar(value: Any, hint: Any, bounds: Bounds | None, where: str) -> Any:
    if hint is bool:
        ok = isinstance(value, bool)
    elif hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif hint is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        value = float(value) if ok else value
    elif hint is str:
        ok = isinstance(value, str)
    else:
        raise TypeError(f"records cannot read a field of type {hint!r} ({where})")
    if not ok:
        raise RecordError(f"{where} is {_shown(value)}, not {_name(hint)}")
    if bounds is not None and not bounds.lo <= value <= bounds.hi:
        raise RecordError(f"{where} is {value!r}, outside {bounds.lo:g}..{bounds.hi:g}")
    return value


def _name(hint: Any) -> str:
    words = {bool: "true or false", int: "a whole number", float: "a finite number", str: "text"}
    return words.get(hint, getattr(hint, "__name__", str(hint)))


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"a {type(value).__name__}"
