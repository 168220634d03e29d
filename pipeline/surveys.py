"""The survey subsystem as one Definitions object, and an in-process inbox run.

`survey_definitions()` holds the survey assets, their two jobs, both sensors and the
`survey_settings` resource (from UPPVAXT_SURVEY_* variables). It expects `paths`, `apis`
and `io_manager` from the main definitions; pass `resources` to load it on its own.

Merge into the main definitions with `dg.Definitions.merge(main, survey_definitions())`;
keep `private/survey_file` out of unpartitioned jobs such as build_all, e.g.
`dg.AssetSelection.all() - dg.AssetSelection.assets(SURVEY_FILE_KEY)`.

`run_inbox` does in one process what the sensors do under the daemon (for
`python -m pipeline build` and tests): demo files in demo mode, one run per new or changed
inbox file, then one refresh of staging.survey_value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dagster as dg

from pipeline.assets.surveys import (SURVEY_DEMO_KEY, SURVEY_FILES, SurveySettings,
                                     survey_demo_files, survey_file, survey_file_job,
                                     survey_value, survey_value_job)
from pipeline.runs import locked_in_process, process_tags
from pipeline.sensors import survey_inbox_sensor, survey_value_sensor

RUN_KEY_TAG = "dagster/run_key"


def survey_definitions(resources: dict[str, object] | None = None) -> dg.Definitions:
    return dg.Definitions(
        assets=[survey_file, survey_value, survey_demo_files],
        jobs=[survey_file_job, survey_value_job],
        sensors=[survey_inbox_sensor, survey_value_sensor],
        resources={"survey_settings": SurveySettings.from_env(), **(resources or {})},
        executor=locked_in_process,
    )


@dataclass
class InboxRun:
    files: dict[str, dg.ExecuteInProcessResult] = field(default_factory=dict)
    survey_value: dg.ExecuteInProcessResult | None = None

    @property
    def failed(self) -> list[str]:
        return [name for name, result in self.files.items() if not result.success]


def run_inbox(defs: dg.Definitions, instance: dg.DagsterInstance, *, demo_files: bool = True,
              settle_seconds: float | None = 0.0, refresh: bool = True) -> InboxRun:
    """Process the inbox now: add partitions, run each requested file, and (unless the
    caller builds everything next anyway) refresh the cells and what depends on them."""
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    if demo_files:
        job = dg.define_asset_job("_survey_demo", selection=[SURVEY_DEMO_KEY])
        demo = dg.Definitions.merge(defs, dg.Definitions(jobs=[job])).resolve_job_def("_survey_demo")
        demo.execute_in_process(instance=instance, run_config=quiet, tags=process_tags())
    resources = dict(defs.resources or {})
    if settle_seconds is not None:
        settings = resources.get("survey_settings") or SurveySettings.from_env()
        resources["survey_settings"] = SurveySettings(**{**settings.model_dump(),
                                                         "settle_seconds": settle_seconds})
    # Invoked directly the sensor returns its result as is; evaluate_tick would check the
    # partition keys before the partitions it asks for exist. (A context manager: the IO
    # manager among the resources holds the warehouse open while in use.)
    with dg.build_sensor_context(instance=instance, resources=resources) as context:
        result = survey_inbox_sensor(context)
    if isinstance(result, dg.SkipReason):
        result = dg.SensorResult(run_requests=[])
    for request in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(SURVEY_FILES.name, list(request.partition_keys))
    run = InboxRun()
    file_job = defs.resolve_job_def(survey_file_job.name)
    for request in result.run_requests or []:
        # The daemon skips a run key it has seen; so does this.
        seen = instance.get_runs(dg.RunsFilter(tags={RUN_KEY_TAG: request.run_key}), limit=1)
        if seen:
            continue
        run.files[request.partition_key] = file_job.execute_in_process(
            instance=instance, partition_key=request.partition_key, raise_on_error=False,
            run_config=quiet, tags={RUN_KEY_TAG: request.run_key, **process_tags()})
    # Like the refresh sensor: only a newly stored file changes the cells (a quarantined
    # file stores nothing, so the published snapshot stays as it was).
    if refresh and any(result.success for result in run.files.values()):
        run.survey_value = defs.resolve_job_def(survey_value_job.name).execute_in_process(
            instance=instance, raise_on_error=False, run_config=quiet, tags=process_tags())
    return run
