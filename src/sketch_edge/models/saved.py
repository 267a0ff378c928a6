"""Loading a trained `model.keras`: safe mode always, and a one-line `ModelError` for anything that is not one."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from sketch_edge.errors import ModelError, first_line


def load_trained(path: Path) -> Any:
    """The Keras model at `path`. Safe mode refuses pickled Python (a `Lambda` layer's code) rather than running it."""
    import keras

    import sketch_edge.models.layers  # noqa: F401  (registers the project's layers before Keras reads the file)

    if not path.is_file():
        raise ModelError(f"{path}: no such model file")
    if not zipfile.is_zipfile(path):
        raise ModelError(f"{path}: not a .keras model (not a zip archive)")
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except (OSError, ValueError, TypeError, KeyError, zipfile.BadZipFile) as exc:
        raise ModelError(f"{path}: Keras cannot load it safely ({first_line(exc)[:200]})") from None
