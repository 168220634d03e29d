"""Staging assets: geography memberships, population bands, harmonised kommun values."""

import dagster as dg
import polars as pl

from pipeline.factory import table_asset
from pipeline.resources import Paths
from sources.geography import GeographyError, membership, read_subregion_config, subregions
from transforms.harmonise import kommun_values
from transforms.peers import PEER_BANDS
from transforms.population import population_bands


def catalog_bands(catalog: pl.DataFrame) -> list[tuple[int | None, int | None]]:
    """The catalogue's population bands, and those the similar-kommun variables read."""
    bands = {(r["population_from"], r["population_to"])
             for r in catalog.select("population_from", "population_to").unique().iter_rows(named=True)}
    return sorted(bands | set(PEER_BANDS), key=lambda b: (b[0] is None, b))


def configured_subregions(paths: Paths, kommun: pl.DataFrame) -> pl.DataFrame:
    try:
        return subregions(kommun, read_subregion_config(paths.subregions_file, kommun))
    except GeographyError as err:
        raise dg.Failure(description=str(err), allow_retries=False) from err


@table_asset("area_membership", group="staging")
def area_membership(paths: Paths, kommun: pl.DataFrame) -> pl.DataFrame:
    """Vilka län, delregioner och riket varje kommun räknas in i. Delregioner
    (noder) konfigureras per län i data/catalog/subregions.yaml; län utan konfiguration får
    FA-regionerna som delregioner."""
    return membership(kommun, configured_subregions(paths, kommun))


@table_asset("population", group="staging")
def population(paths: Paths, scb_population: pl.DataFrame,
               indicator_catalog: pl.DataFrame) -> pl.DataFrame:
    """Befolkning per kommun, år, kön och de åldersgrupper katalogen och liknande kommuner
    behöver: nämnare för andelar och kvoter, vikter för län och riket."""
    totals = {t.total_age for t in paths.source_settings().scb.population_tables}
    return population_bands(scb_population, catalog_bands(indicator_catalog), totals)


@table_asset("kommun_value", group="staging")
def kommun_value(kolada_value: pl.DataFrame, indicator_catalog: pl.DataFrame,
                 kolada_kpi: pl.DataFrame, population: pl.DataFrame,
                 kommun: pl.DataFrame) -> pl.DataFrame:
    """Kommunernas värden, harmoniserade: status (ok, dold, saknas) med orsak, täljare och
    nämnare. Där Kolada bara ger ett värde härleds täljaren ur SCB:s befolkning för
    indikatorns åldersgrupp (markerat som ungefärligt). Har SCB ännu inte publicerat årets
    befolkning används den senast publicerade, och raden säger vilket år."""
    return kommun_values(kolada_value, indicator_catalog, kolada_kpi, population,
                         kommun["kommun_code"].to_list())
