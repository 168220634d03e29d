"""The nightly run: ask the sources what changed since the published build, build only then.

`probe` is what the 03:30 schedule evaluates (and `python -m pipeline nightly` runs): a
handful of requests — Kolada's KPI list (publication dates, titles), Kolada's data routes
with `from_date` (changes since the last check), SCB's `/tables/{id}` (`updated`) — plus
the code and catalogue versions against those the snapshot was published with. A night
without changes launches no run, so nothing is rewritten; a night with changes launches
`build_all` tagged `uppvaxt/refresh=incremental`, which fetches only what changed.

The run-status sensors end every build's event log with the same summary the command line
prints (pipeline/summary.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import dagster as dg

from pipeline.assets.sources import _demo_world, _years
from pipeline.assets.surveys import SurveySettings
from pipeline.publication import catalog_version, code_version
from pipeline.resources import Paths, StatisticsApis
from pipeline.summary import SNAPSHOT_KEY, post, summarise
from pipeline.warehouse import published_run
from sources.build_record import RecordError, read_record
from sources.catalog import CatalogError, load_indicators, load_peer_settings
from sources.health_economics_catalog import health_kpis
from sources.http import ApiError
from sources.kolada_refresh import no_data_yet, plan_incremental, previous_rows
from sources.scb_refresh import tables_changed


# KPIs that never had values are part of every night's question what changed; once a
# week (Sunday nights) they are also asked in full, in case a source's change dates miss them.
RECHECK_WEEKDAY = 6


@dataclass
class Changes:
    """Why a night needs a build (empty: it does not)."""

    reasons: list[str] = field(default_factory=list)
    published_run: str | None = None
    refetch: list[str] = field(default_factory=list)  # KPIs without values that now have some

    @property
    def anything(self) -> bool:
        return bool(self.reasons)

    def text(self) -> str:
        if not self.reasons:
            return (f"Inget har ändrats hos Kolada eller SCB, i koden eller i katalogen sedan "
                    f"publiceringen {self.published_run}; inget byggs om.")
        return "Ändrat: " + "; ".join(self.reasons)


def wanted_kpis(paths: Paths) -> list[str]:
    kpis = {i.source_id for i in load_indicators(paths.indicators_file) if i.source == "kolada"}
    return sorted(kpis | set(load_peer_settings(paths.peers_file).kpis) | set(health_kpis(paths.catalog)))


def probe(paths: Paths, apis: StatisticsApis, today: date | None = None) -> Changes:
    """What changed since the published build (a few requests; no data are fetched, but on
    Sunday nights the KPIs that had no values are asked once in full)."""
    run = published_run(paths.published)
    if run is None:
        return Changes(["ingen databas har publicerats ännu"])
    changes = Changes(published_run=run["run_id"])
    try:
        record = read_record(paths.raw, run["run_id"])
    except RecordError as err:
        return Changes([f"förra publiceringens förteckning saknas ({err})"], run["run_id"])
    if apis.is_replay:
        return Changes(["omspelning begärd"], run["run_id"])
    if run.get("code_version") != code_version():
        changes.reasons.append("koden har ändrats")
    if run.get("catalog_version") != catalog_version(paths.catalog):
        changes.reasons.append("katalogen har ändrats")
    if run.get("data_mode") != apis.mode:
        changes.reasons.append(f"datakällan har bytts ({run.get('data_mode')} → {apis.mode})")
    if changes.anything:
        return changes
    try:
        settings = paths.source_settings()
        world = _demo_world(paths)
        kolada = apis.kolada(settings, paths.raw_store(), world)
        previous, years = previous_rows(record.get("kolada")), _years(paths, apis)
        wanted = wanted_kpis(paths)
        recheck: set[str] = set()
        if (today or date.today()).weekday() == RECHECK_WEEKDAY:
            empty = sorted(k for k in wanted if no_data_yet(previous.get(k)))
            recheck = kolada.changed(empty, years, None) if empty else set()
        plan = plan_incremental(kolada, previous, wanted, years, recheck)
        changes.refetch = sorted(recheck & plan.refetch)
        for kpi in sorted(plan.refetch):
            changes.reasons.append(f"Kolada {kpi}: {plan.reasons[kpi]}")
        for kpi in sorted(plan.metadata_changed - plan.refetch):
            changes.reasons.append(f"Kolada {kpi}: metadata ändrade")
        scb = apis.scb(settings, paths.raw_store(), world)
        previous_scb = {row["table_id"]: row for row in record.get("scb") or []}
        used = [t for t in settings.scb.population_tables if t.table in previous_scb]
        for table, stamp in tables_changed(scb, used, previous_scb).items():
            changes.reasons.append(f"SCB {table}: uppdaterad {stamp}")
    except (ApiError, CatalogError) as err:
        # Let the run try and report: a failed run is visible, a skipped tick is easy to miss.
        changes.reasons.append(f"kontrollen av källorna misslyckades ({err})")
    return changes


def summary_sensor_targets() -> list[str]:
    return ["build_all", "survey_value_job", "register_job"]


def wants_summary(run: dg.DagsterRun) -> bool:
    """The jobs that end in a publication, and any run from the UI that publishes."""
    return run.job_name in summary_sensor_targets() or SNAPSHOT_KEY in (run.asset_selection or set())


def _post_summary(context: dg.RunStatusSensorContext, paths: Paths) -> None:
    inbox = SurveySettings.from_env().inbox(paths)
    run = context.dagster_run
    summary = summarise(context.instance, run.run_id, paths.published, inbox,
                        accept_file=paths.accept_file)
    post(context.instance, run.run_id, summary)


@dg.run_status_sensor(run_status=dg.DagsterRunStatus.SUCCESS, monitor_all_code_locations=False,
                      name="run_summary_on_success", default_status=dg.DefaultSensorStatus.RUNNING,
                      description="Avslutar varje lyckat bygge med en sammanfattning: publicerat "
                                  "eller inte, indikatorer som saknas eller är inaktuella och varför, "
                                  "spärrade nivåskiften och enkätfiler i karantän.")
def run_summary_on_success(context: dg.RunStatusSensorContext, paths: Paths):
    if wants_summary(context.dagster_run):
        _post_summary(context, paths)


@dg.run_failure_sensor(name="run_summary_on_failure", default_status=dg.DefaultSensorStatus.RUNNING,
                       description="Avslutar varje misslyckat bygge med en sammanfattning: vad som "
                                   "gick fel och att den publicerade databasen är orörd.")
def run_summary_on_failure(context: dg.RunFailureSensorContext, paths: Paths):
    if wants_summary(context.dagster_run):
        _post_summary(context, paths)
