"""A local folder of QuickDraw files in the official formats, one file per class.

numpy_bitmap `<class>.npy`, simplified or raw `<class>.ndjson` (optionally `.gz`),
sketch-rnn `<class>.npz`. Files are untrusted: nothing is unpickled except numpy
arrays through a whitelisting unpickler (sketch-rnn stores ragged arrays as pickles).
"""

from __future__ import annotations

import gzip
import io
import itertools
import json
import os
import pickle
import tokenize
import unicodedata
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from sketch_edge.data.drawing import Drawing, from_stroke3, parse_drawing
from sketch_edge.data.source import CHUNK, Chunk, Shard, Source, Want, file_shard
from sketch_edge.display import printable
from sketch_edge.errors import DataError, first_line, unknown_name
from sketch_edge.fileio import MAX_INFLATION, inflation_problem, sha256_file

SUFFIXES = {".ndjson.gz": "ndjson", ".ndjson": "ndjson", ".npy": "numpy_bitmap", ".npz": "sketch-rnn npz"}
BLOCK_BYTES = 256 << 10
"""ndjson is read in blocks of this size: training keeps one file open per class, so this times the classes is held."""
MAX_LINE_BYTES = 8 << 20
"""An ndjson line longer than this is refused unread: a real drawing, even raw, is a few hundred kB at most."""


def class_files(folder: Path) -> tuple[str, dict[str, Path]]:
    """The folder's format and its files by class name (the file name without its suffix)."""
    if not folder.exists():
        raise DataError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder (give the folder that holds one file per class)")
    found: dict[str, dict[str, Path]] = {}
    for path in sorted(folder.iterdir()):
        for suffix, data_format in SUFFIXES.items():
            if path.is_file() and path.name.endswith(suffix) and len(path.name) > len(suffix):
                name = path.name[: -len(suffix)]
                if any(unicodedata.category(c) == "Cc" for c in name):
                    raise DataError(f"{printable(path)}: its class name holds a control character; rename the file")
                if name in found.get(data_format, {}):
                    raise DataError(
                        f"{folder}: two files for the class {printable(name)} ({found[data_format][name].name}, {path.name}); keep one"
                    )
                found.setdefault(data_format, {})[name] = path
                break
    if not found:
        raise DataError(f"{folder}: no QuickDraw files here (expected <class>.npy, <class>.ndjson[.gz] or <class>.npz)")
    if len(found) > 1:
        raise DataError(f"{folder}: mixes formats ({', '.join(sorted(found))}); keep one format per folder")
    data_format, files = next(iter(found.items()))
    return data_format, files


def open_folder(
    folder: Path,
    *,
    classes: list[str] | None = None,
    per_class: int | None = None,
    recognized_only: bool = False,
    skip_bad_lines: bool = False,
) -> Source:
    """The folder as a stream of its class files; opening reads only headers (and counts ndjson lines)."""
    data_format, files = class_files(folder)
    if classes:
        for name in classes:
            if name not in files:
                raise DataError(f"{folder}: {unknown_name('class', name, files)}")
        files = {name: files[name] for name in classes}
    cap = per_class if per_class is not None else np.iinfo(np.int64).max
    if data_format == "numpy_bitmap":
        shards = tuple(file_shard(path, label, min(cap, len(_npy_rows(path)))) for label, path in enumerate(files.values()))
    elif data_format == "ndjson":
        shards = tuple(file_shard(path, label, _count_lines(path, cap)) for label, path in enumerate(files.values()))
    else:
        shards = tuple(file_shard(path, label, cap) for label, path in enumerate(files.values()))  # known once read
    skipped: Counter[str] = Counter()
    formats_seen: set[str] = set()
    description = {
        "source": str(folder),
        "format": data_format,
        "files": {path.name: {"bytes": path.stat().st_size} for path in files.values()},
    }

    def read(shard: Shard, want: Want) -> Iterator[Chunk]:
        assert shard.path is not None and shard.label is not None
        if data_format == "numpy_bitmap":
            yield from _npy_chunks(shard.path, shard.label, shard.size, want)
        elif data_format == "ndjson":
            drawings = ndjson_drawings(shard.path, recognized_only, skip_bad_lines, skipped, formats_seen)
            for chunk in _drawing_chunks(drawings, shard.label, per_class, want):
                description["format"] = " + ".join(sorted(formats_seen)) or data_format  # raw or simplified: known once read
                yield chunk
        else:
            yield from _drawing_chunks(_sketchrnn_drawings(shard.path), shard.label, per_class, want)

    return Source(
        labels=tuple(files),
        kinds=("bitmap",) if data_format == "numpy_bitmap" else ("bitmap", "strokes"),
        shards=shards,
        read=read,
        description=description,
        skipped=skipped,
    )


def fingerprint(source: Source) -> dict[str, dict[str, Any]]:
    """Each file's size and sha256, recorded with a trained model: a full read, so done once, by the chief."""
    return {Path(s.path).name: {"bytes": s.path.stat().st_size, "sha256": sha256_file(s.path)} for s in source.shards if s.path}


def _npy_rows(path: Path, single: bool = False) -> np.memmap:
    """The file's bitmaps, memory-mapped and checked: (N, 784), (N, 1, 784) or (N, 28, 28) uint8; with `single`, also
    one bitmap saved as (784,) or (28, 28) (what a user saves of one drawing; never a class file's shape)."""
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError, SyntaxError, TypeError, KeyError, tokenize.TokenError) as exc:  # numpy parses the header
        raise DataError(f"{path}: not a readable .npy file ({first_line(exc)})") from None
    if arr.dtype != np.uint8:
        raise DataError(f"{path}: bitmaps must be uint8 (0-255), got {arr.dtype}")
    if arr.ndim == 2 and arr.shape[1] == 784 or arr.ndim == 3 and arr.shape[1:] in ((1, 784), (28, 28)):
        return arr
    if single and arr.shape in ((784,), (28, 28)):
        return arr.reshape(1, 784)
    one = ", or one bitmap of (784,) or (28, 28)" if single else ""
    raise DataError(f"{path}: bitmaps must have shape (N, 784), (N, 1, 784) or (N, 28, 28){one}, got {arr.shape}")


def read_npy_bitmaps(path: Path, limit: int | None, single: bool = False) -> np.ndarray:
    """(N, 28, 28) uint8 from a numpy_bitmap file (`single`: or a file of one bitmap)."""
    return np.array(_npy_rows(path, single)[:limit]).reshape(-1, 28, 28)


def _npy_chunks(path: Path, label: int, size: int, want: Want) -> Iterator[Chunk]:
    """Chunks read with positioned reads, not through the memory map: pages of a mapped file count in the
    process's resident memory until unmapped, so reading a 1 GB file through it would look like 1 GB held."""
    rows = _npy_rows(path)
    if not rows.flags.c_contiguous:
        raise DataError(f"{path}: bitmaps stored in Fortran order; save them in C order (numpy's default)")
    with open(path, "rb") as handle:
        for start in range(0, size, CHUNK):
            positions = np.arange(start, min(size, start + CHUNK))
            mask = want(label, positions)
            if not mask.any():
                continue
            data = os.pread(handle.fileno(), len(positions) * 784, rows.offset + start * 784)
            if len(data) != len(positions) * 784:
                raise DataError(f"{path}: shorter than its header says (truncated while reading?)")
            block = np.frombuffer(data, dtype=np.uint8).reshape(-1, 28, 28)[mask]
            yield Chunk(labels=np.full(len(block), label, np.int32), positions=positions[mask], bitmaps=block)


def _drawing_chunks(drawings: Iterator[Drawing], label: int, limit: int | None, want: Want) -> Iterator[Chunk]:
    """Chunks of the wanted drawings among the first `limit`, numbered in the file's order."""
    pending: list[Drawing] = []
    start = 0
    for drawing in itertools.islice(drawings, limit):
        pending.append(drawing)
        if len(pending) == CHUNK:
            yield _select(pending, label, start, want)
            start += len(pending)
            pending = []
    if pending:
        yield _select(pending, label, start, want)


def _select(drawings: list[Drawing], label: int, start: int, want: Want) -> Chunk:
    positions = np.arange(start, start + len(drawings))
    mask = want(label, positions)
    return Chunk(
        labels=np.full(int(mask.sum()), label, np.int32),
        positions=positions[mask],
        drawings=[d for d, m in zip(drawings, mask, strict=True) if m],
    )


def _count_lines(path: Path, cap: int) -> int:
    """Non-empty lines (an upper bound of the drawings: bad or unrecognized ones may be skipped), at most `cap`."""
    count = 0
    for _ in _lines(path):
        count += 1
        if count >= cap:
            break
    return count


def read_ndjson(
    path: Path, limit: int | None, recognized_only: bool, skip_bad_lines: bool, skipped: Counter[str], formats_seen: set[str]
) -> list[Drawing]:
    return list(itertools.islice(ndjson_drawings(path, recognized_only, skip_bad_lines, skipped, formats_seen), limit))


def ndjson_drawings(
    path: Path, recognized_only: bool, skip_bad_lines: bool, skipped: Counter[str], formats_seen: set[str]
) -> Iterator[Drawing]:
    """Drawings of one simplified or raw ndjson file, parsed as read; raw ones are simplified the official way."""
    for lineno, line in _lines(path):
        where = f"{path}:{lineno}"
        try:
            record = json.loads(line)
            if not isinstance(record, dict) or "drawing" not in record:
                raise DataError(f"{where}: a line must be a JSON object with a 'drawing'")
            drawing, was_raw = parse_drawing(record["drawing"], where)
        except (DataError, ValueError, RecursionError) as exc:
            message = str(exc) if isinstance(exc, DataError) else f"{where}: malformed JSON ({first_line(exc)})"
            if not skip_bad_lines:
                raise DataError(message + " (pass --skip-bad-lines to skip such lines)") from None
            skipped["malformed line"] += 1
            continue
        if recognized_only and record.get("recognized") is False:
            skipped["not recognized"] += 1
            continue
        formats_seen.add("raw ndjson" if was_raw else "simplified ndjson")
        yield drawing


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """Numbered text lines, read in blocks with limits: no line over MAX_LINE_BYTES is held, and a `.gz` may
    inflate at most MAX_INFLATION times its size, so a bomb of one endless line or of empty lines costs little."""
    gz = path.name.endswith(".gz")
    lineno = 0
    try:
        budget = MAX_INFLATION * path.stat().st_size + (1 << 20) if gz else None
        with gzip.open(path, "rb") if gz else open(path, "rb") as handle:
            pending = b""
            while block := handle.read(BLOCK_BYTES):
                if budget is not None:
                    budget -= len(block)
                    if budget < 0:
                        raise DataError(f"{path}: inflates more than {MAX_INFLATION}x its size; refusing a likely decompression bomb")
                *complete, pending = (pending + block).split(b"\n")
                for line in complete:
                    lineno += 1
                    if line.strip():
                        yield lineno, line.decode("utf-8")
                if len(pending) > MAX_LINE_BYTES:
                    raise DataError(f"{path}:{lineno + 1}: the line is longer than {MAX_LINE_BYTES >> 20} MB; refusing to read it")
            if pending.strip():
                yield lineno + 1, pending.decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError, zlib.error) as exc:
        where = f"{path}:{lineno + 1}" if lineno else str(path)
        raise DataError(f"{where}: cannot read ({first_line(exc)})") from None


def _sketchrnn_drawings(path: Path) -> Iterator[Drawing]:
    """Drawings from a sketch-rnn `.npz` (stroke-3, keys train/valid/test), all splits in that order."""
    try:
        with zipfile.ZipFile(path) as archive:
            for key in ("train", "valid", "test"):
                if f"{key}.npy" not in archive.namelist():
                    continue
                problem = inflation_problem(archive.getinfo(f"{key}.npy"))
                if problem is not None:
                    raise DataError(f"{path}[{key}]: {problem}")
                with archive.open(f"{key}.npy") as member:
                    sketches = _read_npy_safely(io.BytesIO(member.read()), f"{path}[{key}]")
                for i, s3 in enumerate(sketches):
                    yield from_stroke3(s3, f"{path}[{key}][{i}]")
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise DataError(f"{path}: not a readable .npz archive ({first_line(exc)})") from None


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Rebuilds numpy arrays and nothing else: any other global in the stream is refused."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module.replace("numpy.core", "numpy._core"), name)


def _read_npy_safely(stream: BinaryIO, where: str) -> np.ndarray:
    try:
        version = np.lib.format.read_magic(stream)
        header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        _, _, dtype = header(stream)
        if not dtype.hasobject:
            stream.seek(0)
            return np.lib.format.read_array(stream, allow_pickle=False)
        arr = _NumpyOnlyUnpickler(stream).load()
    except (ValueError, pickle.UnpicklingError, EOFError, AttributeError, TypeError, KeyError, SyntaxError, tokenize.TokenError) as exc:
        raise DataError(f"{where}: not a sketch-rnn array ({first_line(exc)})") from None
    if not isinstance(arr, np.ndarray):
        raise DataError(f"{where}: not a sketch-rnn array (got {type(arr).__name__})")
    return arr
