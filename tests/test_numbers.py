"""numbers: every number from outside checked once, for type, finiteness and bounds, with a one-line reason."""

import argparse
import math
import re

import pytest

from sketch_edge import numbers
from sketch_edge.cli import main


@pytest.mark.parametrize(
    ("value", "integer", "problem"),
    [
        (float("nan"), False, "expected a finite number, got nan"),
        (float("inf"), True, "expected a finite number, got inf"),
        (True, True, "expected a number, got bool"),
        ("3", True, "expected a number, got str"),
        (None, False, "expected a number, got NoneType"),
        (2.5, True, "expected a whole number, got 2.5"),
        (0, True, "must be from 1 to 10, got 0"),
        (1e300, True, "must be from 1 to 10, got 1e+300"),
        (10**400, False, "must be from 1 to 10, got a 401-digit number"),
    ],
)
def test_what_is_refused_says_why(value, integer, problem):
    with pytest.raises(ValueError, match="^" + re.escape(problem)):
        numbers.check(value, lo=1, hi=10, integer=integer)


def test_what_is_accepted_comes_back_in_its_kind():
    assert numbers.check(3.0, lo=1, hi=10, integer=True) == 3 and isinstance(numbers.check(3.0, lo=1, hi=10, integer=True), int)
    assert numbers.check(3, lo=1, hi=10) == 3.0 and isinstance(numbers.check(3, lo=1, hi=10), float)
    assert numbers.check(10, lo=1, hi=10, integer=True) == 10  # bounds are inclusive


def test_options_parse_text_then_check_it():
    threads = numbers.option(lo=1, hi=numbers.MAX_THREADS, integer=True)
    assert threads("4") == 4 and numbers.option_list(lo=1, hi=8, integer=True)("1,2") == (1, 2)
    for text, why in (("1e9", "not a whole number"), ("100000", "must be from 1 to 256"), ("x", "not a whole number")):
        with pytest.raises(argparse.ArgumentTypeError, match=why):
            threads(text)
    with pytest.raises(argparse.ArgumentTypeError, match="finite"):
        numbers.option(lo=0, hi=1)("nan")
    assert not math.isnan(numbers.option(lo=0, hi=1)("0.5"))


@pytest.mark.parametrize(
    "argv",
    [
        ["bench", "--threads", "1000000"],
        ["bench", "--batch", "1,99999999"],
        ["bench", "--duration", "nan"],
        ["bench", "--min-top1", "nan"],
        ["bench", "--max-p50-us", "tflite-int8=inf"],
        ["bench", "--repeat", "1000000"],
        ["export", "--max-top1-drop", "nan"],
        ["export", "--max-drop", "-inf"],
        ["export", "--timeout", "1e20"],
        ["export", "--fallback-budget", "nan"],
        ["train", "--seed", "-1"],
        ["train", "--per-class", "99999999999999999999"],
        ["train", "--epochs", "0"],
        ["tune", "--budget-minutes", "nan"],
        ["predict", "m.onnx", "x.npy", "--top", "1e100"],
        ["predict", "m.onnx", "x.npy", "--threads", "4096"],
    ],
)
def test_the_command_line_refuses_unbounded_or_non_finite_numbers_with_status_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    (line,) = capsys.readouterr().err.strip().splitlines()[-1:]
    assert f"argument {argv[-2] if argv[-2].startswith('--') else ''}" in line


def test_a_gate_that_is_not_a_finite_fraction_is_refused(capsys):
    assert main(["export", "--gate", "fp16:nan"]) == 2
    assert "--gate 'fp16:nan': expected a finite number, got nan" in capsys.readouterr().err
