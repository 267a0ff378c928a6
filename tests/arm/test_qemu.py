"""The emulator set-ups known to answer wrongly are refused before any number is taken."""

from pathlib import Path

import pytest

from sketch_edge.arm import qemu
from tests.arm.test_environment import fake_environment


@pytest.mark.parametrize(
    ("version", "cpu", "refused"),
    [
        ("7.2.0 (Debian 1:7.2+dfsg-7+deb12u18)", "cortex-a55", "does not emulate /proc/cpuinfo"),
        ("8.1.0", "max", "does not emulate /proc/cpuinfo"),
        ("9.2.0", "max", "emulates SME wrongly"),
        ("9.2.0", "max,sme=off", "not a CPU model this check knows"),
        ("10.0.13 (Debian 1:10.0.13+ds-0+deb13u1)", "max", "not a CPU model this check knows"),
        ("10.0.13 (Debian 1:10.0.13+ds-0+deb13u1)", "cortex-a53", "not a CPU model this check knows"),
        ("10.0.13 (Debian 1:10.0.13+ds-0+deb13u1)", "cortex-a55", None),
        ("10.0.13 (Debian 1:10.0.13+ds-0+deb13u1)", "cortex-a710", None),
        ("8.2.0", "cortex-a76", None),
    ],
)
def test_refusals(tmp_path, version, cpu, refused):
    why = qemu.refusal(fake_environment(tmp_path, version), cpu)
    assert (why is None) if refused is None else (refused in why)


def test_the_default_cpus_are_a_little_and_a_big_core_both_known():
    assert set(qemu.DEFAULT_CPUS) <= set(qemu.CPUS)
    assert "little" in qemu.CPUS[qemu.DEFAULT_CPUS[0]] and "big" in qemu.CPUS[qemu.DEFAULT_CPUS[1]]


def test_the_emulated_process_gets_its_own_wheels_and_this_source_only(tmp_path):
    env = qemu.environment(fake_environment(tmp_path))
    site, source = env["PYTHONPATH"].split(":")
    assert site == str(tmp_path / "site") and (Path(source) / "sketch_edge" / "arm" / "worker.py").is_file()
    assert "LD_LIBRARY_PATH" not in env and "VIRTUAL_ENV" not in env
