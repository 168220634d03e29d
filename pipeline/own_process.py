"""Run a heavy step's work in a fresh process of its own.

A step that reads the whole fact table and renders the site (the publication) would add its
peak to what the run's process already keeps (polars and DuckDB hold on to memory they have
used), so the run's peak would be the sum of both. In a fresh process the peak is only the
work's. The process is a new interpreter (`python -m pipeline.own_process`) that imports only
the work's own module — no Dagster, and not the caller's main program as multiprocessing's
spawn would — and on Linux it dies with the caller: a build killed at any point leaves no
process writing behind it.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

PR_SET_PDEATHSIG = 1
REPO = Path(__file__).resolve().parent.parent


class OwnProcessError(RuntimeError):
    """The work's process ended without an answer (killed, or its error could not be sent)."""


def _die_with_parent(parent: int) -> None:
    """Asked by the child itself (a hook between fork and exec is unsafe in a threaded
    caller); a parent already gone by then is caught by the second look."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


def peak_memory_mb() -> float | None:
    """This process's peak resident memory since its program started (VmHWM; getrusage's
    maxrss would also count what the parent shared with it before the new program)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


class OwnProcess:
    """A fresh process for `function` (module-level, picklable arguments), started on entering
    the `with` block so that it loads its modules while the caller goes on with its own checks;
    `run(*args)` hands it the work. Left without `run` (nothing to do), or while `run` waits
    (the caller stopped), the process is killed."""

    def __init__(self, function):
        self.function = function

    def __enter__(self) -> OwnProcess:
        self._folder = tempfile.TemporaryDirectory(prefix="uppvaxt-work-")
        self._answer = Path(self._folder.name) / "answer.pickle"
        self._process = subprocess.Popen(
            [sys.executable, "-m", "pipeline.own_process", self.function.__module__,
             self.function.__qualname__, str(self._answer), str(os.getpid())],
            cwd=REPO, env=os.environ.copy(), stdin=subprocess.PIPE)
        return self

    def run(self, *args):
        """`function(*args)` in the process: its result and the process's peak memory in MB
        (None where the system does not say), or its exception raised here."""
        task = Path(self._folder.name) / "task.pickle"
        task.write_bytes(pickle.dumps(args))
        try:
            self._process.stdin.write(f"{task}\n".encode())
            self._process.stdin.close()
        except BrokenPipeError:  # it died while loading: said below, as any death
            pass
        returncode = self._process.wait()
        if not self._answer.exists():
            raise OwnProcessError(f"processen för {self.function.__qualname__} avslutades med kod "
                                  f"{returncode} utan att svara")
        result, peak, error = pickle.loads(self._answer.read_bytes())
        if error is not None:
            raise error
        return result, peak

    def __exit__(self, *exc) -> None:
        try:
            if self._process.poll() is None:
                # Never given work (nothing to publish: no reason to wait for its imports), or
                # its caller was stopped while it worked (a stopped run must not publish after).
                self._process.kill()
                self._process.wait()
        finally:
            with contextlib.suppress(BrokenPipeError):
                self._process.stdin.close()
            self._folder.cleanup()


def in_own_process(function, *args):
    """`function(*args)` in a fresh process (OwnProcess.run), started now."""
    with OwnProcess(function) as work:
        return work.run(*args)


def _main(module: str, name: str, answer: Path, parent: int) -> None:
    _die_with_parent(parent)
    function = importlib.import_module(module)
    for part in name.split("."):
        function = getattr(function, part)
    task = sys.stdin.readline().strip()
    if not task:  # the caller had nothing for it
        return
    args = pickle.loads(Path(task).read_bytes())
    try:
        outcome = (function(*args), None)
    except Exception as err:  # noqa: BLE001 - sent to the caller, which raises it
        traceback.print_exc()  # the whole story for the run's log; the caller gets the error
        outcome = (None, err)
    try:
        payload = pickle.dumps((outcome[0], peak_memory_mb(), outcome[1]))
    except Exception:  # noqa: BLE001 - an unpicklable error still reaches the caller as text
        text = "".join(traceback.format_exception_only(outcome[1])).strip() if outcome[1] else "?"
        payload = pickle.dumps((None, peak_memory_mb(), OwnProcessError(text)))
    answer.write_bytes(payload)


if __name__ == "__main__":
    _main(sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]))
