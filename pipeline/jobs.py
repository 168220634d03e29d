"""Jobs and the nightly schedule."""
# Annotations stay real objects here: Dagster reads them to find context and resources.

import dagster as dg

from pipeline.assets.sources import REFETCH_TAG, REFRESH_TAG
from pipeline.assets.surveys import SURVEY_DEMO_KEY, SURVEY_FILE_KEY
from pipeline.nightly import probe
from pipeline.resources import Paths, StatisticsApis
from sources.kolada_refresh import INCREMENTAL

# Everything but the per-file survey partitions (their own job, run by the inbox sensor)
# and the demo survey writer: registry sources, survey cells from the private store,
# staging, marts, reports and publication.
build_all = dg.define_asset_job(
    "build_all",
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(SURVEY_FILE_KEY, SURVEY_DEMO_KEY),
    description="Hämtar, kontrollerar, beräknar, publicerar och skriver rapporter.",
)


@dg.schedule(
    name="nightly_build",
    job=build_all,
    cron_schedule="30 3 * * *",
    execution_timezone="Europe/Stockholm",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Varje natt 03.30 svensk tid: fråga Kolada och SCB vad som har ändrats sedan "
                "förra publiceringen och bygg bara då, med bara det ändrade hämtat. En natt "
                "utan ändringar skriver ingenting; misslyckas något ligger gårdagens "
                "publicerade data kvar. Samma sak som `python -m pipeline nightly`.",
)
def nightly(context: dg.ScheduleEvaluationContext, paths: Paths, apis: StatisticsApis):
    return nightly_request(paths, apis)


def nightly_request(paths: Paths, apis: StatisticsApis) -> dg.RunRequest | dg.SkipReason:
    """The night's decision (the schedule's and `python -m pipeline nightly`'s): an
    incremental build of what changed, or nothing."""
    changes = probe(paths, apis)
    if not changes.anything:
        return dg.SkipReason(changes.text())
    tags = {REFRESH_TAG: INCREMENTAL, "uppvaxt/changes": changes.text()[:1000]}
    if changes.refetch:
        tags[REFETCH_TAG] = ",".join(changes.refetch)
    return dg.RunRequest(tags=tags)
