"""marts.watch_list: the county's watch list as a table (group `marts`)."""

import polars as pl

from pipeline.factory import table_asset
from transforms.watch import watch_list as watch_rule

FACT_COLUMNS = ["indicator_id", "area_code", "area_type", "period", "sex", "breakdown", "status",
                "compared_to_riket", "trend", "red_red"]


@table_asset("watch_list", group="marts", columns={"fact_indicator": FACT_COLUMNS})
def watch_list(fact_indicator: pl.DataFrame, indicator: pl.DataFrame, area: pl.DataFrame) -> pl.DataFrame:
    """Bevakningslistan: kommuner som länet bör titta närmare på, en rad per kommun och
    signal med skälet i klartext. Rött–rött (säkert sämre än riket och säkert försämrad
    trend), flera sämre (säkert sämre än riket på minst tre indikatorer och 40 % av en
    strategisk faktors jämförda) och försämras (säkert försämrad trend de senaste fem
    åren), senaste år per indikator. Samma regel som länssidornas lista."""
    return watch_rule(fact_indicator, indicator, area)
