"""The one loader of code a registry names as "module:function" (or "module:Class").

Registries name their exporters, adapters, profilers and checks as text, so that
listing them imports nothing heavy and a worker process imports only the one it runs.
"""

from __future__ import annotations

import importlib
from typing import Any


def load(reference: str) -> Any:
    """The object `reference` ("package.module:name") names, its module imported now."""
    module, _, name = reference.partition(":")
    return getattr(importlib.import_module(module), name)
