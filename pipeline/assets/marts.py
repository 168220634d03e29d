"""Mart assets: what analysts and reports read (group `marts`)."""

import dagster as dg
import polars as pl

from pipeline.assets.staging import configured_subregions
from pipeline.factory import table_asset
from pipeline.resources import Paths
from sources.catalog import CatalogError, load_methods, load_peer_settings
from sources.geography import areas
from transforms.aggregate import aggregate_areas
from transforms.data_quality import flag_implausible, stale_indicators
from transforms.facts import build_facts, catalog_meta, indicator_groups
from transforms.funnel import FACT_COLUMNS as FUNNEL_FACT_COLUMNS
from transforms.funnel import funnel_limits
from transforms.peers import peer_groups, structure


def _catalog_file(load, path):
    try:
        return load(path)
    except CatalogError as err:
        raise dg.Failure(description=str(err), allow_retries=False) from err


@table_asset("area", group="marts")
def area(paths: Paths, kommun: pl.DataFrame) -> pl.DataFrame:
    """Alla redovisningsområden med namn: riket (00), 21 län, delregioner, 290 kommuner
    och ALLA, som står för alla svarande i en elevenkät."""
    lan = kommun.select("lan_code", "lan_name").unique().sort("lan_code")
    return areas(kommun, lan, configured_subregions(paths, kommun), with_survey_total=True)


@table_asset("indicator", group="marts")
def indicator(indicator_catalog: pl.DataFrame, kolada_kpi: pl.DataFrame) -> pl.DataFrame:
    """Indikatorerna: katalogens titel, definition, riktning, enhet och metod, och källans
    titel vid senaste hämtningen (Kolada byter ibland namn på nyckeltal)."""
    return (
        indicator_catalog.join(kolada_kpi.select(source_id="kpi_id", source_title="title"),
                               on="source_id", how="left")
        .with_columns(title_changed=pl.col("source_title").is_not_null()
                      & (pl.col("source_title") != pl.col("title")))
        .sort("indicator_id")
    )


@table_asset("kommun_structure", group="marts")
def kommun_structure(paths: Paths, kommun: pl.DataFrame, population: pl.DataFrame,
                     kolada_value: pl.DataFrame) -> pl.DataFrame:
    """Strukturvariabler per kommun (folkmängd, andel 0–19 år, täthet, ekonomisk utsatthet
    bland barn, utrikes födda barn), senaste år med uppgift: underlag för liknande
    kommuner enligt data/catalog/peers.yaml. Nyckeltalen hämtas från Kolada även om
    katalogen inte har dem."""
    settings = _catalog_file(load_peer_settings, paths.peers_file)
    return structure(settings, kommun, population, kolada_value)


@table_asset("peer_group", group="marts")
def peer_group(paths: Paths, kommun_structure: pl.DataFrame) -> pl.DataFrame:
    """Varje kommuns sju mest liknande kommuner, med avstånd på standardiserade
    strukturvariabler (viktat euklidiskt avstånd, vikterna i data/catalog/peers.yaml)."""
    return peer_groups(_catalog_file(load_peer_settings, paths.peers_file), kommun_structure)


@table_asset("fact_indicator", group="marts", chunked=True)
def fact_indicator(context: dg.AssetExecutionContext, kommun_value: pl.DataFrame,
                   area_membership: pl.DataFrame, indicator_catalog: pl.DataFrame,
                   population: pl.DataFrame, area: pl.DataFrame, peer_group: pl.DataFrame,
                   survey_value: pl.DataFrame, kolada_vintage: pl.DataFrame) -> pl.DataFrame:
    """Faktatabellen: ett värde per indikator, område (kommun, delregion, län, riket), år,
    kön och nedbrytning (även treårsperioder för sällsynta händelser), med täljare,
    nämnare, 95- och 99,8-procentiga konfidensintervall, status med orsak, jämförelser med
    län, riket, övriga länet och riket och liknande kommuner, rangordning och trend. Län,
    delregioner och riket räknas om som Σtäljare/Σnämnare. Elevenkäternas andelar ingår
    per årskurs och kön, jämförda med länet och alla svarande. En indikator vars senaste
    hämtning hade problem visar förra godkända värden, markerade som inaktuella (stale). Ett
    värde utanför indikatorns rimliga intervall (katalogen) visas med en fotnot (value_note)."""
    # A group of indicators at a time, each written as it is done (table_asset's `chunked`):
    # every step works within an indicator, and the whole table (over a GB for a catalogue
    # of a few hundred indicators) is never in memory.
    stale = stale_indicators(kolada_vintage, indicator_catalog)
    for group in indicator_groups(kommun_value, survey_value) or [[]]:
        wanted = pl.col("indicator_id").is_in(group)
        rows = kommun_value.filter(wanted)
        aggregates = aggregate_areas(rows, area_membership, indicator_catalog, population)
        facts = build_facts(rows, aggregates, indicator_catalog, area, context.run.run_id,
                            peer_group, survey_value.filter(wanted), stale)
        yield flag_implausible(facts, indicator_catalog)


@table_asset("funnel_limit", group="marts", columns={"fact_indicator": FUNNEL_FACT_COLUMNS},
             rows={"fact_indicator": {"status": "ok"}})
def funnel_limit(fact_indicator: pl.DataFrame, indicator_catalog: pl.DataFrame) -> pl.DataFrame:
    """Gränser för trattdiagram: 95 och 99,8 % runt rikets värde längs kommunernas nämnare,
    för varje indikator och år, även justerade för överspridning (Spiegelhalter)."""
    meta = catalog_meta(indicator_catalog).drop("unit", "polarity", "source_id")
    # Lazily joined: funnel_limits keeps only the rows it uses before the join is made.
    return funnel_limits(fact_indicator.lazy().join(meta.lazy(), on="indicator_id", how="inner"))


@table_asset("method", group="marts", kinds=("polars", "duckdb", "yaml"))
def method(paths: Paths) -> pl.DataFrame:
    """Metodtexter på svenska (data/catalog/methods.yaml) för rapporternas metodbilaga och
    för den som frågar databasen."""
    return _catalog_file(load_methods, paths.methods_file)
