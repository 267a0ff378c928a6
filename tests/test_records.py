"""records: typed records read back with every field checked and the wrong one named."""

from dataclasses import dataclass, field
from typing import Literal

import pytest

from sketch_edge.errors import RecordError
from sketch_edge.records import Count, Fraction, Record, field_names


@dataclass(frozen=True)
class Inner(Record):
    score: Fraction
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outer(Record):
    SCHEMA_VERSION = 7

    name: str
    count: Count
    mode: Literal["a", "b"]
    inner: Inner
    many: tuple[Inner, ...] = ()
    table: dict[str, float | None] = field(default_factory=dict)
    maybe: int | None = None


GOOD = Outer("x", 3, "a", Inner(0.5, ("t",)), (Inner(1.0),), {"k": 1.5, "n": None}, 4)


def test_round_trip_and_the_version_first():
    data = GOOD.to_json()
    assert list(data)[0] == "schema_version" and data["schema_version"] == 7 and "schema_version" not in data["inner"]
    assert Outer.from_json(data) == GOOD and field_names(Outer)[:3] == ("name", "count", "mode")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(schema_version=6), "schema_version 6, this version reads 7: make it again"),
        (lambda d: d.pop("name"), "name is missing"),
        (lambda d: d.update(count=1.5), "count is 1.5, not a whole number"),
        (lambda d: d.update(count=-1), "count is -1, outside 0..1e"),
        (lambda d: d.update(count=True), "count is True, not a whole number"),
        (lambda d: d.update(mode="c"), "mode is 'c', not one of 'a', 'b'"),
        (lambda d: d["inner"].update(score=2), r"inner.score is 2.0, outside 0..1"),
        (lambda d: d["many"][0].update(score="high"), r"many\[0\].score is 'high', not a finite number"),
        (lambda d: d["table"].update(k="1"), "table.k is '1', not a finite number"),
        (lambda d: d.update(inner=[]), "inner is not a JSON object"),
        (lambda d: d.update(extra=1), "the file has an unknown field 'extra'"),
        (lambda d: d["inner"].update(tags="t"), "inner.tags is 't', not a list"),
    ],
)
def test_each_wrong_field_is_named(edit, message):
    data = GOOD.to_json()
    edit(data)
    with pytest.raises(RecordError, match=message):
        Outer.from_json(data)


def test_optional_fields_take_null_and_defaults():
    data = {k: v for k, v in GOOD.to_json().items() if k not in ("many", "table")} | {"maybe": None}
    assert Outer.from_json(data) == Outer("x", 3, "a", Inner(0.5, ("t",)))


@dataclass(frozen=True)
class Later(Outer):
    SCHEMA_VERSION = 8
    READS_VERSIONS = (7,)

    added: bool = False


def test_an_older_version_it_reads_takes_the_new_fields_defaults():
    """A version 7 file read by version 8, which only added a field with a default; a version 6 file still refused."""
    assert Later.from_json(GOOD.to_json()) == Later("x", 3, "a", Inner(0.5, ("t",)), (Inner(1.0),), {"k": 1.5, "n": None}, 4)
    assert Later.from_json(Later("x", 3, "a", Inner(0.5), added=True).to_json()).added
    with pytest.raises(RecordError, match="schema_version 6, this version reads 8"):
        Later.from_json(GOOD.to_json() | {"schema_version": 6})
