"""Runs and the build lock for tests: a process holding the lock, a one-asset job with the
locked executor, and a run marked started as a killed build leaves it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import dagster as dg

from pipeline.runs import locked_in_process
from tests.conftest import REPO

HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from pipeline.runs import build_lock
    with build_lock(Path(sys.argv[1]), "kommandoraden (python -m pipeline build)"):
        print("held", flush=True)
        sys.stdin.readline()
""")


def hold_lock(data):
    """A process holding the data folder's lock until a line arrives on its stdin."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(data)], cwd=REPO, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert holder.stdout.readline().strip() == "held"
    return holder


@dg.asset
def marker() -> None:
    """Skriver en rad i en fil, för testet av byggets lås."""
    with open(os.environ["UPPVAXT_TEST_MARKER"], "a") as handle:
        handle.write(f"{os.getpid()}\n")


def marker_job():
    return dg.Definitions(assets=[marker], jobs=[dg.define_asset_job(
        "marker_job", selection=[marker], executor_def=locked_in_process)]).resolve_job_def("marker_job")


def run_started(run):
    """The event that marks `run` started (what a run's process writes first)."""
    from dagster._core.events import DagsterEvent, DagsterEventType
    from dagster._core.events.log import EventLogEntry

    event = DagsterEvent(event_type_value=DagsterEventType.RUN_START.value, job_name=run.job_name)
    return EventLogEntry(error_info=None, level="DEBUG", user_message="", run_id=run.run_id,
                         timestamp=time.time(), dagster_event=event)
