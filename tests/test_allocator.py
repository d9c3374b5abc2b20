"""The training process keeps freed memory: a freed 64 MB buffer is reused, not unmapped."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

PROBE = textwrap.dedent(
    """
    import ctypes
    import numpy as np
    from miserymeter.train.allocator import keep_freed_memory

    class MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd",
            "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallInfo2
    MB = 1 << 20

    def mapped_and_free_mb_after_a_64_mb_buffer():
        buffer = np.ones(64 * MB, dtype=np.uint8)
        mapped = libc.mallinfo2().hblkhd // MB
        del buffer
        return mapped, libc.mallinfo2().fordblks // MB

    print(*mapped_and_free_mb_after_a_64_mb_buffer())
    print(keep_freed_memory())
    print(*mapped_and_free_mb_after_a_64_mb_buffer())
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc only")
def test_training_keeps_freed_buffers_on_the_heap() -> None:
    lines = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    mapped_before, free_before = map(int, lines[0].split())
    mapped_after, free_after = map(int, lines[2].split())
    assert mapped_before >= 64 and free_before < 64  # by default: mapped, then unmapped
    assert lines[1] == "True"
    assert mapped_after < 64 and free_after >= 64  # then: from the heap, and kept for reuse
