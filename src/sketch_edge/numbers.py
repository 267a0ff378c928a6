"""One conversion for every number that comes from outside: the command line, a caller, a file.

A number the program did not compute itself is checked once, where it enters:
its type (a bool is not a count, a string is not a coordinate), that it is
finite (a NaN gate passes every comparison written `x < gate`, and a NaN in
results.json makes it not JSON), and that it lies within bounds that keep the
work it asks for bounded (a thread count of a billion asks the runtime for tens
of GB). `check` raises `ValueError` with the one-line reason; the CLI's option
types and the file readers put their own name and file in front of it.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any

MAX_THREADS = 256
MAX_BATCH = 65_536
MAX_COUNT = 1_000_000_000  # drawings per class, steps, candidates: far past any real run, far below an overflow
MAX_SEED = 2**32 - 1  # numpy's seeds
MAX_SECONDS = 7 * 24 * 3600.0


def check(value: Any, *, lo: float, hi: float, integer: bool = False) -> Any:
    """`value` as an int (`integer`) or a float within [lo, hi]; a ValueError saying what is wrong otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {type(value).__name__} {value!r:.40}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value}")
    if integer:
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(f"expected a whole number, got {value}")
        if not lo <= value <= hi:  # compared before int(): a float past 2**63 is no integer a count can be
            raise ValueError(f"must be from {_shown(lo)} to {_shown(hi)}, got {_shown(value)}")
        return int(value)
    try:
        converted = float(value)  # an int too large for a float overflows here
    except OverflowError:
        raise ValueError(f"must be from {_shown(lo)} to {_shown(hi)}, got {_shown(value)}") from None
    if not lo <= converted <= hi:
        raise ValueError(f"must be from {_shown(lo)} to {_shown(hi)}, got {_shown(converted)}")
    return converted


def _shown(value: float) -> str:
    """Whole bounds in full (4294967295, not 4.29497e+09), others short."""
    if isinstance(value, int):
        return str(value) if abs(value) < 10**16 else f"a {len(str(abs(value)))}-digit number"
    return str(int(value)) if value.is_integer() and abs(value) < 1e16 else f"{value:g}"


def option(*, lo: float, hi: float, integer: bool = False) -> Callable[[str], Any]:
    """An argparse `type`: the text parsed, then `check`ed; argparse prints the reason and exits with status 2."""

    def parse(text: str) -> Any:
        try:
            value: Any = int(text) if integer else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a {'whole ' if integer else ''}number: {text!r}") from None
        try:
            return check(value, lo=lo, hi=hi, integer=integer)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = "whole number" if integer else "number"  # what argparse names in its own messages
    return parse


def option_list(*, lo: float, hi: float, integer: bool = False) -> Callable[[str], tuple[Any, ...]]:
    """A comma-separated list of `option`s, e.g. `--threads 1,2`."""
    one = option(lo=lo, hi=hi, integer=integer)

    def parse(text: str) -> tuple[Any, ...]:
        return tuple(one(part) for part in text.split(","))

    return parse
