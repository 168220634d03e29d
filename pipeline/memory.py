"""How the pipeline's processes give freed memory back to the system.

glibc's malloc adjusts two thresholds as a program runs: each large block freed raises the
size from which blocks get a mapping of their own to that block's size (up to 32 MB), and
the free memory it leaves at the top of the heap before giving any back to twice that (up to
64 MB), in every arena. A build frees many large arrays, so its processes came to keep what
they had freed: the run's process kept about 250 MB while the publication's process ran
beside it (demo build: 610 → 365 MB of anonymous memory at that moment; `malloc_trim`
afterwards did not give it back). Setting the threshold stops the adjustment, and the heap's
top is given back from 128 kB free, glibc's default. It is set at 32 MB, the most glibc
would raise it to, so large arrays reuse the heap as before: a build is no slower (at 4 MB,
every array mapped and zeroed anew cost about a second), and any value from 128 kB to 32 MB
kept the same memory. Polars and DuckDB bring allocators of their own (jemalloc); this
governs what goes through malloc: numpy's arrays and Python's larger objects.
"""

from __future__ import annotations

import ctypes
import platform

M_MMAP_THRESHOLD = -3            # mallopt's parameter number, from glibc's malloc.h
MMAP_THRESHOLD = 32 * 1024 * 1024


def fixed_mmap_threshold() -> bool:
    """Fix glibc's mmap threshold for this process (a threshold set is never adjusted);
    False where the C library is not glibc or refuses."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        return bool(ctypes.CDLL(None).mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    except (OSError, AttributeError):
        return False
