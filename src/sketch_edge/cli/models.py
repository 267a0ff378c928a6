"""`sketch-edge models`: the registered models and families."""

from __future__ import annotations

import argparse

from sketch_edge.cli.options import Paths

NAME = "models"
HELP = "list the registered models"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def paths(args: argparse.Namespace) -> Paths:
    """It reads and writes no files."""
    return Paths()


def run(args: argparse.Namespace) -> int:
    from sketch_edge.models import DEFAULT_MODEL, get_model_spec, list_families, list_models

    for name in list_models():
        spec = get_model_spec(name)
        default = " (default)" if name == DEFAULT_MODEL else ""
        print(f"{name}{default}: {spec.input_kind} input, {spec.epochs} epochs. {spec.description}")
        if name in list_families():
            print(f"  a family: {spec.name}; give any of its parameters, e.g. {name}[width=16,pool=stride]")
    return 0
