"""Jobs and the nightly schedule."""

from __future__ import annotations

import dagster as dg

# Everything that is not partitioned: sources, staging, marts, reports and publication.
build_all = dg.define_asset_job(
    "build_all",
    selection=dg.AssetSelection.all(),
    description="Hämtar, kontrollerar, beräknar, publicerar och skriver rapporter.",
)

nightly = dg.ScheduleDefinition(
    name="nightly_build",
    job=build_all,
    cron_schedule="30 3 * * *",
    execution_timezone="Europe/Stockholm",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Varje natt 03.30 svensk tid: uppdatera allt och publicera. Misslyckas "
                "något ligger gårdagens publicerade data kvar.",
)
