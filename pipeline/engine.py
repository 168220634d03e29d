"""Which engine polars runs a lazy query on in the pipeline's processes.

polars 2 runs `collect()` on its streaming engine unless told otherwise, and starting that
engine costs about 0.3 ms a query against 0.05 ms on the in-memory engine. Most queries in a
build are small: pandera runs one per check and column (about 2,000 in a demo build), and
on the streaming engine those alone took about a second of the build (measured on two
cores: the build without its publication 16.6 → 15.5 s). Nothing here needs streaming for
its memory: the large tables are built and stored a part at a time (pipeline/factory.py).
The tables and pages come out the same on either engine (checked on whole demo builds).
"""

from __future__ import annotations

import os
import sys

AFFINITY = "POLARS_ENGINE_AFFINITY"


def prefer_in_memory_engine() -> None:
    """Collect on the in-memory engine, unless whoever started the process chose one. Set
    in the environment, which polars reads when it starts (and the processes started from
    this one inherit), so a process that never uses polars does not import it for this."""
    if AFFINITY in os.environ:
        return
    os.environ[AFFINITY] = "in-memory"
    if "polars" in sys.modules:  # already started: it has read its environment
        sys.modules["polars"].Config.set_engine_affinity("in-memory")
