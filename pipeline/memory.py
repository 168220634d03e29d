"""How the pipeline's processes give freed memory back to the system.

glibc's malloc adjusts two thresholds as a program runs: each large block freed raises the
size from which blocks get a mapping of their own to that block's size (up to 32 MB), and
the free memory it keeps at the top of the heap before giving any back to twice that (up to
64 MB), in every arena. A build frees many large arrays, so its processes came to keep what
they had freed: the run's process kept about 250 MB while the publication's process ran
beside it (demo build: 610 → 365 MB of anonymous memory at that moment; `malloc_trim`
afterwards did not give it back). Setting the thresholds stops the adjustment. Blocks from
32 MB get their own mapping (the most glibc would raise it to, so large arrays reuse the
heap as before: at 4 MB, every array mapped and zeroed anew cost about a second), and the
heap's top is given back once 16 MB of it is free (at glibc's first 128 kB, growing the heap
again and again cost the fact table 0.8 s; 16 MB keeps the same memory). Polars and DuckDB
bring allocators of their own (jemalloc); this governs what goes through malloc: numpy's
arrays and Python's larger objects.
"""

from __future__ import annotations

import ctypes
import platform

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3   # mallopt's parameter numbers (glibc's malloc.h)
TRIM_THRESHOLD = 16 * 1024 * 1024
MMAP_THRESHOLD = 32 * 1024 * 1024


def fixed_malloc_thresholds() -> bool:
    """Set glibc's trim and mmap thresholds for this process (thresholds set are never
    adjusted); False where the C library is not glibc or refuses."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(None)
        return bool(libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
                    and libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    except (OSError, AttributeError):
        return False
