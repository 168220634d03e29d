"""Sensors: survey files arriving in the inbox, and refreshing the survey cells after them.

Neither opens the warehouse: they list a folder, read codebook YAML and ask the Dagster
instance for events.
"""
# Annotations stay real objects here: Dagster reads them to find context and resources.

import dagster as dg

from pipeline.assets.surveys import (SURVEY_FILE_KEY, SURVEY_FILES, SURVEY_VALUE_KEY,
                                     SurveySettings, survey_file_job, survey_value_job)
from pipeline.resources import Paths
from sources.surveys.codebook import CodebookError
from sources.surveys.inbox import list_inbox, pair


@dg.sensor(job=survey_file_job, minimum_interval_seconds=30,
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="Bevakar enkätinkorgen: en ny eller ändrad fil (eller en ändrad kodbok) "
                       "blir en partition och läses in.")
def survey_inbox_sensor(context: dg.SensorEvaluationContext, paths: Paths,
                        survey_settings: SurveySettings):
    try:
        codebooks = survey_settings.codebooks(paths)
    except CodebookError as err:
        return dg.SkipReason(f"Kodböckerna går inte att läsa: {err}")
    files = list_inbox(survey_settings.inbox(paths), survey_settings.settle_seconds)
    if not files:
        return dg.SkipReason(f"Inga enkätfiler i {survey_settings.inbox(paths)}")
    known = set(context.instance.get_dynamic_partitions(SURVEY_FILES.name))
    new = [f.partition_key for f in files if f.partition_key not in known]
    # A file without a codebook still gets a run: the run quarantines it and says why.
    requests = [dg.RunRequest(run_key=f.change_key(pair(f.path, codebooks)[0]),
                              partition_key=f.partition_key) for f in files]
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[SURVEY_FILES.build_add_request(new)] if new else [])


@dg.sensor(job=survey_value_job, minimum_interval_seconds=30,
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="Räknar om enkätandelarna när en enkätfil har lästs in.")
def survey_value_sensor(context: dg.SensorEvaluationContext):
    # One refresh for however many files were read since the last tick.
    records = context.instance.fetch_materializations(SURVEY_FILE_KEY, limit=1).records
    if not records:
        return dg.SkipReason("Ingen enkätfil har lästs in ännu")
    latest = records[0].storage_id
    if context.cursor and latest <= int(context.cursor):
        return dg.SkipReason("Inga nya enkätfiler sedan förra omräkningen")
    context.update_cursor(str(latest))
    # A build (`make run`, the nightly) may have computed the cells since: nothing to redo.
    cells = context.instance.fetch_materializations(SURVEY_VALUE_KEY, limit=1).records
    if cells and cells[0].storage_id > latest:
        return dg.SkipReason("Enkätandelarna är redan beräknade från de senast inlästa filerna")
    return dg.RunRequest(run_key=f"survey_value:{latest}")


def materialized_since(instance: dg.DagsterInstance, key: dg.AssetKey, files: list) -> bool:
    """Whether `key` was materialised after every one of `files` was last modified (a build
    read them already: a sensor's first tick after `make run` has nothing to do)."""
    records = instance.fetch_materializations(key, limit=1).records
    return bool(records and files) and records[0].timestamp >= max(f.stat().st_mtime for f in files)
