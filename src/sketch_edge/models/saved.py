"""Loading a trained `model.keras`: safe mode always, and a one-line `ModelError` for anything that is not one."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from sketch_edge.data.dataset import InputSpec
from sketch_edge.errors import ModelError, first_line
from sketch_edge.fileio import archive_problem


def load_trained(path: Path) -> Any:
    """The Keras model at `path`. Safe mode refuses pickled Python (a `Lambda` layer's code) rather than running it."""
    import keras

    import sketch_edge.models.layers  # noqa: F401  (registers the project's layers before Keras reads the file)

    if not path.is_file():
        raise ModelError(f"{path}: no such model file")
    if not zipfile.is_zipfile(path):
        raise ModelError(f"{path}: not a .keras model (not a zip archive)")
    try:
        problem = archive_problem(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise ModelError(f"{path}: not a readable .keras archive ({first_line(exc)})") from None
    if problem is not None:
        raise ModelError(f"{path}: {problem}")
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except (OSError, ValueError, TypeError, KeyError, zipfile.BadZipFile) as exc:
        raise ModelError(f"{path}: Keras cannot load it safely ({first_line(exc)[:200]})") from None


def predict_stored(model: Any, spec: InputSpec, stored: np.ndarray, batch: int = 512) -> np.ndarray:
    """Keras's outputs on stored examples (pixels for pictures), mapped into the model's range a batch at a time:
    a user's picture model can have a test split too large to hold in float32 at once."""
    parts = [model.predict(spec.model_input(stored[i : i + batch]), batch_size=batch, verbose=0) for i in range(0, len(stored), batch)]
    return np.concatenate(parts)


ARCHITECTURES = {
    "recurrent": "has a recurrent layer (LSTM, GRU): unrolled into hundreds of ops for TFLite",
    "feed-forward": "no recurrence",
}


def recurrent_layers(model: Any) -> list[str]:
    """The names of the model's recurrent layers (any Keras RNN: LSTM, GRU)."""
    import keras

    return [layer.name for layer in model.layers if isinstance(layer, keras.layers.RNN)]


def architecture_of(model: Any) -> str:
    """What the export recipes' defaults go by (a key of ARCHITECTURES)."""
    return "recurrent" if recurrent_layers(model) else "feed-forward"
