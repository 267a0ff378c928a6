"""The runtime adapter interface and the runtime registry: which runtime runs which file, and how.

An adapter splits a prediction in three so the bench can time the runtime alone:
`prepare` (contract floats -> the runtime's own input: dtype, int8 quantization,
tensor shapes), `run` (the runtime call, what a bare loop of its API does) and
`finish` (its output -> float32 probabilities). `predict` is the three in a row.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from sketch_edge.errors import ModelError, first_line
from sketch_edge.formats import FORMATS
from sketch_edge.plugins import load
from sketch_edge.records import Record


@dataclass(frozen=True)
class TensorInfo(Record):
    """A model input or output as its file declares it."""

    name: str
    shape: tuple[int | None, ...]
    dtype: str
    scale: float | None = None  # quantized tensors: real = scale * (q - zero_point)
    zero_point: int | None = None


class Runner(Protocol):
    """What every runtime adapter is; adapters subclass it to inherit `predict`."""

    name: str
    path: Path = Path("the model")  # the file it runs (set by `open_runner`): errors name it
    input_spec: TensorInfo  # as the file declares it (int8 models: with scale and zero point)
    output_spec: TensorInfo
    metadata: dict[str, Any] | None  # what the export stage embedded (labels, input contract), if anything
    thread_safe: bool  # may `predict` run from several threads at once

    @classmethod
    def load(cls, path: Path, threads: int) -> Runner: ...

    def prepare(self, batch: np.ndarray) -> Any:
        """float32 inputs as the model contract states them (0-255 bitmaps) -> the runtime's own input."""

    def run(self, prepared: Any) -> np.ndarray:
        """The runtime call alone, on a prepared input: its raw output as a numpy array."""

    def output_step(self) -> float | None:
        """One step of the file's quantized output (its scale), or None for a float output: what two machines' answers
        may differ by when their integer kernels round a tie otherwise."""
        return self.output_spec.scale

    @functools.cached_property
    def _probabilities(self) -> OutputProbabilities:
        """The output's dequantization, made once per loaded file (an 8-bit output's: a table)."""
        return OutputProbabilities(self.output_spec)

    def finish(self, raw: np.ndarray) -> np.ndarray:
        """Raw output -> float32 probabilities (dequantized with the output's own scale when the file's output is int8)."""
        return self._probabilities(raw)

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """The three steps in a row, here once for every adapter: the end-to-end path is exactly what the bench times.
        A file that loaded but fails in a node when run (a damaged or hostile file) is the project's one-line error,
        naming the file and, as the runtime says it, the node."""
        return self.finish(self.raw(batch))

    def raw(self, batch: np.ndarray) -> np.ndarray:
        """`prepare` and `run`: the file's own output (int8 as int8), for a caller that needs no float probabilities."""
        prepared = self.prepare(batch)
        try:
            return self.run(prepared)
        except Exception as exc:  # each runtime raises its own types (ORT's Fail, RuntimeError, OpenVINO's Exception)
            raise ModelError(f"{self.path}: {self.name} failed running it ({first_line(exc)})") from None

    def close(self) -> None: ...


PROFILE_WARMUP = 20
"""Calls a runtime's profiler runs before the profiled ones: a session's first call allocates and packs weights, which
is no steady call's cost. (The profiler's own cost per node stays in: bench.report.PROFILE_NOTE says so.)"""

EVERY_COMPUTE_KIND = ("fp32", "fp16", "dynamic-int8", "int8", "int16x8")
"""The compute kinds of every recipe (export.recipes.COMPUTE_KINDS names the same), for a runtime that runs them all."""


@dataclass(frozen=True, kw_only=True)
class RuntimeSpec:
    """A CPU runtime: the files it runs, its adapter, and what the bench and the predictor need to know of it."""

    name: str
    formats: tuple[str, ...]  # the registered formats (sketch_edge.formats) whose files it runs
    adapter: str  # "module:Class", imported only when a file of its format is opened
    thread_safe: bool  # may one loaded model be called from several threads at once
    compute_kinds: tuple[str, ...]  # the recipes' compute kinds it can run (see export.recipes.COMPUTE_KINDS)
    package: str  # the module it imports: absent, the runtime is not installed
    libraries: tuple[str, ...]  # the distributions whose versions its figures depend on (results.json names them)
    extra: str | None = None  # the pip extra that installs it, when it is optional
    needs_tensorflow: bool = False
    marker: str = "x"  # its points in the bench's plots (matplotlib marker)
    profiler: str | None = None  # "module:function" giving each node's time (bench.profile sums them)
    no_profiler: str = "no per-op profiler"  # said in the report when there is none
    kernels: str = ""  # what runs its operators, as verify-arm reports it
    delegate_line: str | None = None  # what its native code prints when its fast kernels are in place (else: `fallback`)
    fallback: str = ""  # what runs the operators when that line was not printed
    refuses: dict[str, str] = field(default_factory=dict)  # formats it does not read, that a user might expect it to: why
    browser: str | None = None  # its build the demo page runs in the browser, whose cells here stand in for the page's
    browser_formats: tuple[str, ...] = ()  # the formats of its that the page serves

    @property
    def suffixes(self) -> tuple[str, ...]:
        return tuple(suffix for name in self.formats for suffix in FORMATS[name].suffixes)

    def adapter_class(self) -> type[Runner]:
        adapter: type[Runner] = load(self.adapter)
        return adapter

    def missing(self) -> str | None:
        """Why this runtime cannot run here (its package is not installed), or None."""
        if importlib.util.find_spec(self.package) is not None:
            return None
        how = f"pip install 'sketch-edge[{self.extra}]'" if self.extra else f"pip install {self.package}"
        return f"{self.name} is not installed ({how})"


def quantize(x: np.ndarray, info: TensorInfo) -> np.ndarray:
    """Real values -> the integer type of a quantized tensor, with its own scale and zero point."""
    dtype = np.dtype(info.dtype)
    q = np.round(x / info.scale) + info.zero_point
    return np.clip(q, np.iinfo(dtype).min, np.iinfo(dtype).max).astype(dtype)


def dequantize(q: np.ndarray, info: TensorInfo) -> np.ndarray:
    return (q.astype(np.float32) - (info.zero_point or 0)) * np.float32(info.scale)


def to_tensor(batch: np.ndarray, info: TensorInfo, pixels: tuple[float, float] | None = None) -> np.ndarray:
    """Contract floats -> the tensor's own type: quantized with its scale and zero point when it has them, else cast;
    a grayscale bitmap batch given to an RGB input (the mobile files, `InputSpec.rgb`) has its value in each channel.
    `pixels` (the contract's scale and offset, see `pixel_input`): the input takes raw pixels, fed as they were."""
    return _rgb(_converted(batch, info, pixels), info)


def _converted(batch: np.ndarray, info: TensorInfo, pixels: tuple[float, float] | None) -> np.ndarray:
    if pixels is not None:
        scale, offset = pixels
        return np.clip(np.round((batch - np.float32(offset)) / np.float32(scale)), 0, 255).astype(np.uint8)
    return quantize(batch, info) if info.scale is not None else np.ascontiguousarray(batch, dtype=info.dtype)


def _rgb(tensor: np.ndarray, info: TensorInfo) -> np.ndarray:
    if tensor.ndim == 4 and tensor.shape[-1] == 1 and info.shape[-1:] == (3,):
        return np.concatenate((tensor, tensor, tensor), axis=-1)  # half of np.repeat's time, and of a broadcast copy's
    return tensor


class InputTensor:
    """`to_tensor` for one input, made once per loaded file. A uint8 batch (the bitmap an app holds: its contract values
    are the pixels) given to an 8-bit input is mapped by what `to_tensor` itself makes of the 256 pixel values, so both
    paths give the same tensor bit for bit: a table lookup, or, as for every int8 file exported here (scale 1, zero
    point -128) and the pixel inputs of the mobile files, a byte shift or nothing. Scaling, rounding and clipping a
    28x28 bitmap took 7.5 us, as much as a tenth of an int8 model's call; the shift takes under one."""

    def __init__(self, info: TensorInfo, pixels: tuple[float, float] | None = None) -> None:
        self.info, self.pixels = info, pixels
        table = _converted(np.arange(256, dtype=np.float32), info, pixels)
        self._table = table if table.dtype.itemsize == 1 else None  # wider tensors: a cast costs what a lookup does
        shifts = None if self._table is None else np.unique((table.view(np.uint8).astype(int) - np.arange(256)) % 256)
        self._shift = int(shifts[0]) if shifts is not None and len(shifts) == 1 else None
        self._dtype = table.dtype
        self._rgb = info.shape[-1:] == (3,)

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        if batch.dtype is not _PIXELS or self._table is None:  # dtypes of the builtin types are singletons
            return to_tensor(batch, self.info, self.pixels)
        if self._shift is None:
            tensor = self._table[batch]
        elif self._shift:  # uint8 + a Python int stays uint8 and wraps: the shift modulo 256 (an operator: no kwargs to parse)
            tensor = (batch + self._shift).view(self._dtype)
        else:
            tensor = batch if self._dtype is _PIXELS else batch.view(self._dtype)
        return _rgb(tensor, self.info) if self._rgb else tensor


_PIXELS = np.dtype(np.uint8)


class OutputProbabilities:
    """`to_probabilities` for one output: an 8-bit quantized output goes through a 256-entry table of its dequantized
    values (one lookup, where subtracting and scaling took three array passes)."""

    def __init__(self, info: TensorInfo) -> None:
        self.info = info
        eight_bit = info.scale is not None and info.dtype in ("int8", "uint8")
        codes = np.arange(256, dtype=np.uint8).view(info.dtype) if eight_bit else None
        self._table = None if codes is None else dequantize(codes, info)

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        if self._table is not None and raw.dtype.itemsize == 1:
            return self._table[raw.view(np.uint8)]
        return to_probabilities(raw, self.info)


def pixel_input(info: TensorInfo, metadata: dict[str, Any] | None) -> tuple[float, float] | None:
    """The contract's (scale, offset) when the file's uint8 input takes raw 0-255 pixels (a mobile int8 file: export
    declares the pixel mapping as its scale and zero point, the zero point rounded to a whole number), else None.
    Such an input is fed the pixel itself, inverted from the contract's value, as MediaPipe feeds it: quantizing
    the value with the rounded zero point lands half a step off for a [-1, 1] model (127.5 -> 128), on the pixel for
    some and on the next for others, and LiteRT then answered otherwise than MediaPipe on 1.75% of the images."""
    contract = (metadata or {}).get("input")
    if info.dtype != "uint8" or info.scale is None or not isinstance(contract, dict) or contract.get("kind") not in ("bitmap", "image"):
        return None
    scale, offset = contract.get("scale", 1.0), contract.get("offset", 0.0)
    if not isinstance(scale, int | float) or not isinstance(offset, int | float) or not scale > 0:
        return None
    declared = (np.float32(info.scale), info.zero_point)
    return (float(scale), float(offset)) if declared == (np.float32(scale), round(-offset / scale)) else None


def fixed_batch(info: TensorInfo) -> int | None:
    """The batch size a file's input is fixed to (the mobile files: 1), or None when any batch runs."""
    return info.shape[0] if info.shape and isinstance(info.shape[0], int) else None


def predict_all(runner: Runner, x: np.ndarray, batch: int) -> np.ndarray:
    """Probabilities for every row of `x`, in calls of `batch` rows (of the file's fixed batch, when it has one)."""
    step = fixed_batch(runner.input_spec) or batch
    return np.concatenate([runner.predict(x[i : i + step]) for i in range(0, len(x), step)])


def to_probabilities(raw: np.ndarray, info: TensorInfo) -> np.ndarray:
    return dequantize(raw, info) if info.scale is not None else raw.astype(np.float32, copy=False)
