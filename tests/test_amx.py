"""amx: a seccomp filter denies a process (and its children) the AMX request, and nothing else; the predictor's
option refuses to come too late. Each check runs in a fresh process: the filter cannot be undone."""

import errno
import subprocess
import sys

import pytest

from sketch_edge import amx

pytestmark = pytest.mark.skipif(sys.platform != "linux" or amx.platform.machine() != "x86_64", reason="AMX is x86-64 Linux's")


def _python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_the_request_for_amx_is_denied_in_the_process_and_its_children_and_other_calls_pass():
    out = _python(
        "import ctypes, errno, subprocess, sys\n"
        "from sketch_edge import amx\n"
        "before = amx.request_answer()\n"
        "amx.deny()\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "fs = ctypes.c_ulong()\n"
        "other = libc.syscall(158, 0x1003, ctypes.byref(fs))  # ARCH_GET_FS: another arch_prctl, still allowed\n"
        "child = subprocess.run([sys.executable, '-c', 'from sketch_edge import amx; print(amx.request_answer())'],"
        " capture_output=True, text=True).stdout.strip()\n"
        "print(before, amx.request_answer(), other, child)"
    )
    before, after, other, child = (int(v) for v in out.split())
    assert after == errno.EPERM and child == errno.EPERM  # denied, here and in what it starts
    assert before != errno.EPERM  # granted (0) on a CPU with AMX, EINVAL/EOPNOTSUPP without: not the filter's answer
    assert other == 0


def test_the_cpu_flag_is_read_from_cpuinfo(tmp_path):
    with_amx, without = tmp_path / "with", tmp_path / "without"
    with_amx.write_text("processor : 0\nflags : fpu avx512f amx_bf16 amx_tile amx_int8\n")
    without.write_text("processor : 0\nflags : fpu avx2 avx512_vnni\n")
    assert amx.has_amx(with_amx) and not amx.has_amx(without) and not amx.has_amx(tmp_path / "absent")


def test_the_predictor_denies_amx_only_before_a_runtime_loads(tmp_path):
    out = _python(
        "import errno\n"
        "from sketch_edge import amx\n"
        "from sketch_edge.runtime import deny_amx, ModelError\n"
        "deny_amx()\n"
        "import onnxruntime\n"
        "try:\n"
        "    deny_amx()\n"
        "except ModelError as exc:\n"
        "    print(amx.request_answer() == errno.EPERM, exc)\n"
    )
    assert out.startswith("True ") and "onnxruntime is loaded already" in out


def test_predict_takes_the_option_and_still_answers(tmp_path):
    import numpy as np

    from tests.helpers import linear_softmax_onnx

    model = linear_softmax_onnx(tmp_path / "m.onnx", np.ones((784, 3), dtype=np.float32))
    np.save(tmp_path / "one.npy", np.zeros((28, 28), dtype=np.uint8))
    labels = tmp_path / "labels.txt"
    labels.write_text("a\nb\nc\n")
    command = [sys.executable, "-m", "sketch_edge", "predict", str(model), str(tmp_path / "one.npy"), "--labels", str(labels)]
    done = subprocess.run([*command, "--deny-amx", "--json"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "one.npy" in done.stdout and '"a"' in done.stdout
