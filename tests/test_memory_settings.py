"""The pipeline's processes set glibc's malloc thresholds (pipeline/memory.py) and polars' engine
(pipeline/engine.py)."""

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not GLIBC, reason="glibc's malloc only")
def test_a_large_block_freed_goes_back_to_the_system():
    # Left to adjust itself, glibc raises its thresholds when a mapped 30 MB block is freed
    # (mmap 30 MB, trim 60 MB): a later 24 MB block comes from the heap, and when it is freed
    # the heap keeps it. With the thresholds set (trim 16 MB), the heap's top is given back.
    program = """
import sys, ctypes
if sys.argv[1] == "set":
    import pipeline  # noqa: F401 - the package sets the thresholds on import
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
def anon():
    with open("/proc/self/smaps_rollup") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("Anonymous:")) // 1024
big = libc.malloc(30 << 20); libc.memset(big, 1, 30 << 20); libc.free(big)
before = anon()
block = libc.malloc(24 << 20); libc.memset(block, 1, 24 << 20); libc.free(block)
print(anon() - before)
"""
    def kept(mode: str) -> int:
        done = subprocess.run([sys.executable, "-c", program, mode], capture_output=True, text=True,
                              check=True, cwd=REPO)
        return int(done.stdout.split()[-1])

    assert kept("adjusting") >= 23  # the freed 24 MB stay with the process
    assert kept("set") <= 1         # given back


def test_the_pipeline_collects_on_the_in_memory_engine_unless_told_otherwise():
    # pipeline/engine.py: the package chooses polars' in-memory engine on import (the
    # streaming engine's start made a build's ~2,000 small queries cost a second), whether
    # polars was imported before it or not, and leaves a choice made by whoever started the
    # process alone. What polars itself reports as its engine is what counts.
    program = ("import os{first}, pipeline, polars as pl; from polars._plr import "
               "get_engine_affinity as engine; lf = pl.LazyFrame({{'a': [1]}}); "
               "print(os.environ.get('POLARS_ENGINE_AFFINITY'), engine(), "
               "lf.select(pl.col('a') + 1).collect().item())")

    def affinity(preset: str | None, first: str = "") -> list[str]:
        env = {k: v for k, v in os.environ.items() if k != "POLARS_ENGINE_AFFINITY"}
        if preset:
            env["POLARS_ENGINE_AFFINITY"] = preset
        done = subprocess.run([sys.executable, "-c", program.format(first=first)], capture_output=True,
                              text=True, check=True, cwd=REPO, env=env)
        return done.stdout.split()

    assert affinity(None) == ["in-memory", "in-memory", "2"]
    assert affinity(None, first=", polars") == ["in-memory", "in-memory", "2"]
    assert affinity("streaming") == ["streaming", "streaming", "2"]
