"""An unreachable host (issue 9 #6): given up on within seconds, one clear line on the
terminal, the stack trace in the log file, and no false claim about a snapshot."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time

import httpx
import pytest

from sources.http import Fetcher, RateLimiter, SourceUnavailable
from tests.conftest import REPO


def closed_port() -> int:
    """A local port nobody listens on: connecting is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_refused_connection_gives_up_after_one_quick_retry_and_stays_down():
    sleeps: list[float] = []
    fetcher = Fetcher(httpx.Client(timeout=httpx.Timeout(5, connect=2)), "kolada", None, None,
                      sleep=sleeps.append)
    url = f"http://127.0.0.1:{closed_port()}/v3/kpi/N15428"
    started = time.perf_counter()
    with pytest.raises(SourceUnavailable, match=r"kolada: servern 127.0.0.1 går inte att nå \(ConnectError"):
        fetcher.request("GET", url)
    assert sleeps == [1.0]  # one second try, not five exponential ones
    with pytest.raises(SourceUnavailable):  # later requests do not knock again
        fetcher.request("GET", url.replace("N15428", "N15508"))
    assert sleeps == [1.0] and time.perf_counter() - started < 5


def test_busy_answers_are_still_waited_for():
    answers = iter([httpx.Response(503), httpx.Response(429, headers={"retry-after": "2"}),
                    httpx.Response(200, json={"values": []})])
    sleeps: list[float] = []
    fetcher = Fetcher(httpx.Client(transport=httpx.MockTransport(lambda r: next(answers))), "scb",
                      RateLimiter(30, 10, sleep=sleeps.append), None, sleep=sleeps.append)
    response, _ = fetcher.request("GET", "http://scb.test/api/v2/config")
    assert response.status_code == 200 and sleeps == [1.0, 2.0]


def test_retry_after_is_capped():
    answers = iter([httpx.Response(429, headers={"retry-after": "3600"}), httpx.Response(200)])
    sleeps: list[float] = []
    fetcher = Fetcher(httpx.Client(transport=httpx.MockTransport(lambda r: next(answers))), "kolada",
                      None, None, sleep=sleeps.append)
    fetcher.request("GET", "http://kolada.test/v3/kpi/N15428")
    assert sleeps == [60.0]


@pytest.mark.slow
def test_first_build_against_a_host_that_is_down(tmp_path):
    port = closed_port()
    env = {**os.environ, "UPPVAXT_SOURCE": "live", "UPPVAXT_DATA_DIR": str(tmp_path / "data"),
           "UPPVAXT_KOLADA_URL": f"http://127.0.0.1:{port}/v3",
           "UPPVAXT_SCB_URL": f"http://127.0.0.1:{port}/api/v2"}
    env.pop("DAGSTER_HOME", None)
    done = subprocess.run([sys.executable, "-m", "pipeline", "build"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "INTE publicerat" in out and "går inte att nå" in out
    assert "Ingen databas har publicerats ännu" in out and "är oförändrad" not in out
    assert "Traceback" not in out and len(out.splitlines()) < 15, out
    log = next((tmp_path / "data" / "logs").glob("build-*.log")).read_text(encoding="utf-8")
    assert "ConnectError" in log and 'File "' in log and "sources/http.py" in log  # the stack, in the log
    assert not (tmp_path / "data" / "published").exists() or not any((tmp_path / "data" / "published").iterdir())
    seconds = int(re.search(r"INTE publicerat på (\d+) s", out).group(1))  # the run, not the imports
    assert seconds < 60, f"gave up after {seconds} s"
