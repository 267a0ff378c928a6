"""Running exported models in apps, without TensorFlow.

`Predictor(path).predict(x)` is the app-facing entry: labels and input contract
from the file's metadata, any sketch input converted the way training did.
`open_runner(path)` gives the bare adapter (LiteRT, ONNX Runtime, OpenVINO, or Keras for the
bench's reference row, the only one that loads TensorFlow). Importing this package
loads numpy and the project's own pure-Python modules; a runtime is imported when
a file of its format is opened, Pillow when an image is given.
"""

from sketch_edge.errors import DataError, ModelError, SketchEdgeError
from sketch_edge.runtime.base import Runner, RuntimeSpec, TensorInfo
from sketch_edge.runtime.predictor import Prediction, Predictor, deny_amx
from sketch_edge.runtime.registry import REFERENCE, RUNTIMES, open_runner, runtime_for, runtimes_for

__all__ = [
    "REFERENCE",
    "RUNTIMES",
    "DataError",
    "ModelError",
    "Prediction",
    "Predictor",
    "Runner",
    "RuntimeSpec",
    "SketchEdgeError",
    "TensorInfo",
    "deny_amx",
    "open_runner",
    "runtime_for",
    "runtimes_for",
]
