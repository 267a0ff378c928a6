"""TensorFlow SavedModel folders: the exchange format for other converters (TF.js, TF Serving); no embedded metadata.

No CPU runtime of the bench opens it: its parity is checked through TensorFlow's own loader (export.worker).
"""

from __future__ import annotations

from sketch_edge.formats.base import Format

FORMAT = Format(name="saved_model", suffixes=("",), runs_in_runtime=False)
