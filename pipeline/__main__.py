"""`python -m pipeline build`: run the whole build in-process and say where results are."""

from __future__ import annotations

import os
import sys
import time

import dagster as dg


def build() -> int:
    from pipeline.definitions import defs
    from pipeline.resources import default_resources
    from pipeline.surveys import run_inbox

    resources = default_resources()
    paths, demo = resources["paths"], resources["apis"].is_demo
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    started = time.perf_counter()
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    print("uppvaxt: building on", "demo data" if demo else "live data",
          "(Dagster logs at WARNING; the UI has the full event log)")
    # Survey files first (what the inbox sensor does under the daemon); a quarantined file
    # is reported but does not stop the rest.
    inbox = run_inbox(defs, instance, demo_files=demo, refresh=False)
    for name in inbox.failed:
        print(f"uppvaxt: survey file {name} was quarantined; see the asset check "
              f"'survey_file_problems' and the report next to it.", file=sys.stderr)
    result = defs.resolve_job_def("build_all").execute_in_process(
        instance=instance, raise_on_error=False, run_config=quiet)
    seconds = time.perf_counter() - started
    if not result.success:
        failed = [e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
        print(f"uppvaxt: build FAILED after {seconds:.0f} s (steps: {', '.join(failed)}).",
              file=sys.stderr)
        print(f"The last published snapshot is unchanged: {paths.published}", file=sys.stderr)
        return 1
    checks = result.get_asset_check_evaluations()
    failed_checks = [c for c in checks if not c.passed]
    print(f"uppvaxt: build finished in {seconds:.0f} s; {len(checks) - len(failed_checks)} of "
          f"{len(checks)} checks passed.")
    for check in failed_checks:  # non-blocking checks, e.g. a register file set aside
        print(f"uppvaxt: check {check.asset_key.to_user_string()} {check.check_name} FAILED: "
              f"{check.description}", file=sys.stderr)
    print(f"  Reports:   {paths.reports / 'index.html'}")
    print(f"  Database:  {paths.published}  (duckdb -readonly {paths.published})")
    print(f"  Raw store: {paths.raw}")
    print(f"  Surveys:   {len(inbox.files) - len(inbox.failed)} new file(s) read from the inbox; "
          f"row-level data stay in {paths.private}")
    return 0


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "build"
    if command != "build":
        print("usage: python -m pipeline build", file=sys.stderr)
        sys.exit(2)
    sys.exit(build())
