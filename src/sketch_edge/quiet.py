"""TensorFlow's start-up INFO lines (oneDNN, CUDA stubs) kept out of the user's terminal.

Since TF 2.19 they are written by absl before its logging is set up, so
`TF_CPP_MIN_LOG_LEVEL` does not silence them. The first `import tensorflow` runs
with file descriptor 2 captured; every captured line that is not INFO (warnings,
errors) is passed on unchanged.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator

# absl's INFO prefix, e.g. "I0000 00:00:1795669573.977131    7594 port.cc:153] "; TFLite's own ("INFO: Created
# TensorFlow Lite XNNPACK delegate for CPU.", which LiteRT prints for every interpreter a process makes first).
_INFO = re.compile(r"^(I\d{4} [\d:.]+\s+\d+ [\w.]+:\d+\] |WARNING: All log messages before absl::InitializeLog\(\) is called|INFO: )")


def import_tensorflow() -> None:
    if "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with without_native_info():
        import tensorflow  # noqa: F401


@contextlib.contextmanager
def captured_stderr() -> Iterator[list[str]]:
    """Collect what native code writes to file descriptor 2 while the block runs (below Python's sys.stderr: LiteRT
    announces its delegate there, absl its start-up); the lines are in the list once the block ends."""
    sys.stderr.flush()
    lines: list[str] = []
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield lines
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            lines += sink.read().decode(errors="replace").splitlines()


@contextlib.contextmanager
def without_native_info() -> Iterator[None]:
    """Native code's lines on file descriptor 2 while the block runs, all but the INFO ones passed on unchanged
    afterwards (warnings, errors)."""
    said: list[str] = []
    try:
        with captured_stderr() as said:
            yield
    finally:  # also when the block raised: its warnings may say why
        sys.stderr.writelines(f"{line}\n" for line in said if not _INFO.match(line))
