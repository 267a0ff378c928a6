"""Constants and helpers shared by the tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_QUICKDRAW = REPO.parent / "shared" / "quickdraw"

needs_real_data = pytest.mark.skipif(
    not (SHARED_QUICKDRAW / "numpy_bitmap").is_dir(),
    reason=f"the real QuickDraw subset is not at {SHARED_QUICKDRAW} (only the developers' and CI machines have it)",
)

TINY_CLASSES = ("circle", "star", "lightning", "envelope")

SQUARE = [[[0, 255, 255, 0, 0], [0, 0, 255, 255, 0]]]
TRIANGLE = [[[128, 255, 0, 128], [0, 255, 255, 0]]]


def write_ndjson(path: Path, drawings: list, recognized: list[bool] | None = None) -> Path:
    recognized = recognized or [True] * len(drawings)
    lines = [json.dumps({"word": path.stem, "recognized": r, "drawing": d}) for d, r in zip(drawings, recognized, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path
