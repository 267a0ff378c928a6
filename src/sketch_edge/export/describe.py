"""Open one file made elsewhere and say what it is: run as `python -m sketch_edge.export.describe JOB.json`.

The file is opened by its default runtime in this process (a file that crashes the runtime costs the process, not
the bench), its graph is read by its format (inputs, outputs, constant types, ops, MACs), and `precision` says how
it stores the model. `export.files` takes what this says.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sketch_edge.errors import ModelError
from sketch_edge.formats import Format, format_of
from sketch_edge.isolation import Job, serve
from sketch_edge.manifest import TensorInfo
from sketch_edge.records import Count, Record

QUANTIZING_OPS = frozenset({"QUANTIZE", "QuantizeLinear", "QLinearConv", "QLinearMatMul"})
DYNAMIC_OPS = frozenset({"DynamicQuantizeLinear", "MatMulInteger", "ConvInteger"})


@dataclass(frozen=True)
class DescribeJob(Job):
    WORKER = "sketch_edge.export.describe"

    path: str
    result: str


@dataclass(frozen=True)
class Described(Record):
    """One file as its runtime opened it and its graph declares it."""

    inputs: Count
    outputs: Count
    input: TensorInfo
    output: TensorInfo
    tensor_types: tuple[str, ...]
    ops: dict[str, Count]
    metadata: dict[str, Any] | None
    macs: Count | None  # None: its format does not count them, or its graph defeated the count


def work(job: DescribeJob) -> Described:
    """In the worker: open the file in its default runtime and read its graph (raises on a file it cannot open)."""
    from sketch_edge.runtime import open_runner

    path = Path(job.path)
    file_format = format_of(path)
    if file_format.graph_facts is None:
        raise ModelError(f"{path}: a {file_format.name} file cannot be benched on its own")
    facts = file_format.graph_facts(path)
    runner = open_runner(path, threads=1)
    return Described(
        inputs=facts.inputs,
        outputs=facts.outputs,
        input=runner.input_spec,
        output=runner.output_spec,
        tensor_types=facts.tensor_types,
        ops=file_format.op_counts(path),
        metadata=runner.metadata,
        macs=_macs(file_format, path),
    )


def _macs(file_format: Format, path: Path) -> int | None:
    """The file's MACs per example, or None: the count reads shapes any converter may leave odd (a dynamic dimension,
    an op it does not know), and a file that runs is benched without its peak % rather than refused."""
    if file_format.count_macs is None:
        return None
    try:
        return file_format.count_macs(path)
    except Exception:  # best effort on graphs made by any converter: the bench then says "MACs not counted"
        return None


def precision(facts: Described) -> str:
    """How the file stores the model, from its ops and constant types: integer input or quantizing ops: int8 (an
    int16x8 file counts as int8); int8 weights otherwise: dynamic-int8; fp16 weights: fp16; else fp32."""
    ops, types = set(facts.ops), set(facts.tensor_types)
    if facts.input.dtype in ("int8", "uint8") or ops & QUANTIZING_OPS:
        return "int8"
    if ops & DYNAMIC_OPS or "int8" in types:
        return "dynamic-int8"
    return "fp16" if "float16" in types else "fp32"


def main() -> None:
    serve(DescribeJob, work, lambda job: Path(job.result))


if __name__ == "__main__":
    main()
