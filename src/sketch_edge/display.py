"""Text read from files (labels, model and class names, paths, error details) made safe to print.

Model metadata and data files are untrusted: a label holding `\\x1b]0;title\\x07`
would retitle the user's terminal, one holding `[bold]` would be read as rich
markup. Control and direction-override characters are shown as escapes instead.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(value: object) -> str:
    """`value` as text with every control character written as its escape (`\\x1b`, `\\u202e`)."""
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(value))


def markup(value: object) -> str:
    """`printable(value)` for rich output: square brackets are shown, never read as markup."""
    from rich.markup import escape

    return escape(printable(value))
