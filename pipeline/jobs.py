"""Jobs and the nightly schedule."""

from __future__ import annotations

import dagster as dg

from pipeline.assets.surveys import SURVEY_DEMO_KEY, SURVEY_FILE_KEY

# Everything but the per-file survey partitions (their own job, run by the inbox sensor)
# and the demo survey writer: registry sources, survey cells from the private store,
# staging, marts, reports and publication.
build_all = dg.define_asset_job(
    "build_all",
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(SURVEY_FILE_KEY, SURVEY_DEMO_KEY),
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
