"""TensorFlow's start-up INFO lines stay out of the terminal; its warnings and errors do not."""

import subprocess
import sys

import pytest

SCRIPT = """
import os, sys
from sketch_edge import quiet
real_import = __builtins__.__import__

def fake_tensorflow_import(name, *args, **kwargs):
    if name == "tensorflow":
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\\n")
        os.write(2, b"I0000 00:00:1795669573.977131    7594 port.cc:153] oneDNN custom operations are on.\\n")
        os.write(2, b"W0000 00:00:1795669573.977472    7594 gpu.cc:31] a warning that matters\\n")
        os.write(2, b"E0000 00:00:1795669573.977472    7594 x.cc:31] an error\\n")
        sys.modules["tensorflow"] = object()
        return sys.modules["tensorflow"]
    return real_import(name, *args, **kwargs)

__builtins__.__import__ = fake_tensorflow_import
quiet.import_tensorflow()
print("after", file=sys.stderr)
"""


def test_info_lines_are_dropped_and_warnings_kept():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        "W0000 00:00:1795669573.977472    7594 gpu.cc:31] a warning that matters",
        "E0000 00:00:1795669573.977472    7594 x.cc:31] an error",
        "after",
    ]


@pytest.mark.slow
def test_real_tensorflow_import_prints_no_info():
    script = "from sketch_edge.quiet import import_tensorflow; import_tensorflow(); import keras"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and not [line for line in result.stderr.splitlines() if line.startswith("I0000")], result.stderr
