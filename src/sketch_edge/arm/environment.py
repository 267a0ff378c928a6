"""The emulated Arm machine: qemu user mode, an arm64 Python, and the aarch64 builds of the runtimes this host runs.

Built once by the project's own steps and cached outside the repository
(`~/.cache/sketch-edge/arm`, or `$SKETCH_EDGE_ARM_CACHE`), so a fresh machine
repeats it and a later run only checks it:

- **qemu**: `qemu-aarch64` from Debian trixie's `qemu-user` (10.x, a static
  binary). Bookworm's 7.2 gives wrong int8 answers with its default `-cpu max`
  (SME) and no `/proc/cpuinfo` of the emulated CPU; 10.x emulates both right.
- **sysroot**: Debian bookworm's arm64 `python3.11` and the libraries it and
  the wheels load, resolved by apt itself and unpacked with `dpkg-deb`: no
  chroot, no binfmt, no root. `qemu-aarch64 -L SYSROOT` finds the loader and
  libraries there, and answers `/proc/cpuinfo` for the emulated CPU, which is
  what XNNPACK's and MLAS's CPU detection read (an x86 one makes LiteRT crash).
- **site**: `pip install --platform manylinux_*_aarch64 --target`, the
  exact versions installed on this host (numpy, ai-edge-litert, onnxruntime
  and everything they need), so both sides run the same releases.

apt and pip run with private state folders; nothing on the host is changed.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from sketch_edge.errors import EmulationError, RecordError
from sketch_edge.fileio import scratch_dir
from sketch_edge.formats import FORMATS
from sketch_edge.records import Figure, Record
from sketch_edge.runtime import runtime_for

QEMU_SUITE = "trixie"
QEMU_PACKAGE = "qemu-user"
SYSROOT_SUITE = "bookworm"  # its python3.11 takes the cp311 wheels this project pins
SYSROOT_PACKAGES = ("python3.11", "libstdc++6")  # numpy's and the runtimes' C++ need libstdc++, nothing else
EMULATED = tuple(name for name, spec in FORMATS.items() if spec.emulated)  # run under emulation (export/arm.py picks by these)
DISTRIBUTIONS = ("numpy", *dict.fromkeys(runtime_for(f"model{FORMATS[f].suffixes[0]}").libraries[0] for f in EMULATED))
"""The distributions that run them (numpy and each format's default runtime): the same versions as this host's."""
WHEEL_PLATFORMS = ("manylinux_2_28_aarch64", "manylinux_2_27_aarch64", "manylinux_2_17_aarch64", "manylinux2014_aarch64")
MIRROR = os.environ.get("SKETCH_EDGE_DEBIAN_MIRROR", "http://deb.debian.org/debian")
TOOLS = ("apt-get", "dpkg-deb")
STEP_TIMEOUT_S = 900.0


def default_cache() -> Path:
    override = os.environ.get("SKETCH_EDGE_ARM_CACHE")
    return Path(override) if override else Path.home() / ".cache" / "sketch-edge" / "arm"


@dataclass(frozen=True)
class Environment(Record):
    """A ready emulated machine, as `environment.json` in its folder says (written last: present means complete)."""

    FILE = "environment.json"
    SCHEMA_VERSION = 1

    qemu: str  # the qemu-aarch64 binary
    qemu_version: str  # as it prints it: "10.0.13 (Debian 1:10.0.13+ds-0+deb13u1)"
    sysroot: str  # the arm64 root qemu's -L points at
    python: str  # the arm64 python3.11 in it
    site: str  # the aarch64 wheels, for PYTHONPATH
    libraries: dict[str, str]  # distribution -> version, in `site`
    seconds: Figure  # what building it took


def missing() -> str | None:
    """What this host lacks to build or run the emulated machine, in one line; None when nothing."""
    if sys.platform != "linux" or os.uname().machine != "x86_64":
        return f"emulating Arm needs an x86_64 Linux host (this is {sys.platform} {os.uname().machine})"
    absent = [tool for tool in TOOLS if shutil.which(tool) is None]
    if absent:
        return f"building the Arm sysroot needs Debian's {' and '.join(absent)} (apt and dpkg), not found on PATH"
    return None


def prepare(cache: Path | None = None, log: Callable[[str], None] = print) -> Environment:
    """The emulated machine for this host's runtime versions, built into `cache` unless it is there already."""
    cache = cache or default_cache()
    versions = _host_versions()
    folder = cache / f"{SYSROOT_SUITE}-arm64-{_key(versions)}"
    record = folder / Environment.FILE
    if record.is_file():
        try:
            env = Environment.load(record)
        except RecordError as exc:  # a damaged cache is built again, never trusted
            log(f"{exc}; building the emulated machine again")
        else:
            if all(Path(p).exists() for p in (env.qemu, env.python, env.site)):
                return env
            log(f"{record}: its files are gone; building the emulated machine again")
    problem = missing()
    if problem is not None:
        raise EmulationError(problem)
    work = scratch_dir(cache, f".{folder.name}.", EmulationError)
    try:
        env = _build(work, folder, versions, log)
        shutil.rmtree(folder, ignore_errors=True)  # an incomplete one, without its record
        os.replace(work, folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    env.save(record)
    return env


def _host_versions() -> dict[str, str]:
    """Every distribution installed here, by version: the aarch64 side is resolved against exactly these."""
    found = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            found[re.sub(r"[-_.]+", "-", name).lower()] = dist.version
    for name in DISTRIBUTIONS:
        if name not in found:
            raise EmulationError(f"{name} is not installed on this host, so there is no version to emulate (make setup)")
    return dict(sorted(found.items()))


def _key(versions: dict[str, str]) -> str:
    wanted = [f"{n}=={versions[n]}" for n in DISTRIBUTIONS] + [QEMU_SUITE, SYSROOT_SUITE, *SYSROOT_PACKAGES, *WHEEL_PLATFORMS]
    return hashlib.sha256("\n".join(wanted).encode()).hexdigest()[:12]


def _build(work: Path, final: Path, versions: dict[str, str], log: Callable[[str], None]) -> Environment:
    started = time.perf_counter()
    log(f"emulated Arm machine: qemu-user from Debian {QEMU_SUITE} ...")
    qemu_deb = _apt(work / "apt-qemu", QEMU_SUITE, "amd64", ["download", QEMU_PACKAGE])[0]
    _extract(qemu_deb, work / "qemu", member="./usr/bin/qemu-aarch64")
    qemu = work / "qemu" / "usr" / "bin" / "qemu-aarch64"
    log(f"emulated Arm machine: arm64 python3.11 and its libraries from Debian {SYSROOT_SUITE} ...")
    fetch = ["install", "--download-only", "-y", "--no-install-recommends", *SYSROOT_PACKAGES]
    debs = _apt(work / "apt-arm64", SYSROOT_SUITE, "arm64", fetch)
    for deb in debs:
        _extract(deb, work / "sysroot")
    shutil.rmtree(work / "apt-qemu")
    shutil.rmtree(work / "apt-arm64")
    log(f"emulated Arm machine: aarch64 wheels of {', '.join(f'{n} {versions[n]}' for n in DISTRIBUTIONS)} ...")
    site = work / "site"
    pins = work / "constraints.txt"
    pins.write_text("".join(f"{name}=={version}\n" for name, version in versions.items()), encoding="utf-8")
    platforms = [arg for p in WHEEL_PLATFORMS for arg in ("--platform", p)]
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-warn-conflicts", "--target", str(site)]
    _run([*pip, *platforms, "--only-binary=:all:", "--python-version", "3.11", "--implementation", "cp", "-c", str(pins), *DISTRIBUTIONS])
    pins.unlink()
    qemu_version = _run([str(qemu), "--version"]).splitlines()[0].removeprefix("qemu-aarch64 version ").strip()
    installed = {n: versions[n] for n in DISTRIBUTIONS}
    # The record names the final folder, where the work folder is renamed to.
    return Environment(
        qemu=str(final / "qemu" / "usr" / "bin" / "qemu-aarch64"),
        qemu_version=qemu_version,
        sysroot=str(final / "sysroot"),
        python=str(final / "sysroot" / "usr" / "bin" / "python3.11"),
        site=str(final / "site"),
        libraries=installed,
        seconds=round(time.perf_counter() - started, 1),
    )


def _apt(state: Path, suite: str, arch: str, command: list[str]) -> list[Path]:
    """Run apt-get with its own sources, lists and (empty) dpkg status in `state`; the .deb files it fetched."""
    for sub in ("lists/partial", "archives/partial", "parts"):
        (state / sub).mkdir(parents=True, exist_ok=True)
    (state / "status").touch()
    (state / "sources.list").write_text(f"deb {MIRROR} {suite} main\n", encoding="utf-8")
    settings = {
        "APT::Architecture": arch,
        "APT::Architectures": arch,
        "APT::Sandbox::User": getpass.getuser(),
        "Dir::State": str(state),
        "Dir::State::status": str(state / "status"),
        "Dir::Cache": str(state),
        "Dir::Cache::archives": str(state / "archives"),
        "Dir::Etc::SourceList": str(state / "sources.list"),
        "Dir::Etc::SourceParts": str(state / "parts"),
        "Dir::Etc::Preferences": str(state / "parts" / "none"),
        "Dir::Etc::PreferencesParts": str(state / "parts"),
        "Debug::NoLocking": "true",
    }
    options = [arg for key, value in settings.items() for arg in ("-o", f"{key}={value}")]
    _run(["apt-get", "-qq", *options, "update"])
    _run(["apt-get", "-qq", *options, *command], cwd=state / "archives")
    return sorted((state / "archives").glob("*.deb"))


def _extract(deb: Path, into: Path, member: str | None = None) -> None:
    into.mkdir(parents=True, exist_ok=True)
    tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
    try:
        _run(["tar", "-x", "-C", str(into), *([member] if member else [])], stdin=tar.stdout)
    finally:
        assert tar.stdout is not None
        tar.stdout.close()
        tar.wait()
    if tar.returncode != 0:
        raise EmulationError(f"{deb}: dpkg-deb could not read it (exit status {tar.returncode})")


def _run(command: list[str], cwd: Path | None = None, stdin: object = None) -> str:
    """Run one set-up step; EmulationError with its last line of output when it fails."""
    try:
        proc = subprocess.run(command, cwd=cwd, stdin=stdin, capture_output=True, text=True, timeout=STEP_TIMEOUT_S)  # type: ignore[call-overload]
    except subprocess.TimeoutExpired:
        raise EmulationError(f"{command[0]} {command[1]} took over {STEP_TIMEOUT_S:.0f} s (is {MIRROR} reachable?)") from None
    if proc.returncode != 0:
        lines = [line for line in (proc.stderr or proc.stdout).splitlines() if line.strip() and not line.startswith("W:")]
        why = lines[-1].strip() if lines else f"exit status {proc.returncode}"
        raise EmulationError(f"building the emulated Arm machine: `{' '.join(command[:3])} ...` failed: {why[:300]}")
    return str(proc.stdout)
