"""One writer for the warehouse whichever door starts a run, and no run left "in progress"
by a process that died.

* The build lock (`<data>/.build.lock`, an OS file lock released when its process dies) is
  taken by the command line around everything it runs, and by every run Dagster launches
  (schedule, sensor, a click in the UI) through the code location's executor, `locked_in_process`:
  the in-process executor with the lock around it. A run that finds the lock taken waits
  (UPPVAXT_LOCK_WAIT_SECONDS, default 30 minutes) and says so in Swedish, then gives up.
* Every run records its process (host, pid and the process's start time) in its tags. A
  run whose process is gone while Dagster still has it in progress — a build killed with
  SIGKILL — is marked failed by the command line before it starts anything, and by the
  `run_watchdog` sensor under the daemon, so the queue (one run at a time) never waits for it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
from dagster._core.events import DagsterEvent
from dagster._core.executor.base import Executor

LOCK_FILE = ".build.lock"
DEFAULT_WAIT_SECONDS = 1800.0
POLL_SECONDS = 2.0
HOST_TAG, PID_TAG, STARTED_TAG = "uppvaxt/host", "uppvaxt/pid", "uppvaxt/process_started"
IN_PROGRESS = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING,
               dg.DagsterRunStatus.CANCELING]


class LockTimeout(RuntimeError):
    """Another build held the lock for longer than this run was willing to wait."""


def process_started(pid: int) -> str | None:
    """When a process started (clock ticks since boot, from /proc): with the pid it names
    the process, so a reused pid is not taken for the run's own process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def process_alive(pid: int, started: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    now = process_started(pid)
    return not (started and now and now != started)


def process_tags() -> dict[str, str]:
    """This process, as tags on the runs it executes."""
    pid = os.getpid()
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(pid),
            STARTED_TAG: process_started(pid) or ""}


def wait_seconds() -> float:
    return float(os.environ.get("UPPVAXT_LOCK_WAIT_SECONDS", DEFAULT_WAIT_SECONDS))


def _written(handle) -> dict:
    """What the lock file says of its holder ({} when empty or unreadable)."""
    handle.seek(0)
    try:
        info = json.loads(handle.read() or "{}")
    except json.JSONDecodeError:
        info = {}
    return info if isinstance(info, dict) else {}


def _holder(handle) -> str:
    info = _written(handle)
    if not info:
        return "ett annat bygge"
    what = f" (körning {info['run'][:8]})" if info.get("run") else ""
    return f"{info.get('door', 'ett bygge')}{what}, process {info.get('pid')} sedan {info.get('since')}"


@contextlib.contextmanager
def build_lock(data_dir: Path, door: str, run_id: str | None = None,
               waiting: Callable[[str], None] | None = None,
               timeout: float | None = None) -> Iterator[dict]:
    """Hold the data folder's build lock; wait for it (telling `waiting` once, in Swedish)
    up to `timeout` seconds, then raise LockTimeout. Yields what a holder that died holding
    the lock left in its file (door, pid, run; {} after a clean release): a killed build,
    whose run the caller may still have to mark failed."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / LOCK_FILE
    timeout = wait_seconds() if timeout is None else timeout
    with path.open("a+", encoding="utf-8") as handle:
        deadline, told = time.monotonic() + timeout, False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _holder(handle)
                if time.monotonic() >= deadline:
                    raise LockTimeout(
                        f"Ett annat bygge skriver redan i {data_dir}: {holder}. Väntade "
                        f"{timeout:.0f} s; försök igen när det är klart.") from None
                if not told and waiting is not None:
                    waiting(f"Väntar på att ett annat bygge ska bli klart: {holder} "
                            f"(låset {path}; högst {timeout:.0f} s).")
                    told = True
                time.sleep(min(POLL_SECONDS, max(0.05, deadline - time.monotonic())))
        left = _written(handle)  # a clean release empties the file
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"door": door, "pid": os.getpid(), "run": run_id,
                                 "since": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")}))
        handle.flush()
        try:
            yield left
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)


def fail_orphaned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed every run this host started whose process is gone; one Swedish line each."""
    host, lines = socket.gethostname(), []
    for run in instance.get_runs(dg.RunsFilter(statuses=IN_PROGRESS)):
        pid = run.tags.get(PID_TAG, "")
        if run.tags.get(HOST_TAG) != host or not pid.isdigit():
            continue
        if process_alive(int(pid), run.tags.get(STARTED_TAG) or None):
            continue
        message = (f"Körningen {run.run_id[:8]} ({run.job_name}) avbröts utan att avslutas: "
                   f"processen {pid} finns inte längre. Den är markerad som misslyckad; den "
                   f"publicerade versionen är orörd.")
        instance.report_run_failed(run, message)
        lines.append(message)
    return lines


def data_dir_from_env() -> Path:
    from pipeline.resources import REPO_ROOT

    return Path(os.environ.get("UPPVAXT_DATA_DIR", REPO_ROOT / "data"))


class LockedExecutor(Executor):
    """The in-process executor, run under the build lock and tagged with its process."""

    def __init__(self, inner: Executor):
        self.inner = inner

    @property
    def retries(self):
        return self.inner.retries

    @property
    def step_dependency_config(self):
        return self.inner.step_dependency_config

    def execute(self, plan_context, execution_plan) -> Iterator[DagsterEvent]:
        run, instance = plan_context.dagster_run, plan_context.instance
        instance.add_run_tags(run.run_id, process_tags())
        waiting = lambda message: instance.report_engine_event(message, run)  # noqa: E731
        with build_lock(data_dir_from_env(), f"körningen {run.job_name} i Dagster", run.run_id,
                        waiting=waiting):
            yield from self.inner.execute(plan_context, execution_plan)


locked_in_process = dg.ExecutorDefinition(
    name="locked_in_process",
    config_schema=dg.in_process_executor.config_schema,
    executor_creation_fn=lambda init: LockedExecutor(dg.in_process_executor.executor_creation_fn(init)),
    description="Kör alla steg i en process, under byggets lås (ett bygge åt gången skriver i lagret).",
)


@dg.sensor(name="run_watchdog", minimum_interval_seconds=60,
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="Markerar körningar som misslyckade när deras process inte längre finns "
                       "(t.ex. ett bygge som dödades), så att kön inte väntar på dem.")
def run_watchdog(context: dg.SensorEvaluationContext):
    lines = fail_orphaned_runs(context.instance)
    return dg.SkipReason("; ".join(lines) if lines else "Inga övergivna körningar.")
