"""The project's own exception types.

Every error a user can cause (bad data, unknown names, unwritable folders) is a
`SketchEdgeError`; the CLI prints it as one line and exits with status 2, so no
traceback ever reaches a user for input they can fix.
"""

from __future__ import annotations

from collections.abc import Iterable
from difflib import get_close_matches


class SketchEdgeError(Exception):
    """Base of every error the CLI reports as a one-line message (exit status 2)."""

    exit_code = 2


class DataError(SketchEdgeError, ValueError):
    """A data source, file or drawing is missing, malformed or unusable."""


class ModelError(SketchEdgeError, ValueError):
    """A model name, file or input contract is wrong."""


class TrainingError(SketchEdgeError):
    """Training cannot go on: the loss diverged (not a number)."""


class TeacherError(SketchEdgeError, ValueError):
    """A distillation teacher cannot teach this student (other classes, split or files; changed; no model), or the
    temperature or mix is out of range."""


class ExportError(SketchEdgeError):
    """An export cannot start (no model, unknown recipe) or a default recipe failed."""


class BenchError(SketchEdgeError):
    """The bench cannot start: no manifest, unknown names, a test split that does not fit the model."""


class ManifestError(SketchEdgeError):
    """The export manifest is missing, unreadable, or a field of it is wrong."""


class GateError(SketchEdgeError):
    """A user's bench gate (minimum top-1, maximum latency) failed: their CI should stop."""

    exit_code = 3


class IncompleteError(SketchEdgeError):
    """The bench ran, but some cells did not (their rows say why): the report is there, the run is not whole."""

    exit_code = 4


class ClusterError(SketchEdgeError):
    """TF_CONFIG is wrong, a worker cannot start or reach its peers, or one died."""


class SpaceError(SketchEdgeError):
    """A search-space file cannot be read as one."""


class TuneError(SketchEdgeError):
    """The tune cannot start: unknown target, bad budget."""


class RecordError(SketchEdgeError, ValueError):
    """A record read from a file (results, train report, job) lacks a field or has one of the wrong kind.

    Its message names the field; the reader prefixes the file and raises its own stage's error."""


class WebBuildError(SketchEdgeError):
    """The page cannot be built: no exported ONNX model, or onnxruntime-web not installed."""


class EmulationError(SketchEdgeError):
    """The emulated Arm machine cannot be built or run here (no apt, not x86_64, a refused qemu or CPU model)."""


class OutputError(SketchEdgeError, OSError):
    """An output location cannot be written."""


def first_line(exc: BaseException) -> str:
    """An exception's first line, or its type when it says nothing: libraries' messages run to many lines."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def unknown_name(kind: str, name: str, valid: Iterable[str]) -> str:
    """Message for an unknown registered name, with the nearest valid one suggested."""
    valid = sorted(valid)
    close = get_close_matches(name, valid, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown {kind} {name!r}{hint}; valid: {', '.join(valid)}"
