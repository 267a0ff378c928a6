"""`Predictor`: an exported model as an app uses it, with no TensorFlow and no preprocessing to rewrite.

The labels and the input contract come from the file's own metadata (written by
the export stage) or from arguments; inputs go through the training code's own
conversions for the model's input kind (`inputs.as_bitmaps` rasterizes, `inputs.as_sequences`
makes point rows); int8 scale and zero point are the adapters' job.
"""

from __future__ import annotations

import functools
import math
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sketch_edge import amx, numbers
from sketch_edge.data.dataset import INPUT_SPECS, InputSpec, contract_of, image_contract
from sketch_edge.data.image_folder import read_labels
from sketch_edge.display import printable
from sketch_edge.errors import DataError, ModelError, RecordError
from sketch_edge.runtime.base import fixed_batch
from sketch_edge.runtime.inputs import as_bitmaps, as_pictures, as_sequences
from sketch_edge.runtime.registry import RUNTIMES, open_runner

SUFFIXES = tuple(dict.fromkeys(suffix for spec in RUNTIMES.values() if not spec.needs_tensorflow for suffix in spec.suffixes))
Prepare = Callable[[Any], tuple[np.ndarray, bool]]
PREPARE: dict[str, Callable[[InputSpec], Prepare]] = {
    "bitmap": lambda _: as_bitmaps,
    "strokes": lambda _: as_sequences,
    "image": lambda spec: functools.partial(as_pictures, spec=spec),
}
"""Each input kind's conversion of what an app holds to (model-ready batch, whether it was one item), made once for
the file's contract (the sketch kinds' need nothing of it: no call per prediction is added to their path)."""


def deny_amx() -> None:
    """Deny this process Intel's AMX tiles, for the runtimes it will load (`sketch_edge.amx`). Call it before the first
    model is opened: a runtime asks for AMX once, when it starts, so one already loaded keeps what it got. On a
    Sapphire Rapids Xeon, LiteRT's int8 files ran 1.75x faster denied (XNNPACK takes AMX for this model's small layers);
    on a CPU without AMX it changes nothing. Irreversible, and inherited by the processes this one starts."""
    loaded = sorted(spec.package for spec in RUNTIMES.values() if spec.package in sys.modules)
    if loaded:
        raise ModelError(f"AMX can be denied only before a runtime loads, and {', '.join(loaded)} is loaded already")
    try:
        amx.deny()
    except OSError as exc:  # a kernel without seccomp filters, or a sandbox that forbids adding one
        raise ModelError(f"cannot deny AMX in this process: {exc.strerror or exc}") from None


CHUNK = 256
"""Drawings per runtime call: a caller's batch of a million runs in these, so memory stays that of 256."""

Prediction = list[tuple[str, float]]
"""(label, probability) pairs, most probable first."""


class Predictor:
    """Load once, then `predict(x, top=3)` from any thread.

    `labels` (a list, or a labels.txt path) is needed only for files without sketch-edge metadata.
    `runtime` picks one of the runtimes that run the file (`openvino` runs both formats); by default
    `.onnx` runs in ONNX Runtime and `.tflite` in LiteRT. `input_range` (what pixel 0 and 255 become) is for a
    picture file without metadata whose input is not raw pixels: such a file is otherwise fed 0-255 values.
    """

    def __init__(
        self,
        path: str | Path,
        labels: Sequence[str] | str | Path | None = None,
        threads: int = 1,
        runtime: str | None = None,
        input_range: tuple[float, float] | None = None,
    ) -> None:
        path = Path(path)
        if path.suffix not in SUFFIXES:
            raise ModelError(f"{path}: the predictor runs {', '.join(SUFFIXES)} files, not {path.suffix or 'files without a suffix'}")
        if not path.is_file():
            raise ModelError(f"{path}: no such model file")
        self.path = path
        self._runner = open_runner(path, threads, runtime)
        self.metadata: dict[str, Any] = self._runner.metadata or {}
        self.labels = _labels(path, labels, self.metadata)
        self.contract = self._check_contract(input_range)
        self.kind = self.contract.kind
        self._prepare = PREPARE[self.kind](self.contract)
        self._lock = None if self._runner.thread_safe else threading.Lock()
        self._chunk = fixed_batch(self._runner.input_spec) or CHUNK
        output = self._runner.output_spec
        self._zero_point = None if output.scale is None else output.zero_point or 0  # None: the output is probabilities

    @property
    def model_name(self) -> str:
        return str(self.metadata.get("model", self.path.stem))

    def probabilities(self, x: Any) -> np.ndarray:
        """(N, classes) float32 probabilities, each row summing to 1, for a batch or one item (N = 1)."""
        batch, _ = self._prepare(x)
        probs = self._run(batch)
        total = probs.sum(axis=1, keepdims=True)
        if not np.isfinite(total).all():  # probabilities are >= 0, so a row's sum is finite exactly when all its values are
            raise self._non_finite()
        return probs / total  # quantized models (int8 TFLite, ONNX QDQ) give steps of a scale: rows sum to 1 only roughly

    def predict(self, x: Any, top: int = 3) -> Prediction | list[Prediction]:
        """For one item, its `top` (label, probability) pairs, best first; for a batch, one such list per item."""
        if type(top) is not int or not 1 <= top <= numbers.MAX_COUNT:  # checked in full only when it is not a plain count
            top = self._top(top)
        batch, single = self._prepare(x)
        labels = self.labels
        rows, zero = self._scores(batch)
        ranked = []
        # Plain numbers: ranking and normalising a few classes in Python costs less than numpy's per-call overhead here.
        # A quantized output stays in its integers: its scale cancels in the normalising, its zero point is taken off.
        for row in rows:
            total = sum(row) - zero * len(row)
            if not math.isfinite(total):
                raise self._non_finite()
            order = sorted(range(len(row)), key=row.__getitem__, reverse=True)[:top]  # stable: ties keep class order
            ranked.append([(labels[j], (row[j] - zero) / total) for j in order])
        return ranked[0] if single else ranked

    def _scores(self, batch: np.ndarray) -> tuple[list[list[float]], int]:
        """Each row's output as plain numbers, and the zero point to take off them: a quantized file's integers (less
        the zero point, they are proportional to its probabilities), else probabilities (zero point 0)."""
        zero = self._zero_point
        if zero is None:
            return self._run(batch).tolist(), 0
        return self._run(batch, raw=True).tolist(), zero

    @staticmethod
    def _top(top: Any) -> int:
        try:
            return int(numbers.check(top, lo=1, hi=numbers.MAX_COUNT, integer=True))
        except ValueError as exc:
            raise ModelError(f"top: {exc}") from None

    def close(self) -> None:
        self._runner.close()

    def __enter__(self) -> Predictor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self, batch: np.ndarray, raw: bool = False) -> np.ndarray:
        """Probabilities, or with `raw` the file's own output (a quantized file's integers)."""
        # Kept lean: an app may call this per stroke, and every microsecond here is on top of the runtime's own.
        if len(batch) > self._chunk:  # activations grow with the batch: a huge one runs in chunks (a mobile file's: 1)
            return np.concatenate([self._run(batch[i : i + self._chunk], raw) for i in range(0, len(batch), self._chunk)])
        call = self._runner.raw if raw else self._runner.predict
        if self._lock is None:
            return call(batch)
        with self._lock:
            return call(batch)

    def _non_finite(self) -> ModelError:
        return ModelError(f"{self.path}: the model produced NaN or infinite outputs")

    def _check_contract(self, input_range: tuple[float, float] | None) -> InputSpec:
        """The model's input contract, once the file's input shape is checked against it: from the metadata, else
        from the file's input tensor (an image of H x W x 1 or 3 with `input_range`, or a 28x28 bitmap)."""
        contract = self.metadata.get("input")
        shape = tuple(self._runner.input_spec.shape[1:])
        if contract is None:
            spec = _contract_from_tensor(self.path, shape, input_range)
        elif not isinstance(contract, dict):
            raise ModelError(f"{self.path}: its metadata 'input' should be an object, not {type(contract).__name__}")
        else:
            kind = contract.get("kind", "bitmap")
            if not isinstance(kind, str) or kind not in PREPARE:
                raise ModelError(f"{self.path}: its input kind is {printable(repr(kind))}; the predictor feeds {', '.join(PREPARE)} models")
            try:
                spec = INPUT_SPECS[kind] if kind in INPUT_SPECS else contract_of(contract)
            except RecordError as exc:
                raise ModelError(f"{self.path}: its metadata's input contract: {exc}") from None
        forms = (spec.shape, spec.rgb().shape) if spec.is_image else (spec.shape,)  # the adapters fill RGB inputs
        if shape not in forms:
            expected = " or ".join(map(str, forms))
            raise ModelError(f"{self.path}: its input has shape {shape}, not the {spec.kind} input {expected} the predictor feeds")
        classes = self._runner.output_spec.shape[-1]
        if classes != len(self.labels):
            raise ModelError(f"{self.path}: the model has {classes} outputs but {len(self.labels)} labels were given")
        return spec


def _contract_from_tensor(path: Path, shape: tuple[Any, ...], input_range: tuple[float, float] | None) -> InputSpec:
    """A file without sketch-edge metadata: a 28x28x1 input without `input_range` is a sketch bitmap (as before);
    any other image input is a picture of its own size, raw pixels unless `input_range` says otherwise."""
    bitmap = INPUT_SPECS["bitmap"]
    picture = len(shape) == 3 and shape[-1] in (1, 3) and all(isinstance(side, int) and side > 0 for side in shape[:2])
    if input_range is None and (shape in (bitmap.shape, bitmap.rgb().shape) or not picture):
        return bitmap  # a sketch bitmap, or no picture at all: the caller's shape check says which input it expected
    if not picture:
        raise ModelError(f"{path}: its input has shape {shape}, not a fixed-size image (H, W, 1 or 3) the predictor feeds")
    lo, hi = input_range or (0.0, 255.0)
    scaling = "as --input-range says" if input_range else "none known: raw 0-255 pixels (give --input-range otherwise)"
    return image_contract(shape, (hi - lo) / 255.0, lo, scaling, "image")


def _labels(path: Path, given: Sequence[str] | str | Path | None, metadata: dict[str, Any]) -> tuple[str, ...]:
    if given is None:
        if "labels" not in metadata:
            raise ModelError(f"{path}: the file carries no sketch-edge metadata, so pass its labels (labels=[...] or a labels.txt)")
        labels = metadata["labels"]
        if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
            raise ModelError(f"{path}: its metadata 'labels' should be a list of strings, not {type(labels).__name__}")
        return tuple(labels)
    if isinstance(given, str | Path):
        try:
            return read_labels(Path(given))
        except DataError as exc:
            raise ModelError(str(exc)) from None
    if not isinstance(given, Sequence | np.ndarray) or not all(isinstance(label, str) for label in given):
        raise ModelError(f"labels: expected a list of strings or a labels.txt path, got {type(given).__name__}")
    return tuple(str(label) for label in given)
