"""Benchmark: the full demo build from scratch, seconds per step and peak memory.

    make benchmark            # or: .venv/bin/python scripts/benchmark.py [--keep DIR]

Prints figures; asserts nothing (targets live in the README and the issue notes).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.definitions import make_definitions  # noqa: E402
from pipeline.resources import Paths, StatisticsApis, default_resources  # noqa: E402


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(data_dir: Path) -> None:
    resources = default_resources(Paths(data_dir=str(data_dir)), StatisticsApis(mode="demo"))
    job = make_definitions(resources).resolve_job_def("build_all")
    quiet = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
    started = time.perf_counter()
    instance = dg.DagsterInstance.ephemeral()
    result = job.execute_in_process(instance=instance, run_config=quiet, raise_on_error=False)
    total = time.perf_counter() - started
    starts, steps = {}, []
    for entry in instance.all_logs(result.run_id):
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type_value == "STEP_START":
            starts[event.step_key] = entry.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            steps.append((event.step_key, entry.timestamp - starts[event.step_key],
                          event.event_type_value == "STEP_SUCCESS"))
    print(f"Full demo build ({os.cpu_count()} CPUs), {'ok' if result.success else 'FAILED'}")
    print(f"{'step':<34}{'seconds':>9}")
    for key, seconds, ok in steps:
        print(f"{key:<34}{seconds:>9.2f}{'' if ok else '  FAILED'}")
    print(f"{'total (run, incl. Dagster overhead)':<34}{total:>9.2f}")
    print(f"peak memory (max RSS): {peak_rss_mb():.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keep", type=Path, help="build into this folder instead of a temporary one")
    args = parser.parse_args()
    if args.keep:
        build(args.keep)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            build(Path(tmp) / "data")


if __name__ == "__main__":
    main()
