"""Faults a user's machine has: a full disk, a file size limit, a write that fails half-way. Each is one line naming
the file, exit 2, and the earlier outputs as they were (issue "nothing lost")."""

import contextlib
import errno
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sketch_edge import fileio
from sketch_edge.errors import OutputError

OLD = b"the earlier run's bytes"


def test_a_write_that_fails_half_way_leaves_the_earlier_file_and_no_temporary(tmp_path):
    target = tmp_path / "report.md"
    target.write_bytes(OLD)
    with pytest.raises(OutputError, match=r"report.md: not written, the disk is full \(.* MB free there; 0.0 MB had been"):
        with fileio.atomic_path(target) as tmp:
            tmp.write_bytes(b"x" * 1000)
            raise OSError(errno.ENOSPC, "No space left on device")
    assert target.read_bytes() == OLD and os.listdir(tmp_path) == ["report.md"]


def test_other_errors_in_the_writer_are_not_taken_for_write_failures(tmp_path):
    with pytest.raises(FileNotFoundError):
        with fileio.atomic_path(tmp_path / "out.txt"):
            raise FileNotFoundError(errno.ENOENT, "an input the writer read", "input.npz")


def _data_command(out: Path, limit: int | None = None) -> subprocess.CompletedProcess:
    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    command = [sys.executable, "-m", "sketch_edge", "data", "--classes", "circle,star", "--per-class", "3", "--out", str(out)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, preexec_fn=limited if limit else None)


def _refused_and_intact(proc: subprocess.CompletedProcess, out: Path, says: str) -> None:
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0] and "data_samples.png" in lines[0], proc.stderr
    assert (out / "data_samples.png").read_bytes() == OLD and sorted(p.name for p in out.iterdir() if p.name != "filler") == [
        "data_samples.png"
    ]


def test_a_file_size_limit_is_one_line_and_the_earlier_plot_stays(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "data_samples.png").write_bytes(OLD)
    _refused_and_intact(_data_command(out, limit=1024), out, "the file size limit was reached")  # the plot: 2.5 kB


def test_a_full_disk_is_one_line_and_the_earlier_plot_stays(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    out = tmp_path / "disk"
    out.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(out)], capture_output=True).returncode:
        pytest.skip("this machine does not let root mount a tmpfs (a container without CAP_SYS_ADMIN)")
    try:
        (out / "data_samples.png").write_bytes(OLD)
        with contextlib.suppress(OSError), (out / "filler").open("wb") as f:  # every free byte: the plot cannot fit
            f.write(b"\0" * fileio.free_bytes(out))
        _refused_and_intact(_data_command(out), out, "the disk is full")
    finally:
        subprocess.run(["umount", str(out)], check=True)
