"""One writer whichever door (issue 15 #8), and no run left "in progress" by a dead process
(#4): the build lock, the locked executor Dagster-launched runs use, and the clean-up of runs
whose process is gone."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import dagster as dg
import pytest

from pipeline.runs import (HOST_TAG, PID_TAG, STARTED_TAG, LockTimeout, build_lock,
                           fail_orphaned_runs, process_tags, run_watchdog)
from tests.run_helpers import hold_lock, marker_job, run_started


def test_the_one_who_waits_is_told_who_holds_the_lock_then_gives_up(tmp_path):
    holder = hold_lock(tmp_path)
    told: list[str] = []
    try:
        started = time.monotonic()
        with pytest.raises(LockTimeout) as err:
            with build_lock(tmp_path, "körningen build_all i Dagster", waiting=told.append, timeout=1.0):
                pass
        assert time.monotonic() - started >= 1.0
    finally:
        holder.communicate("\n", timeout=30)
    assert len(told) == 1 and told[0].startswith("Väntar på att ett annat bygge ska bli klart: "
                                                  "kommandoraden (python -m pipeline build), process ")
    assert "Ett annat bygge skriver redan i" in str(err.value) and "försök igen" in str(err.value)
    with build_lock(tmp_path, "nu", timeout=0):  # released when its holder ended
        pass


def test_a_lock_held_by_a_killed_process_is_free_and_says_who_held_it(tmp_path):
    holder = hold_lock(tmp_path)
    holder.kill()
    holder.wait()
    with build_lock(tmp_path, "nästa bygge", timeout=0) as left_by:
        assert left_by["pid"] == holder.pid
        assert left_by["door"] == "kommandoraden (python -m pipeline build)"
    with build_lock(tmp_path, "bygget efter", timeout=0) as left_by:
        assert left_by == {}  # released cleanly by the one before


def test_a_run_launched_by_dagster_takes_the_same_lock(tmp_path, monkeypatch):
    """What a UI click or the schedule launches: the code location's executor holds the data
    folder's lock while the steps run, and tags the run with its process."""
    data, marker_file = tmp_path / "data", tmp_path / "marker.txt"
    monkeypatch.setenv("UPPVAXT_DATA_DIR", str(data))
    monkeypatch.setenv("UPPVAXT_TEST_MARKER", str(marker_file))
    monkeypatch.setenv("UPPVAXT_LOCK_WAIT_SECONDS", "1")
    instance = dg.DagsterInstance.ephemeral()
    holder = hold_lock(data)
    try:
        result = dg.execute_job(dg.reconstructable(marker_job), instance=instance, raise_on_error=False)
        assert not result.success and not marker_file.exists()
        logs = instance.all_logs(result.run_id)
        assert any((e.message or "").startswith("Väntar på att ett annat bygge ska bli klart") for e in logs)
        assert any("Ett annat bygge skriver redan i" in str(e.dagster_event.event_specific_data)
                   for e in logs if e.dagster_event and e.dagster_event.is_run_failure)
    finally:
        holder.communicate("\n", timeout=30)
    result = dg.execute_job(dg.reconstructable(marker_job), instance=instance)
    assert result.success and marker_file.read_text().strip() == str(os.getpid())
    run = instance.get_run_by_id(result.run_id)
    assert run.tags[PID_TAG] == str(os.getpid()) and run.tags[HOST_TAG] == process_tags()[HOST_TAG]


def test_runs_of_a_dead_process_are_marked_failed_and_live_ones_are_not(tmp_path):
    instance = dg.DagsterInstance.ephemeral()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    tags = process_tags()
    runs = {
        "dead": {**tags, PID_TAG: str(dead.pid), STARTED_TAG: ""},
        "reused_pid": {**tags, STARTED_TAG: "1"},          # this pid, another process's start
        "alive": tags,
        "other_host": {**tags, HOST_TAG: "elsewhere", PID_TAG: str(dead.pid)},
        "untagged": {},
    }
    ids = {}
    for name, run_tags in runs.items():
        run = instance.create_run_for_job(marker_job(), tags=run_tags)
        instance.handle_new_event(run_started(run))
        ids[name] = run.run_id
    lines = fail_orphaned_runs(instance)
    status = {name: instance.get_run_by_id(i).status for name, i in ids.items()}
    assert status == {"dead": dg.DagsterRunStatus.FAILURE, "reused_pid": dg.DagsterRunStatus.FAILURE,
                      "alive": dg.DagsterRunStatus.STARTED, "other_host": dg.DagsterRunStatus.STARTED,
                      "untagged": dg.DagsterRunStatus.STARTED}
    assert len(lines) == 2 and any(line.startswith(
        f"Körningen {ids['dead'][:8]} (marker_job) avbröts utan att avslutas: processen {dead.pid} "
        f"finns inte längre. Den är markerad som misslyckad") for line in lines)
    assert fail_orphaned_runs(instance) == []
    # the daemon's door: the watchdog sensor does the same
    run = instance.create_run_for_job(marker_job(), tags=runs["dead"])
    instance.handle_new_event(run_started(run))
    skip = run_watchdog(dg.build_sensor_context(instance=instance))
    assert "avbröts utan att avslutas" in skip.skip_message
    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
