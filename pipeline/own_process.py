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


def in_own_process(function, *args):
    """`function(*args)` (a module-level function, picklable arguments) in a fresh process:
    its result and that process's peak memory in MB (None where the system does not say), or
    its exception raised here."""
    with tempfile.TemporaryDirectory(prefix="uppvaxt-work-") as folder:
        task, answer = Path(folder) / "task.pickle", Path(folder) / "answer.pickle"
        task.write_bytes(pickle.dumps((function.__module__, function.__qualname__, args)))
        done = subprocess.run([sys.executable, "-m", "pipeline.own_process", str(task), str(answer),
                               str(os.getpid())], cwd=REPO, env=os.environ.copy())
        if not answer.exists():
            raise OwnProcessError(f"processen för {function.__qualname__} avslutades med kod "
                                  f"{done.returncode} utan att svara")
        result, peak, error = pickle.loads(answer.read_bytes())
    if error is not None:
        raise error
    return result, peak


def _main(task: Path, answer: Path, parent: int) -> None:
    _die_with_parent(parent)
    module, name, args = pickle.loads(task.read_bytes())
    function = importlib.import_module(module)
    for part in name.split("."):
        function = getattr(function, part)
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
    _main(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]))
