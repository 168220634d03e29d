"""The command line: `python -m pipeline build` (what `make run` does) and
`python -m pipeline nightly` (what the Dagster daemon does each night).

* `build`: survey files from the inbox (as the inbox sensor would), then the whole build:
  every source fetched, published if anything changed.
* `nightly`: the inbox (as the sensors would), then exactly what the 03:30 schedule runs:
  ask the sources what changed; if nothing, stop; else an incremental build.

`UPPVAXT_SOURCE=replay` with `build` rebuilds the last published build from the raw store.

Both hold the data folder's build lock (pipeline/runs.py) for everything they run, waiting
for a run another door started; before a run starts, runs a killed build left "in
progress" in the Dagster instance are marked failed (said in the summary), and so on a night
without changes when the lock's file shows its last holder died holding it (a quiet night
otherwise opens no instance).

Either ends with one summary (pipeline/summary.py): published or not, and each indicator
that is unavailable, stale or blocked, each population year borrowed and each quarantined
survey file on a line of its own. Everything else — Dagster's event log, warnings, stack
traces — goes to a log file under data/logs/, named at the end. Exit code 1 when nothing
new could be published (a failed step, every series fetched had a problem, or a survey file
that arrived was quarantined and nothing else changed).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

USAGE = "usage: python -m pipeline [build|nightly]"
LOG_CONFIG = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


@contextlib.contextmanager
def stderr_to(log: Path):
    """Send everything written to stderr (file descriptor 2) to `log` for the duration."""
    log.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    with log.open("a", encoding="utf-8") as handle:
        os.dup2(handle.fileno(), 2)
        try:
            yield handle
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def say(lines) -> None:
    for line in lines:
        print(line, flush=True)


def summary_of(instance, paths, run_id: str, had_snapshot: bool, seconds: float | None = None,
               orphans: list[str] | None = None):
    from pipeline.assets.surveys import SurveySettings
    from pipeline.summary import post, summarise

    summary = summarise(instance, run_id, paths.published, SurveySettings.from_env().inbox(paths),
                        had_snapshot, seconds, accept_file=paths.accept_file)
    summary.orphans = orphans or []
    post(instance, run_id, summary)
    return summary


def execute(defs, instance, paths, tags: dict | None, had_snapshot: bool, orphans: list[str]):
    from pipeline.runs import process_tags

    started = time.perf_counter()
    result = defs.resolve_job_def("build_all").execute_in_process(
        instance=instance, raise_on_error=False, run_config=LOG_CONFIG,
        tags={**(tags or {}), **process_tags()})
    return summary_of(instance, paths, result.run_id, had_snapshot, time.perf_counter() - started,
                      orphans)


class Instance:
    """The Dagster instance, opened when a run is about to start (a quiet night needs none);
    runs a killed build left "in progress" are marked failed first."""

    def __init__(self):
        self._instance = None
        self.orphans: list[str] = []

    def get(self):
        import dagster as dg

        from pipeline.runs import fail_orphaned_runs

        if self._instance is None:
            self._instance = (dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME")
                              else dg.DagsterInstance.ephemeral())
            self.orphans = fail_orphaned_runs(self._instance)
        return self._instance

    def take_orphans(self) -> list[str]:
        """The runs marked failed, said once (in the first summary)."""
        found, self.orphans = self.orphans, []
        return found


def run(command: str, log: Path) -> int:
    import dagster as dg

    from pipeline.assets.surveys import SurveySettings
    from pipeline.definitions import defs
    from pipeline.jobs import nightly_request
    from pipeline.runs import build_lock
    from pipeline.summary import orphan_lines, quarantined_files
    from pipeline.surveys import run_inbox
    from sources.surveys.inbox import list_inbox

    resources = defs.resources
    paths, apis = resources["paths"], resources["apis"]
    had_snapshot = paths.published.exists()
    source = "omspelning ur rålagret" if apis.is_replay else ("demodata" if apis.is_demo else "livedata")
    say([f"uppvaxt: {command} på {source}; loggen skrivs till {log}"])
    summaries, instance, inbox = [], Instance(), None
    inbox_dir = SurveySettings.from_env().inbox(paths)
    with build_lock(paths.data, f"kommandoraden (python -m pipeline {command})",
                    waiting=lambda message: say([f"uppvaxt: {message}"])) as left_by:
        # The inbox first, as its sensors would; a quarantined file stops nothing else.
        if command == "build" or list_inbox(inbox_dir):
            inbox = run_inbox(defs, instance.get(), demo_files=apis.mode == "demo" and command == "build",
                              refresh=command == "nightly")
        if inbox is not None and inbox.survey_value is not None:
            summaries.append(summary_of(instance.get(), paths, inbox.survey_value.run_id, had_snapshot,
                                        orphans=instance.take_orphans()))
            say(summaries[-1].lines())
        if command == "build":
            summaries.append(execute(defs, instance.get(), paths, None, had_snapshot,
                                   instance.take_orphans()))
            say(summaries[-1].lines())
        else:
            request = nightly_request(paths, apis)  # exactly what the 03:30 schedule decides
            if isinstance(request, dg.RunRequest):
                say([f"uppvaxt: {request.tags.get('uppvaxt/changes', 'ändringar')}"])
                summaries.append(execute(defs, instance.get(), paths, request.tags, had_snapshot,
                                         instance.take_orphans()))
                say(summaries[-1].lines())
            else:
                if left_by:  # a build was killed holding the lock: its run is marked failed now
                    instance.get()
                say([f"uppvaxt: {request.skip_message or 'inget att göra'}"]
                    + orphan_lines(instance.take_orphans())
                    + [f"  Enkätfil i karantän: {q}" for q in quarantined_files(inbox_dir)])
    if summaries and summaries[-1].outcome == "published":
        say([f"  Rapporter: {paths.reports / 'index.html'}",
             f"  Databas:   {paths.published}  (duckdb -readonly {paths.published})"])
    code = max((s.exit_code for s in summaries), default=0)
    failed = inbox.failed if inbox is not None else []
    if failed and not any(s.outcome == "published" for s in summaries):
        say([f"  Nya enkätfiler som inte kunde tas in: {', '.join(failed)}; inget nytt publicerades."])
        code = 1  # what arrived could not be published
    return code


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "build"
    if command not in ("build", "nightly"):
        print(USAGE, file=sys.stderr)
        return 2
    data_dir = Path(os.environ.get("UPPVAXT_DATA_DIR", Path(__file__).resolve().parent.parent / "data"))
    log = data_dir / "logs" / f"{command}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.log"
    try:
        with stderr_to(log) as handle:
            try:
                code = run(command, log)
            except Exception as err:  # noqa: BLE001 - the message for the terminal, the trace for the log
                traceback.print_exc(file=handle)
                handle.flush()
                print(f"uppvaxt: {command} avbröts: {str(err).splitlines()[0] if str(err) else type(err).__name__}",
                      flush=True)
                code = 1
    finally:
        print(f"  Logg:      {log}", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
