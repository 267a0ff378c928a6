"""One calibration reader feeds both quantizers.

It follows onnxruntime's `CalibrationDataReader` protocol (`get_next()` returns an
input dict, then None when exhausted) and also yields TFLite's representative
dataset, so the TFLite and ONNX int8 artifacts are calibrated on the same drawings.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from sketch_edge.errors import DataError


class CalibrationReader:
    def __init__(self, samples: np.ndarray, input_name: str) -> None:
        if len(samples) == 0:
            raise DataError("the calibration set is empty: quantization needs representative drawings")
        self.samples = samples.astype(np.float32)
        self.input_name = input_name
        self._next = 0

    def as_rgb(self) -> CalibrationReader:
        """The same drawings as RGB images (the gray value in each channel), for a model that takes them."""
        return CalibrationReader(np.repeat(self.samples, 3, axis=-1), self.input_name)

    def get_next(self) -> dict[str, np.ndarray] | None:
        if self._next >= len(self.samples):
            return None
        item = self.samples[self._next : self._next + 1]
        self._next += 1
        return {self.input_name: item}

    def rewind(self) -> None:
        self._next = 0

    def representative_dataset(self) -> Iterator[list[np.ndarray]]:
        for i in range(len(self.samples)):
            yield [self.samples[i : i + 1]]
