"""Per-layer quantization sensitivity: where a quantized artifact departs from its float twin, layer by layer.

Both models run on the same calibration drawings with every intermediate tensor
kept: ONNX through ONNX Runtime's `qdq_loss_debug` (it adds each tensor as a
graph output and pairs a QDQ model's tensors with the float ones by name), TFLite
through LiteRT's `experimental_preserve_all_tensors` (a quantized tensor is
dequantized with its own scale and zero point; the converter keeps op output
names across recipes). For each layer output found in both:

- `sqnr_db`: signal-to-quantization-noise ratio of the quantized model's tensor
  against the float one, 20 log10(|float| / |float - quantized|): the error
  accumulated up to this layer;
- `added_noise`: the noise the layer itself adds, as a fraction of the signal:
  its output's relative error |float - quantized| / |float| minus its noisiest
  input's (a tensor with no counterpart is looked through to its producer's
  inputs). Layers are ranked by it, worst first: accumulated SQNR only falls with
  depth and would always blame the last layer, and a difference of dB would
  always blame the first (any noise after an exact input is many dB);
- `max_abs_error` of the same difference.

TFLite runs with the builtin reference kernels here, not XNNPACK: a delegate
computes its whole subgraph at once and keeps no intermediate tensors.

A float tensor with no quantized counterpart is listed in `skipped`, never an error.
"""

from __future__ import annotations

import math
import tempfile
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sketch_edge import fileio
from sketch_edge.formats import FORMATS
from sketch_edge.manifest import SensitivitySummary
from sketch_edge.plugins import load
from sketch_edge.reporting import pyplot

MAX_SQNR_DB = 100.0
"""Identical tensors (a max-pool of int8 values, an exactly representable input) are shown as this, not infinity."""
SAMPLES = 64


@dataclass(frozen=True)
class LayerFailure:
    tensor: str  # the layer's output tensor in the float model
    op: str
    nodes: tuple[str, ...]  # what the format's quantizer takes to keep the layer in float (ONNX: node names; TFLite: the tensor name)
    sqnr_db: float
    added_noise: float
    max_abs_error: float

    @property
    def label(self) -> str:
        """A short name for tables and plots: the op and the first part of the tensor's name."""
        return f"{self.op} {self.tensor.split(';')[0][:48]}"

    @property
    def keras_layer(self) -> str:
        """The Keras layer the op came from, read from its name (`model/layer/op`): an unrolled LSTM's hundreds of
        ops are one layer. Names without that path (`Conv__42:0`, `probabilities`) are their own layer."""
        parts = self.tensor.split(";")[0].split("/")
        return parts[1] if len(parts) >= 3 else parts[0]


@dataclass(frozen=True)
class Sensitivity:
    artifact: str
    reference: str  # the float file compared against
    samples: int
    layers: tuple[LayerFailure, ...]  # worst (most SQNR lost) first
    skipped: tuple[str, ...] = ()  # float layer outputs with no counterpart in the quantized model
    output_sqnr_db: float | None = None  # at the model's output

    @property
    def worst(self) -> LayerFailure | None:
        return self.layers[0] if self.layers else None

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"worst": asdict(self.worst) if self.worst else None}

    def summary(self) -> SensitivitySummary:
        """What the manifest keeps of it (the whole report is its own file)."""
        worst = self.worst
        return SensitivitySummary(
            worst_layer=worst.label if worst else None,
            worst_added_noise=round(worst.added_noise, 5) if worst else None,
            worst_sqnr_db=round(worst.sqnr_db, 2) if worst else None,
            output_sqnr_db=round(self.output_sqnr_db, 2) if self.output_sqnr_db is not None else None,
            layers=len(self.layers),
            skipped=len(self.skipped),
        )

    def write(self, json_path: Path, png_path: Path) -> None:
        fileio.write_json(json_path, self.to_json())
        _plot(self, png_path)


def sqnr_db(reference: np.ndarray, candidate: np.ndarray) -> float:
    reference, candidate = reference.astype(np.float64).ravel(), candidate.astype(np.float64).ravel()
    signal, noise = np.linalg.norm(reference), np.linalg.norm(reference - candidate)
    if noise == 0 or signal == 0:
        return MAX_SQNR_DB if noise == 0 else -MAX_SQNR_DB
    return float(min(MAX_SQNR_DB, 20 * math.log10(signal / noise)))


def measure(format_name: str, float_path: Path, quant_path: Path, samples: np.ndarray) -> Sensitivity:
    """Compare every matched layer output of `quant_path` with `float_path` on `samples` (the first SAMPLES are used)."""
    x = samples[:SAMPLES].astype(np.float32)
    collect = FORMATS[format_name].layers
    if collect is None:
        raise ValueError(f"the sensitivity report does not read {format_name} files")
    layers, inputs, output, skipped, producers = load(collect)(float_path, quant_path, x)
    sqnr = {name: sqnr_db(f, q) for name, (f, q) in inputs.items()}
    sqnr |= {name: sqnr_db(f, q) for name, (_, _, _, f, q) in layers.items()}

    relative = {name: 10 ** (-db / 20) for name, db in sqnr.items()}

    def noise(name: str) -> float:
        """Relative error of a tensor; one without a counterpart: its producer's noisiest input (weights: none)."""
        if name not in relative:  # graphs are acyclic, so this ends
            relative[name] = max((noise(s) for s in producers.get(name, [])), default=0.0)
        return relative[name]

    errors = []
    for name, (op, nodes, sources, f, q) in layers.items():
        added = max(0.0, noise(name) - max((noise(s) for s in sources), default=0.0))
        errors.append(LayerFailure(name, op, nodes, sqnr[name], added, float(np.abs(f - q).max())))
    errors.sort(key=lambda e: (-e.added_noise, e.sqnr_db))
    return Sensitivity(
        artifact=quant_path.name,
        reference=float_path.name,
        samples=len(x),
        layers=tuple(errors),
        skipped=tuple(skipped),
        output_sqnr_db=sqnr.get(output),
    )


Layers = dict[str, tuple[str, tuple[str, ...], list[str], np.ndarray, np.ndarray]]
"""Layer output name -> (op, nodes, input tensor names, float values, quantized values)."""
Collected = tuple[Layers, dict[str, tuple[np.ndarray, np.ndarray]], str, list[str], dict[str, list[str]]]
"""Matched layers, the model input's (float, quantized) pair if the quantized model has one, the output's name,
the float layer outputs skipped, and every float op output's input names."""


def onnx_layers(float_path: Path, quant_path: Path, x: np.ndarray) -> Collected:
    import onnx
    from onnxruntime.quantization.qdq_loss_debug import (
        collect_activations,
        create_activation_matching,
        modify_model_output_intermediate_tensors,
    )

    graph = onnx.load(str(float_path)).graph
    input_name, output_name = graph.input[0].name, graph.output[0].name
    with tempfile.TemporaryDirectory(prefix=fileio.owned_prefix(".sensitivity-"), dir=quant_path.parent) as scratch:
        activations = []
        for path in (float_path, quant_path):
            augmented = Path(scratch) / f"augmented-{path.name}"
            modify_model_output_intermediate_tensors(str(path), str(augmented))
            activations.append(collect_activations(str(augmented), iter([{input_name: x}])))
    float_acts, quant_acts = activations
    matched = create_activation_matching(quant_acts, float_acts)  # QDQ: the tensor after its QuantizeLinear/DequantizeLinear pair
    quantized = {}
    skipped = []
    for node in graph.node:
        for name in node.output:
            if name not in float_acts:
                continue
            if name in matched and "float" in matched[name]:
                quantized[name] = matched[name]["post_qdq"][0]
            elif name in quant_acts:  # dynamic quantization, or a layer kept in float: the same name, a float tensor
                quantized[name] = quant_acts[name][0]
            else:
                skipped.append(name)  # inside a fused layer (a Conv before its Relu): no tensor of its own in the QDQ graph
    producer = {name: node for node in graph.node for name in node.output}

    def nodes_of(name: str) -> tuple[str, ...]:
        """The node making a matched tensor and those making the unmatched tensors it is computed from: one layer."""
        node = producer[name]
        inner = [i for i in node.input if i in producer and i not in quantized]
        return (node.name, *(n for i in inner for n in nodes_of(i)))

    layers: Layers = {
        name: (producer[name].op_type, nodes_of(name), list(producer[name].input), float_acts[name][0], q) for name, q in quantized.items()
    }
    inputs = {}
    if input_name in matched:
        inputs[input_name] = (float_acts[input_name][0], matched[input_name]["post_qdq"][0])
    return layers, inputs, output_name, skipped, {name: list(node.input) for name, node in producer.items()}


def tflite_layers(float_path: Path, quant_path: Path, x: np.ndarray) -> Collected:
    float_tensors, float_ops, input_name, output_name = _tflite_run(float_path, x)
    quant_tensors, _, _, _ = _tflite_run(quant_path, x)
    layers: Layers = {}
    skipped = []
    for op, inputs, outputs in float_ops:
        for name in outputs:
            if name not in float_tensors:
                continue  # integer shape arithmetic
            if name not in quant_tensors:
                skipped.append(name)
                continue
            layers[name] = (op, (name,), inputs, float_tensors[name], quant_tensors[name])
    pair = {input_name: (float_tensors[input_name], quant_tensors[input_name])} if input_name in quant_tensors else {}
    producers = {name: inputs for _, inputs, outputs in float_ops for name in outputs}
    return layers, pair, output_name, skipped, producers


def _tflite_run(path: Path, x: np.ndarray) -> tuple[dict[str, np.ndarray], list[tuple[str, list[str], list[str]]], str, str]:
    """Every float (or dequantized) tensor after one run on `x`, the ops with their input and output names,
    and the model's input and output names."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    from sketch_edge.runtime.litert import LiteRTRunner

    with warnings.catch_warnings():  # "intended for debugging purposes only": it is what this is
        warnings.simplefilter("ignore", UserWarning)
        interpreter = Interpreter(
            model_path=str(path),
            experimental_preserve_all_tensors=True,
            experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        )
    runner = LiteRTRunner(interpreter)
    runner.run(runner.prepare(x))
    details = {t["index"]: t for t in interpreter.get_tensor_details()}
    tensors = {}
    for index, detail in details.items():
        dtype = np.dtype(detail["dtype"])
        scale, zero_point = detail["quantization"]
        try:
            value = interpreter.get_tensor(index)
        except ValueError:  # a tensor the interpreter never filled
            continue
        if dtype.kind == "f":
            tensors[detail["name"]] = value.astype(np.float32)
        elif dtype.kind in "iu" and scale != 0:
            tensors[detail["name"]] = (value.astype(np.float32) - zero_point) * np.float32(scale)
    ops = [
        (op["op_name"], [details[i]["name"] for i in op["inputs"] if i >= 0], [details[i]["name"] for i in op["outputs"]])
        for op in interpreter._get_ops_details()
    ]
    return tensors, ops, runner.input_spec.name, runner.output_spec.name


def _plot(report: Sensitivity, path: Path) -> None:
    plt = pyplot()
    layers = report.layers[:25]
    fig, ax = plt.subplots(figsize=(9, 0.35 * len(layers) + 1.6))
    y = np.arange(len(layers))
    added = [100 * e.added_noise for e in layers]
    ax.barh(y, added, color="tab:red", alpha=0.8)
    for i, e in enumerate(layers):
        ax.text(added[i], i, f"  out SQNR {e.sqnr_db:.1f} dB, max |err| {e.max_abs_error:.3g}", va="center", fontsize=7)
    ax.set_yticks(y, [e.label for e in layers], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("noise the layer adds: its output's |float - quantized| / |float| minus its inputs', in %")
    output = f"; output SQNR {report.output_sqnr_db:.1f} dB" if report.output_sqnr_db is not None else ""
    ax.set_title(f"{report.artifact} vs {report.reference}: worst layers first ({report.samples} drawings{output})", fontsize=9)
    ax.set_xlim(0, max(added + [0.1]) * 1.8)
    fig.tight_layout()
    with fileio.atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
