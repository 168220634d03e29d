"""The Dagster code location: `dagster dev` loads `defs` via [tool.dagster] in pyproject."""

from __future__ import annotations

import dagster as dg

from pipeline.assets import (health_economics, labels, marts, quality, reports, sources, staging,
                             watch)
from pipeline.coordination import coordination_definitions
from pipeline.jobs import build_all, nightly
from pipeline.nightly import run_summary_on_failure, run_summary_on_success
from pipeline.resources import default_resources
from pipeline.runs import locked_in_process, run_watchdog
from pipeline.surveys import survey_definitions


def make_definitions(resources: dict[str, object]) -> dg.Definitions:
    registry = dg.Definitions(
        assets=dg.load_assets_from_modules([sources, staging, marts, quality, labels, reports, watch,
                                             health_economics]),
        jobs=[build_all],
        schedules=[nightly],
        sensors=[run_summary_on_success, run_summary_on_failure, run_watchdog],
        resources=resources,
        # One process per run, under the build lock: the warehouse has a single writer.
        executor=locked_in_process,
    )
    return dg.Definitions.merge(registry, survey_definitions(), coordination_definitions())


defs = make_definitions(default_resources())
