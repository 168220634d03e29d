"""The Dagster code location: `dagster dev` loads `defs` via [tool.dagster] in pyproject."""

from __future__ import annotations

import dagster as dg

from pipeline.assets import marts, reports, sources, staging
from pipeline.jobs import build_all, nightly
from pipeline.resources import default_resources

defs = dg.Definitions.merge(
    dg.load_definitions_from_modules(
        [sources, staging, marts, reports],
        resources=default_resources(),
        # One process per run: the warehouse has a single writer.
        executor=dg.in_process_executor,
    ),
    dg.Definitions(jobs=[build_all], schedules=[nightly]),
)
