"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture
def bitmap_folder(tmp_path: Path) -> Path:
    """Two numpy_bitmap classes of 20 random-ink bitmaps each, one with a space in its name."""
    rng = np.random.default_rng(0)
    for name in ("cat", "The Eiffel Tower"):
        np.save(tmp_path / f"{name}.npy", rng.integers(0, 256, size=(20, 784), dtype=np.uint8))
    return tmp_path
