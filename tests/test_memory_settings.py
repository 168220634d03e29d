"""The pipeline's processes fix glibc's mmap threshold (pipeline/memory.py)."""

import platform
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not GLIBC, reason="glibc's malloc only")
def test_a_large_block_freed_goes_back_to_the_system():
    # Without the fixed threshold, freeing a 16 MB block raises the threshold to 16 MB, so
    # the next 8 MB block comes from the heap and a small object allocated after it keeps
    # it resident; with the threshold fixed at 4 MB the 8 MB block is mapped and unmapped.
    program = """
import sys, ctypes, os
if sys.argv[1] == "fixed":
    import pipeline  # noqa: F401 - the package fixes the threshold on import
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
def anon():
    with open("/proc/self/smaps_rollup") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("Anonymous:")) // 1024
big = libc.malloc(16 << 20); libc.memset(big, 1, 16 << 20); libc.free(big)
before = anon()
block = libc.malloc(8 << 20); libc.memset(block, 1, 8 << 20)
pin = libc.malloc(64 * 1024); libc.memset(pin, 1, 64 * 1024)
libc.free(block)
print(anon() - before)
"""
    def kept(mode: str) -> int:
        done = subprocess.run([sys.executable, "-c", program, mode], capture_output=True, text=True,
                              check=True, cwd=REPO)
        return int(done.stdout.split()[-1])

    assert kept("dynamic") >= 7   # the freed 8 MB stay with the process
    assert kept("fixed") <= 1     # given back
