"""Keep freed memory in the training process, so each step's buffers are not page-faulted anew.

glibc hands every allocation above its mmap threshold (128 KB at first, rising to 32 MB) back
to the kernel when it is freed, and trims the heap top above its trim threshold. A training step
allocates and frees buffers of tens of MB (a batch's spectra and FFTs), so every step the kernel
maps and zeroes them again: a quarter of the step's time on 2 cores. Serving every allocation
from the heap and never trimming it reuses them; the process keeps its peak memory until it ends.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

# mallopt(3) parameters, from glibc's malloc.h
_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_NEVER_TRIM = 2**31 - 1


def keep_freed_memory() -> bool:
    """Tell glibc's malloc to reuse freed memory rather than return it; False where the C
    library is not glibc (macOS, musl), which is left as it is."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, _NEVER_TRIM))
