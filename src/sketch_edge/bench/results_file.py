"""results.json as read back (`compare`, `bench --baseline`): its schema version and every field those readers use.

A results.json is a user's file by the time it is read again: hand-edited,
truncated, or from another version. Each field read is checked here, once, so a
bad one is a one-line `BenchError` naming the file and the field, never a
traceback in the middle of a table.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sketch_edge import numbers
from sketch_edge.errors import BenchError

SCHEMA = 2
"""Version 2: cells carry `other_cpu` and `noisy`, peaks their rounds (version 1 files had no `schema`)."""
MAX_BYTES = 64 << 20
_TEXT = ("recipe", "runtime", "status", "compute")
_COUNTS = ("threads", "batch", "bytes", "macs")
_FRACTIONS = ("top1", "top3", "map3", "agreement")
_FIGURES = ("throughput_per_s", "load_ms", "first_call_ms", "peak_rss_mb", "rss_growth_mb", "gmacs_per_s", "peak_fraction")


def read(path: Path) -> dict[str, Any]:
    """The results at `path`, every field `compare` and `--baseline` read checked; a one-line BenchError otherwise."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise BenchError(f"{path}: over {MAX_BYTES >> 20} MB, not a results.json of the bench")
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BenchError(f"{path}: no bench results here (run `sketch-edge bench`)") from None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BenchError(f"{path}: not a readable results.json ({type(exc).__name__})") from None
    try:
        return _checked(data)
    except KeyError as exc:
        raise BenchError(f"{path}: not a results.json of this version (no field {exc})") from None
    except (TypeError, ValueError) as exc:
        raise BenchError(f"{path}: not a results.json of this version ({exc})") from None


def _checked(data: Any) -> dict[str, Any]:
    _expect(isinstance(data, dict), "the file is not a JSON object")
    _expect(data.get("schema") == SCHEMA, f"schema {data.get('schema')!r}, expected {SCHEMA}; bench again")
    source = data["source"]
    _expect(isinstance(source, dict) and isinstance(source.get("model"), str), "source.model is not a name")
    _expect(isinstance(source.get("test_drawings"), str), "source.test_drawings is not a digest")
    env = data["environment"]
    _expect(isinstance(env, dict) and isinstance(env.get("cpu"), str) and isinstance(env.get("cpu_flags"), list), "environment is not one")
    numbers.check(env.get("cores"), lo=1, hi=1e6, integer=True)
    numbers.check(data["test_samples"], lo=0, hi=numbers.MAX_COUNT, integer=True)
    rows = data["results"]
    _expect(isinstance(rows, list) and all(isinstance(r, dict) for r in rows), "results is not a list of rows")
    for i, row in enumerate(rows):
        _row(row, f"results[{i}]")
    return data


def _row(row: dict[str, Any], where: str) -> None:
    for name in _TEXT:
        _expect(isinstance(row.get(name), str), f"{where}.{name} is not text")
    for names, lo, hi, integer in ((_COUNTS, 0, 1e15, True), (_FRACTIONS, 0, 1, False), (_FIGURES, 0, 1e15, False)):
        for name in names:
            if row.get(name) is not None:
                _number(row[name], f"{where}.{name}", lo, hi, integer)
    for field in ("latency_us", "e2e_latency_us"):
        latency = row.get(field)
        _expect(latency is None or isinstance(latency, dict), f"{where}.{field} is not an object")
        for name, value in (latency or {}).items():
            if value is not None:  # a figure not measured
                _number(value, f"{where}.{field}.{name}", 0, 1e15, name == "calls")
    if row["status"] in ("ok", "low-accuracy"):
        measured = row.get("top1") is not None and (row.get("latency_us") or {}).get("p50") is not None
        _expect(measured, f"{where}: a measured cell without its top-1 and p50")


def _number(value: Any, where: str, lo: float, hi: float, integer: bool) -> None:
    try:
        numbers.check(value, lo=lo, hi=hi, integer=integer)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def _expect(condition: bool, problem: str) -> None:
    if not condition:
        raise ValueError(problem)
