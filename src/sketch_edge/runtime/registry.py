"""The runtime registry: each adapter module declares its `RUNTIME`, and one line below collects it.

A new runtime is one adapter module (its `RuntimeSpec` and its `Runner`) plus one line here. Listing the
registry imports the adapter modules but not their runtime packages: each adapter imports its package when
a file is opened, so an app loads only the runtime it uses.
"""

from __future__ import annotations

from pathlib import Path

from sketch_edge.errors import ModelError, unknown_name
from sketch_edge.runtime import keras, litert, onnxruntime, openvino
from sketch_edge.runtime.base import Runner, RuntimeSpec

RUNTIMES: dict[str, RuntimeSpec] = {spec.name: spec for spec in (keras.RUNTIME, litert.RUNTIME, onnxruntime.RUNTIME, openvino.RUNTIME)}
"""In order of preference: a file's default runtime is the first here that runs its suffix."""
REFERENCE = keras.RUNTIME
"""The runtime of the trained model itself: the bench's reference row, and the libraries training and export read
the model with."""


def runtimes_for(path: str | Path) -> list[RuntimeSpec]:
    """Every runtime that runs `path`, by its suffix, the default first; a one-line `ModelError` for any other file."""
    path = Path(path)
    found = [spec for spec in RUNTIMES.values() if path.suffix in spec.suffixes]
    if not found:
        known = ", ".join(sorted({s for spec in RUNTIMES.values() for s in spec.suffixes}))
        raise ModelError(f"{path}: no runtime for {path.suffix or 'files without a suffix'} (expected {known})")
    return found


def runtime_for(path: str | Path, runtime: str | None = None) -> RuntimeSpec:
    """The runtime named (which must run `path`'s suffix), or the file's default one."""
    found = runtimes_for(path)
    if runtime is None:
        return found[0]
    for spec in found:
        if spec.name == runtime:
            return spec
    if runtime not in RUNTIMES:
        raise ModelError(unknown_name("runtime", runtime, RUNTIMES))
    raise ModelError(f"{path}: {runtime} does not run {Path(path).suffix} files (these do: {', '.join(s.name for s in found)})")


def open_runner(path: str | Path, threads: int = 1, runtime: str | None = None) -> Runner:
    """Load `path` in the named runtime or its format's default one (imported only then: apps load just the one they use)."""
    spec = runtime_for(path, runtime)
    reason = spec.missing()
    if reason is not None:
        raise ModelError(f"{path}: {reason}")
    runner = spec.adapter_class().load(Path(path), threads)
    runner.path = Path(path)
    return runner
