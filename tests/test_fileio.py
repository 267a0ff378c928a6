import pytest

from sketch_edge import fileio
from sketch_edge.errors import OutputError


def test_atomic_write_replaces_only_on_success(tmp_path):
    target = tmp_path / "report.json"
    fileio.write_json(target, {"a": 1})
    with pytest.raises(RuntimeError):
        with fileio.atomic_path(target) as tmp:
            tmp.write_text("half-writ")
            raise RuntimeError("interrupted")
    assert target.read_text() == '{\n  "a": 1\n}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temporary file left behind


def test_unwritable_folder_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="cannot write here"):
        fileio.write_text(blocker / "sub" / "out.txt", "hello")


def test_a_later_run_removes_what_a_killed_one_left(tmp_path):
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()
    (tmp_path / f".jobs-~{dead}~abc").mkdir()
    (tmp_path / f".jobs-~{dead}~abc" / "partial.onnx").write_bytes(b"half")
    (tmp_path / f".model.keras.~{dead}~xyz.keras").write_bytes(b"half")
    import os

    alive = tmp_path / f".cells-~{os.getpid()}~def"
    alive.mkdir()
    (tmp_path / "onnx-fp32.onnx").write_bytes(b"a real artifact")
    scratch = fileio.scratch_dir(tmp_path, ".jobs-")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, scratch.name, "onnx-fp32.onnx"])
    assert f"~{os.getpid()}~" in scratch.name


def test_check_writable_fails_before_any_work(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="cannot write here"):
        fileio.check_writable(blocker / "out")
    fileio.check_writable(tmp_path / "new" / "deeper")
    assert not (tmp_path / "new").exists()  # the probe leaves no empty folder behind a run refused later
    (tmp_path / "kept").mkdir()
    fileio.check_writable(tmp_path / "kept")
    assert (tmp_path / "kept").is_dir() and list((tmp_path / "kept").iterdir()) == []


def test_json_never_holds_nan_or_infinity(tmp_path):
    import json

    target = tmp_path / "r.json"
    fileio.write_json(target, {"p50": float("nan"), "rows": [1.5, float("inf"), (float("-inf"), 2)], "ok": True})
    assert json.loads(target.read_text()) == {"p50": None, "rows": [1.5, None, [None, 2]], "ok": True}  # strict JSON


def test_a_zip_member_that_would_inflate_a_thousandfold_is_named(tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "m.keras", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", "{}")
        archive.writestr("model.weights.h5", bytes(30 << 20))  # 30 MB of zeros, about 30 kB packed
    assert "its member 'model.weights.h5' would inflate from" in fileio.archive_problem(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "ok.npz", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.npy", bytes(1 << 19))  # small members inflate freely: the 1 MB allowance
    assert fileio.archive_problem(tmp_path / "ok.npz") is None


def test_read_limited_refuses_a_pipe_without_blocking_a_folder_and_a_file_too_long(tmp_path):
    import errno
    import os

    from sketch_edge.fileio import read_limited

    (tmp_path / "ok.json").write_bytes(b"{}")
    assert read_limited(tmp_path / "ok.json", 2) == b"{}"
    with pytest.raises(OSError, match="2 bytes, over the 1 a file of this kind may have") as long:
        read_limited(tmp_path / "ok.json", 1)
    assert long.value.errno == errno.EFBIG
    os.mkfifo(tmp_path / "pipe")  # no writer: a plain open would block forever
    with pytest.raises(OSError, match="not a regular file"):
        read_limited(tmp_path / "pipe", 1 << 20)
    with pytest.raises(OSError, match="a folder"):
        read_limited(tmp_path, 1 << 20)


def test_a_manifest_that_is_a_named_pipe_is_one_line_not_a_hang(tmp_path):
    import os

    from sketch_edge.errors import ManifestError
    from sketch_edge.manifest import Manifest

    os.mkfifo(tmp_path / "manifest.json")
    with pytest.raises(ManifestError, match="manifest.json: not a readable manifest.json \\(not a regular file"):
        Manifest.load(tmp_path / "manifest.json")
