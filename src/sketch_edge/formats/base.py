"""What every artifact format is: its suffixes, how the project's metadata rides in its files, how ops are counted.

The metadata (labels, input contract, model, recipe) is one JSON object; each
format embeds it its own way (`embed_metadata`) and reads it back without
TensorFlow and without opening a session (`read_metadata`), so apps, the
predictor and the runtimes read it the same way. `parse_metadata` is the one
check of what was read: size, JSON, an object.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sketch_edge.errors import ModelError

MAX_METADATA_BYTES = 1 << 20
"""Labels and the input contract take a few kB even for 345 classes; a larger member is refused unread."""


@dataclass(frozen=True)
class GraphFacts:
    """What a file's graph declares, read without a runtime: how many inputs and outputs, and the element types of
    its constant tensors (numpy names), which tell an fp16 or int8 file made elsewhere from a float one."""

    inputs: int
    outputs: int
    tensor_types: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Format:
    """An artifact format: one module of sketch_edge.formats, one line of FORMATS."""

    name: str  # as recipes and the manifest name it
    suffixes: tuple[str, ...]  # of its files ("" for a folder)
    read_metadata: Callable[[Path], dict[str, Any] | None] | None = None  # None: it carries none
    embed_metadata: Callable[[Path, dict[str, Any]], None] | None = None
    count_ops: Callable[[Path], list[str]] | None = None  # every operator the file runs, in order
    check: Callable[[Path], None] | None = None  # a format's own validity check, before it is run (raises)
    graph_facts: Callable[[Path], GraphFacts] | None = None  # inputs, outputs and tensor types (files made elsewhere)
    count_macs: Callable[[Path], int] | None = None  # multiply-accumulates per example (files made elsewhere: peak %)
    output_step: Callable[[Path], float | None] | None = None  # a quantized output's step, when its runtime hides it
    runs_in_runtime: bool = True  # a runtime adapter opens it (else: its exporter's library, e.g. SavedModel)
    after_export: Callable[[list[Path], Path], str] | None = None  # (files, folder) -> name: one file made from all its files
    after_export_says: str = ""  # what that file is, as export's output names it
    layers: str | None = None  # "module:function" collecting a float and a quantized file's layer outputs (sensitivity)
    emulated: bool = False  # verify-arm runs its files on emulated Arm cores (its default runtime has aarch64 wheels)

    def op_counts(self, path: Path) -> dict[str, int]:
        """How many of each operator the file runs, most frequent first (empty when the format cannot count them):
        shows a fused LSTM from an unrolled one, or which layers a quantizer left in float."""
        return dict(Counter(self.count_ops(path)).most_common()) if self.count_ops is not None else {}


def parse_metadata(text: bytes | str, path: Path) -> dict[str, Any]:
    if len(text) > MAX_METADATA_BYTES:
        raise ModelError(f"{path}: its sketch-edge metadata is {len(text):,} bytes (limit {MAX_METADATA_BYTES:,})")
    try:
        metadata = json.loads(text)
    except (ValueError, RecursionError):
        raise ModelError(f"{path}: its sketch-edge metadata is not valid JSON (or nested too deep)") from None
    if not isinstance(metadata, dict):
        raise ModelError(f"{path}: its sketch-edge metadata is not a JSON object")
    return metadata
