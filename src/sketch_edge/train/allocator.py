"""Undo TensorFlow's malloc setting for `from_generator`, which halves training speed on glibc.

On Python 3.11, the first `tf.data.Dataset.from_generator` a process runs calls
`mallopt(M_TRIM_THRESHOLD, 128 KiB)` (it logs "Memory patch applied"), against a
leak of Python 3.11's. Setting any threshold turns off glibc's dynamic mmap
threshold, so from then on every buffer over 128 KiB (a batch's activations and
gradients are megabytes) is a fresh `mmap` whose pages fault in zeroed, and the
heap is trimmed at every free: measured on edge-cnn (batch 128, 2 AVX2 cores),
a training step went from 158 ms to 351 ms, with as much kernel time as user
time and 80,000 page faults a step. TensorFlow applies it once a process, so the
loop calls `restore` after its first step (the generators have run by then) and
the thresholds go back to the largest ones glibc's own dynamic rule would reach
(mmap 32 MiB on 64-bit, trim twice that). The price is memory the heap keeps
instead of returning: the peak resident size of 240 steps of edge-cnn on the real
subset went from 1.03 to 1.27 GB (benchmarks/training_step.py times both settings).
"""

from __future__ import annotations

import ctypes
import platform
import sys

M_TRIM_THRESHOLD = -1  # glibc's malloc.h
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20  # DEFAULT_MMAP_THRESHOLD_MAX on 64-bit: where the dynamic threshold stops growing
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD  # the dynamic rule keeps trim at twice the mmap threshold


def restore() -> bool:
    """Set glibc's thresholds back to large ones; False (nothing done) where libc is not glibc."""
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(None)
    # mallopt returns 1 on success: both calls are made, then both answers checked.
    answers = [libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD), libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)]
    return all(answer == 1 for answer in answers)
