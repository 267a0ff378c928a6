"""Deny a process Intel's AMX tiles, before a runtime loads: a seccomp filter, written from the kernel's interface.

Linux gives a process AMX only when it asks (`arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)`), and XNNPACK and
oneDNN ask when they start. XNNPACK then takes AMX for layers too small to gain from it: on a 2-core Sapphire Rapids
Xeon, LiteRT ran this project's int8 model in 102.8 us with AMX and in 58.8 us with the request refused (batch 1, one
pinned thread, the same files in one run). Refused, the libraries fall back to their AVX-512 kernels.

`deny()` installs, in this process and every process it starts, a filter that fails that one request with EPERM and
lets every other system call through (`no_new_privs` first, as the kernel requires of an unprivileged filter). It
cannot be undone, and it changes nothing for a runtime already loaded: call it before the first model is opened.
On a CPU without AMX the request fails anyway; the filter then changes nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import platform
import struct
from pathlib import Path

ARCH_REQ_XCOMP_PERM = 0x1023  # arch/x86/include/uapi/asm/prctl.h
ARCH_REQ_XCOMP_GUEST_PERM = 0x1025
SYS_ARCH_PRCTL = 158  # x86_64
AUDIT_ARCH_X86_64 = 0xC000003E
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO = 0x7FFF0000, 0x00050000
BPF_LD_W_ABS, BPF_JEQ_K, BPF_RET_K = 0x20, 0x15, 0x06
NR, ARCH, ARG0 = 0, 4, 16  # offsets in struct seccomp_data: nr, arch, args[0] (its low 32 bits, little-endian)


def has_amx(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether this CPU has AMX tiles (the kernel's `amx_tile` flag)."""
    try:
        return any(line.startswith("flags") and "amx_tile" in line.split() for line in cpuinfo.read_text().splitlines())
    except OSError:
        return False


def _program() -> bytes:
    """The filter: x86-64's arch_prctl asking for AMX (for itself or a guest) fails with EPERM; all else passes."""
    deny, allow = SECCOMP_RET_ERRNO | errno.EPERM, SECCOMP_RET_ALLOW
    steps = [
        (BPF_LD_W_ABS, 0, 0, ARCH),
        (BPF_JEQ_K, 0, 5, AUDIT_ARCH_X86_64),  # another ABI: allow
        (BPF_LD_W_ABS, 0, 0, NR),
        (BPF_JEQ_K, 0, 3, SYS_ARCH_PRCTL),  # another call: allow
        (BPF_LD_W_ABS, 0, 0, ARG0),
        (BPF_JEQ_K, 2, 0, ARCH_REQ_XCOMP_PERM),  # asking for AMX: deny
        (BPF_JEQ_K, 1, 0, ARCH_REQ_XCOMP_GUEST_PERM),
        (BPF_RET_K, 0, 0, allow),
        (BPF_RET_K, 0, 0, deny),
    ]
    return b"".join(struct.pack("HBBI", *step) for step in steps)


def deny() -> None:
    """Install the filter in this process (and its future children); OSError where the kernel refuses it."""
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        return  # no AMX to deny
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    code = _program()
    filters = ctypes.create_string_buffer(code, len(code))

    class _Program(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    program = _Program(len(code) // 8, ctypes.addressof(filters))
    for call in ((PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(program), 0, 0)):
        if libc.prctl(*(ctypes.c_ulong(v) for v in call)) != 0:
            raise OSError(ctypes.get_errno(), f"prctl: {os.strerror(ctypes.get_errno())}")


def request_answer() -> int:
    """What the kernel now says to a request for AMX from this process: 0 granted, else the errno (EPERM: denied
    by the filter; EINVAL or EOPNOTSUPP: no AMX here). Asking grants it where it is not denied: for tests."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    xtiledata = 18
    if libc.syscall(ctypes.c_long(SYS_ARCH_PRCTL), ctypes.c_ulong(ARCH_REQ_XCOMP_PERM), ctypes.c_ulong(xtiledata)) == 0:
        return 0
    return ctypes.get_errno()
