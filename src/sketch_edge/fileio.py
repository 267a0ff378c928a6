"""Atomic writes (a later stage must never read a half-written model or report) and file digests."""

from __future__ import annotations

import contextlib
import csv
import errno
import hashlib
import io
import json
import math
import os
import re
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from sketch_edge.errors import OutputError, SketchEdgeError

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside `target`; rename it onto `target` only on success."""
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=owned_prefix(f".{target.name}."), suffix=suffix or target.suffix, dir=target.parent)
    except OSError as exc:
        raise _unwritable(target.parent, exc, OutputError) from None
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_UMASK)  # mkstemp makes 0600; the result should look like any other written file
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    except OSError as exc:
        if isinstance(exc, SketchEdgeError) or exc.errno not in WRITE_ERRNOS:
            raise
        raise write_failure(target, exc, _size(tmp_path)) from None
    finally:
        tmp_path.unlink(missing_ok=True)


WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO, errno.EACCES, errno.EPERM})
"""What writing a file can fail with that the user must fix (space, quota, a read-only or failing disk, permissions)."""


def write_failure(target: Path, exc: OSError, writing: int | None = None) -> OutputError:
    """One line for a write that failed: the file, why, and on a full disk the space free there and what was being
    written. Nothing was renamed into place, so earlier outputs are as they were."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        free = free_bytes(target.parent)
        wrote = f"; {writing / 1e6:,.1f} MB had been written" if writing else ""
        limit = "the file size limit was reached" if exc.errno == errno.EFBIG else "the disk is full"
        return OutputError(
            f"{target}: not written, {limit} ({free / 1e6:,.1f} MB free there{wrote}); free some space and run again "
            "(earlier outputs are as they were)"
        )
    return OutputError(f"{target}: not written ({exc.strerror or exc}); earlier outputs are as they were")


def free_bytes(folder: Path) -> int:
    """Free space on the file system holding `folder` (its nearest existing parent)."""
    existing = next((p for p in (folder, *folder.parents) if p.exists()), Path("/"))
    return shutil.disk_usage(existing).free


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def write_text(target: str | os.PathLike, text: str) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_csv(target: str | os.PathLike, header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    write_text(target, buffer.getvalue())


def write_json(target: str | os.PathLike, data: Any) -> None:
    """`data` as JSON. JSON has no NaN or infinity (Python would write them, and no other reader takes the file):
    a figure that is not a finite number is written as null, "not known"."""
    write_text(target, json.dumps(_finite(data), indent=2, sort_keys=False, allow_nan=False) + "\n")


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def scratch_dir(folder: Path, prefix: str, error: type[SketchEdgeError] = OutputError) -> Path:
    """A new temporary folder inside `folder` (created if needed), so later renames stay on one file system;
    an unwritable `folder` raises `error`, the calling stage's own type."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        remove_stale(folder)
        return Path(tempfile.mkdtemp(prefix=owned_prefix(prefix), dir=folder))
    except OSError as exc:
        raise _unwritable(folder, exc, error) from None


def move_into(staged: Path, target: Path, record: Path | None, merge: tuple[str, ...] = ()) -> None:
    """Move every entry of the folder `staged` to the same name in `target` (one file system: each a rename): a stage's
    outputs made in full first, then committed together. `record` is the file describing the others (a manifest, a
    train report): the old one is removed first and the staged one moved last, so a kill in between leaves no
    record, never one describing a mix of old and new files (the stage's readers refuse the folder, and the next run
    makes it whole). A staged folder replaces the old one whole, except those named in `merge`, whose files join
    the files already there."""
    target.mkdir(parents=True, exist_ok=True)
    if record is not None:
        record.unlink(missing_ok=True)
    for entry in sorted(staged.iterdir(), key=lambda e: (record is not None and e.name == record.name, e.name)):
        into = target / entry.name
        if entry.name in merge and entry.is_dir():
            move_into(entry, into, None)
        elif entry.is_dir() and into.is_dir() and not into.is_symlink():
            old = into.with_name(f".{into.name}.old{owned_prefix('')}")
            into.replace(old)
            entry.replace(into)
            shutil.rmtree(old, ignore_errors=True)
        else:
            entry.replace(into)


@contextlib.contextmanager
def committed(target: Path, record: Path, prefix: str) -> Iterator[Path]:
    """A scratch folder inside `target` for a stage's outputs, moved into `target` together when the block ends
    without error (`move_into`, `record` last); removed either way."""
    scratch = scratch_dir(target, prefix)
    try:
        yield scratch
        move_into(scratch, target, record)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def owned_prefix(prefix: str) -> str:
    """A temporary name's prefix carrying this process's PID, so a later run can tell what a killed one left."""
    return f"{prefix}~{os.getpid()}~"


_OWNER = re.compile(r"^\..*~(\d+)~")


def remove_stale(folder: Path) -> list[Path]:
    """Remove the temporary files and folders that processes no longer alive left in `folder` (killed mid-write)."""
    removed = []
    for entry in folder.iterdir():
        match = _OWNER.match(entry.name)
        if match is None or _alive(int(match.group(1))):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def check_writable(folder: Path, error: type[SketchEdgeError] = OutputError) -> None:
    """Fail now, not after an hour of training, when `folder` cannot be written; the folders the probe had to make
    are removed again, so a run refused later (a bad teacher, bad data) leaves nothing behind. Writers make them."""
    missing = [path for path in (folder, *folder.parents) if not path.exists()]
    scratch = scratch_dir(folder, ".probe-", error)
    scratch.rmdir()
    for made in missing:  # deepest first
        made.rmdir()


def read_limited(path: str | os.PathLike, limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes. A named pipe, a device or a folder is refused without
    blocking (opened non-blocking, checked before reading), a longer file before it is read: an input that never ends
    or takes gigabytes is an OSError saying so, which each reader turns into its own one-line error."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except IsADirectoryError:
        raise OSError(errno.EISDIR, "a folder, not a file", str(path)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file (a pipe, a device or a folder)", str(path))
        if info.st_size > limit:
            raise OSError(errno.EFBIG, f"{info.st_size:,} bytes, over the {limit:,} a file of this kind may have", str(path))
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:  # it grew while it was read
        raise OSError(errno.EFBIG, f"over the {limit:,} bytes a file of this kind may have", str(path))
    return data


def refuse_overlap(out: Path, inputs: Mapping[str, Path], flag: str) -> None:
    """An output must not hold, equal or lie inside what it is made from (nor the reverse): writing it would change
    or destroy what it reads. `inputs` names each input as the message should ("the image folder", "--teacher");
    `flag` is the option that chose `out`."""
    target = out.resolve()
    for name, path in inputs.items():
        given = path.resolve()
        if given == target or target in given.parents or given in target.parents:
            raise OutputError(f"{out}: the output folder overlaps {name} {path}, which it reads; choose another {flag}")


def _unwritable(folder: Path, exc: OSError, error: type[SketchEdgeError]) -> SketchEdgeError:
    return error(f"{folder}: cannot write here ({exc.strerror or exc})")


MAX_INFLATION = 20
"""A zip member that inflates more than this many times its compressed size, plus 1 MB, is refused: QuickDraw files
and Keras weights compress 1-8x, a decompression bomb 1,000x. (zipfile never inflates past a member's declared size.)"""


def inflation_problem(info: zipfile.ZipInfo) -> str | None:
    """Why a zip member looks like a decompression bomb, or None."""
    if info.file_size > MAX_INFLATION * info.compress_size + (1 << 20):
        return f"would inflate from {info.compress_size:,} to {info.file_size:,} bytes; refusing a likely decompression bomb"
    return None


def archive_problem(path: str | os.PathLike) -> str | None:
    """Why a zip archive (.npz, .keras) looks like a decompression bomb, naming the member; None if none does.
    Raises zipfile.BadZipFile / OSError for what is not a readable archive: the caller names its own file kind."""
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            problem = inflation_problem(info)
            if problem is not None:
                return f"its member {info.filename!r} {problem}"
    return None


def sha256_file(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
