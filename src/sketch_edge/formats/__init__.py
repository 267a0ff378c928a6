"""The artifact formats: a registry beside RECIPES and RUNTIMES.

A new format is one module here (its `FORMAT`) and one line below. Recipes name
a format, the export worker embeds metadata, counts ops and checks files through
it, and the predictor and the runtimes read metadata with `read_metadata`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sketch_edge.errors import ModelError, unknown_name
from sketch_edge.formats import keras, onnx, ort, saved_model, tflite
from sketch_edge.formats.base import MAX_METADATA_BYTES, Format, GraphFacts, parse_metadata

FORMATS: dict[str, Format] = {f.name: f for f in (tflite.FORMAT, onnx.FORMAT, ort.FORMAT, saved_model.FORMAT, keras.FORMAT)}
SOURCE = keras.FORMAT
"""The format `train` writes and `export` reads: the model every artifact is made from and checked against."""

__all__ = [
    "FORMATS",
    "MAX_METADATA_BYTES",
    "SOURCE",
    "Format",
    "GraphFacts",
    "format_of",
    "get_format",
    "parse_metadata",
    "read_metadata",
    "suffix_list",
]


def get_format(name: str) -> Format:
    if name not in FORMATS:
        raise ModelError(unknown_name("format", name, FORMATS))
    return FORMATS[name]


def format_of(path: str | Path) -> Format:
    """The format of a file, by its suffix; a one-line ModelError for any other."""
    suffix = Path(path).suffix
    for file_format in FORMATS.values():
        if suffix and suffix in file_format.suffixes:
            return file_format
    known = ", ".join(s for f in FORMATS.values() for s in f.suffixes if s)
    raise ModelError(f"{path}: metadata is read from {known} files only")


def suffix_list(where: Callable[[Format], bool]) -> str:
    """The file suffixes of the formats `where` picks, for messages and help: ".onnx, .ort or .tflite"."""
    found = sorted(s for file_format in FORMATS.values() if where(file_format) for s in file_format.suffixes if s)
    return found[0] if len(found) == 1 else f"{', '.join(found[:-1])} or {found[-1]}"


def read_metadata(path: str | Path) -> dict[str, Any] | None:
    """The sketch-edge metadata of an artifact file, or None when it carries none."""
    file_format = format_of(path)
    return file_format.read_metadata(Path(path)) if file_format.read_metadata else None
