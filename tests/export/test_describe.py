"""How a file made elsewhere is described: its precision from its ops and constant types (`export.describe`)."""

from __future__ import annotations

from sketch_edge.export.describe import Described, precision
from sketch_edge.manifest import TensorInfo


def _described(ops: dict[str, int], types: tuple[str, ...] = ("float32",), dtype: str = "float32") -> Described:
    tensor = TensorInfo(name="x", shape=(1, 28, 28, 1), dtype=dtype)
    return Described(
        inputs=1,
        outputs=1,
        input=tensor,
        output=tensor,
        tensor_types=types,
        ops=ops,
        metadata=None,
        macs=None,
    )


def test_precision_is_read_from_ops_and_constant_types() -> None:
    assert precision(_described({"CONV_2D": 2})) == "fp32"
    assert precision(_described({"CONV_2D": 2}, ("float16", "float32"))) == "fp16"
    assert precision(_described({"CONV_2D": 2}, ("float32", "int8"))) == "dynamic-int8"  # int8 weights, float input
    assert precision(_described({"QUANTIZE": 1, "CONV_2D": 2}, ("int32", "int8"))) == "int8"
    assert precision(_described({"CONV_2D": 2}, ("int8",), dtype="uint8")) == "int8"  # integer input
    assert precision(_described({"DynamicQuantizeLinear": 1, "MatMulInteger": 1})) == "dynamic-int8"
    assert precision(_described({"QuantizeLinear": 3, "DequantizeLinear": 5, "Conv": 2})) == "int8"
