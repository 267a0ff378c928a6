"""The emulated machine's set-up: what a host needs, the cache it reuses, and a damaged cache never trusted."""

import shutil

import pytest

from sketch_edge.arm import environment
from sketch_edge.arm.environment import Environment
from sketch_edge.errors import EmulationError


def fake_environment(folder, qemu_version="10.0.13 (Debian 1:10.0.13+ds-0+deb13u1)") -> Environment:
    return Environment(
        qemu=str(folder / "qemu-aarch64"),
        qemu_version=qemu_version,
        sysroot=str(folder / "sysroot"),
        python=str(folder / "sysroot/usr/bin/python3.11"),
        site=str(folder / "site"),
        libraries={"numpy": "2.4.6"},
        seconds=1.0,
    )


def cached_folder(cache):
    return cache / f"{environment.SYSROOT_SUITE}-arm64-{environment._key(environment._host_versions())}"


def cached(cache, qemu_version="10.0.13 (Debian 1:10.0.13+ds-0+deb13u1)"):
    """A cache holding a complete-looking machine (its record and files, none of which runs)."""
    folder = cached_folder(cache)
    fake_environment(folder, qemu_version).save(folder / Environment.FILE)
    for made in ("qemu-aarch64", "sysroot/usr/bin/python3.11", "site"):
        (folder / made).parent.mkdir(parents=True, exist_ok=True)
        (folder / made).touch()
    return folder


def test_a_complete_cache_is_reused_without_building(tmp_path, monkeypatch):
    folder = cached(tmp_path)
    monkeypatch.setattr(environment, "_build", lambda *a: pytest.fail("built again"))
    assert environment.prepare(tmp_path, log=lambda line: None) == fake_environment(folder)


def test_a_record_whose_files_are_gone_is_built_again(tmp_path, monkeypatch):
    folder = cached_folder(tmp_path)
    fake_environment(folder).save(folder / Environment.FILE)
    monkeypatch.setattr(environment, "missing", lambda: "stop here")
    said = []
    with pytest.raises(EmulationError, match="stop here"):
        environment.prepare(tmp_path, log=said.append)
    assert said == [f"{folder / Environment.FILE}: its files are gone; building the emulated machine again"]


def test_a_damaged_cache_is_built_again_and_a_host_without_apt_says_so_in_one_line(tmp_path, monkeypatch):
    folder = cached_folder(tmp_path)
    folder.mkdir(parents=True)
    (folder / Environment.FILE).write_text("{not json")
    said = []
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda tool: None if tool == "dpkg-deb" else real_which(tool))
    with pytest.raises(EmulationError) as caught:
        environment.prepare(tmp_path, log=said.append)
    assert "building the emulated machine again" in said[0]
    assert str(caught.value) == "building the Arm sysroot needs Debian's dpkg-deb (apt and dpkg), not found on PATH"


def test_the_cache_key_follows_the_runtime_versions():
    versions = environment._host_versions()
    assert environment._key(versions) != environment._key(versions | {"onnxruntime": "0.0.1"})
    assert environment._key(versions) == environment._key(versions | {"some-other-package": "9"})


def test_an_unwritable_cache_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(EmulationError, match=r"cache: cannot write here \("):
        environment.prepare(blocker / "cache", log=lambda line: None)
