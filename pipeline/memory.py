"""How the pipeline's processes give freed memory back to the system.

glibc's malloc serves a large block from a mapping of its own, returned to the system when
freed, but raises the size that counts as large to the size of every such block freed, up to
32 MB. After the first large arrays of a build are freed, later ones come from the heap, and
a heap page stays with the process while any small object lives beside it: the run's process
kept about 250 MB of freed memory while the publication's process ran beside it (demo build:
633 → 382 MB of anonymous memory at that moment). A fixed threshold keeps every block of
4 MB or more in its own mapping; 4 MB keeps as much as 128 kB did (measured), with fewer
mappings made and unmade. Polars and DuckDB bring allocators of their own (jemalloc); this
governs what goes through malloc: numpy's arrays and Python's larger objects.
"""

from __future__ import annotations

import ctypes
import platform

M_MMAP_THRESHOLD = -3            # mallopt's parameter number, from glibc's malloc.h
MMAP_THRESHOLD = 4 * 1024 * 1024


def fixed_mmap_threshold() -> bool:
    """Fix glibc's mmap threshold for this process (a fixed one is never raised); False where
    the C library is not glibc or refuses."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        return bool(ctypes.CDLL(None).mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    except (OSError, AttributeError):
        return False
