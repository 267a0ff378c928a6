"""Keras `.keras` files: the trained model itself, the bench's reference row (no embedded metadata)."""

from __future__ import annotations

from sketch_edge.formats.base import Format

FORMAT = Format(name="keras", suffixes=(".keras",))
