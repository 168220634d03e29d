"""Mart assets: what analysts and reports read (group `marts`)."""

import dagster as dg
import polars as pl

from pipeline.assets.staging import configured_subregions
from pipeline.factory import table_asset
from pipeline.resources import Paths
from sources.geography import areas
from transforms.aggregate import aggregate_areas
from transforms.facts import build_facts


@table_asset("area", group="marts")
def area(paths: Paths, kommun: pl.DataFrame) -> pl.DataFrame:
    """Alla redovisningsområden med namn: riket (00), 21 län, delregioner och 290
    kommuner."""
    lan = kommun.select("lan_code", "lan_name").unique().sort("lan_code")
    return areas(kommun, lan, configured_subregions(paths, kommun))


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


@table_asset("fact_indicator", group="marts")
def fact_indicator(context: dg.AssetExecutionContext, kommun_value: pl.DataFrame,
                   area_membership: pl.DataFrame, indicator_catalog: pl.DataFrame,
                   population: pl.DataFrame, area: pl.DataFrame) -> pl.DataFrame:
    """Faktatabellen: ett värde per indikator, område (kommun, delregion, län, riket), år
    och kön, med täljare, nämnare, 95- och 99,8-procentiga konfidensintervall, status med
    orsak och jämförelse med län och riket. Län, delregioner och riket räknas om som
    Σtäljare/Σnämnare."""
    aggregates = aggregate_areas(kommun_value, area_membership, indicator_catalog, population)
    return build_facts(kommun_value, aggregates, indicator_catalog, area, context.run.run_id)
