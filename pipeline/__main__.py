"""`python -m pipeline build`: run the whole build in-process and say where results are."""

from __future__ import annotations

import os
import sys
import time

import dagster as dg


def build() -> int:
    from pipeline.definitions import defs
    from pipeline.resources import default_resources

    paths = default_resources()["paths"]
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    started = time.perf_counter()
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    print("uppvaxt: building on", "demo data" if default_resources()["apis"].is_demo else "live data",
          "(Dagster logs at WARNING; the UI has the full event log)")
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
    print(f"uppvaxt: build finished in {seconds:.0f} s; {len(checks)} checks passed.")
    print(f"  Reports:   {paths.reports / 'index.html'}")
    print(f"  Database:  {paths.published}  (duckdb -readonly {paths.published})")
    print(f"  Raw store: {paths.raw}")
    return 0


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "build"
    if command != "build":
        print("usage: python -m pipeline build", file=sys.stderr)
        sys.exit(2)
    sys.exit(build())
