"""A heavy step's work in a fresh process: its answer, its error and its death reach the caller."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from pipeline.own_process import OwnProcess, OwnProcessError, in_own_process


def pid_and_sum(a: int, b: int) -> tuple[int, int]:
    return os.getpid(), a + b


def refuse(reason: str) -> None:
    raise ValueError(reason)


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def wait_then_write(path: str) -> None:
    time.sleep(2)
    Path(path).write_text("skrivet", encoding="utf-8")


def test_the_answer_comes_from_another_process_with_its_peak_memory():
    (pid, total), peak = in_own_process(pid_and_sum, 2, 3)
    assert total == 5 and pid != os.getpid()
    assert peak is None or peak > 1


def test_the_work_s_error_is_raised_in_the_caller():
    with pytest.raises(ValueError, match="tabellen saknas"):
        in_own_process(refuse, "tabellen saknas")


def test_a_process_that_dies_is_an_error_not_an_answer():
    with pytest.raises(OwnProcessError, match="utan att svara"):
        in_own_process(die)


def test_a_process_started_ahead_does_the_work_it_is_given_later():
    with OwnProcess(pid_and_sum) as work:
        started = work._process.pid
        (pid, total), _ = work.run(4, 5)
    assert (pid, total) == (started, 9)


def test_a_process_started_ahead_and_not_needed_ends_with_the_block():
    started = time.monotonic()
    with OwnProcess(pid_and_sum) as work:
        process = work._process
        assert process.poll() is None  # loading its module, waiting for work
    assert process.returncode is not None
    with pytest.raises(RuntimeError, match="avböjd"):
        with OwnProcess(pid_and_sum) as work:
            process = work._process
            raise RuntimeError("avböjd")  # the caller's checks refuse: the process ends too
    assert process.returncode is not None
    assert time.monotonic() - started < 2  # the caller never waits for its imports


def test_a_caller_stopped_while_the_work_runs_stops_the_work(tmp_path):
    # A run terminated in the UI stops its step with an exception while the publication's
    # process works: the process is killed then, and nothing it would have written after.
    def stop(signum, frame):
        raise RuntimeError("körningen avbröts")

    written = tmp_path / "written.txt"
    previous = signal.signal(signal.SIGALRM, stop)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        with pytest.raises(RuntimeError, match="avbröts"):
            with OwnProcess(wait_then_write) as work:
                process = work._process
                work.run(str(written))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert process.returncode == -signal.SIGKILL
    time.sleep(2.5)
    assert not written.exists()
