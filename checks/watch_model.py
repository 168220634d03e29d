"""pandera model of marts.watch_list (the rule: transforms/watch.py)."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from transforms.watch import STRATEGIC, WATCH_REASON

FACTORS = [*STRATEGIC, "none"]


class WatchList(pa.DataFrameModel):
    """Bevakningslistan: kommuner med minst en signal, en rad per kommun och signal."""

    lan_code: pl.String = pa.Field(str_matches=r"^\d{2}$", description="Länskod")
    area_code: pl.String = pa.Field(str_matches=r"^\d{4}$", description="Kommunkod")
    indicator_id: pl.String = pa.Field(nullable=True, description=(
        "Indikatorn signalen gäller; tom när signalen gäller en hel strategisk faktor (flera sämre)"))
    strategic_factor: pl.String = pa.Field(isin=FACTORS, description="Strategisk faktor (se marts.label)")
    reason_code: pl.String = pa.Field(isin=list(WATCH_REASON), description=(
        "Signal: red_red = säkert sämre än riket och säkert försämrad trend på en indikator; "
        "many_worse = säkert sämre än riket på minst 3 indikatorer och 40 % av en faktors "
        "jämförda; worsening = säkert försämrad trend de senaste fem åren"))
    reason: pl.String = pa.Field(description="Skälet i klartext")
    period: pl.Int32 = pa.Field(nullable=True, description="År för indikatorns värde (tomt för flera sämre)")
    n_worse: pl.Int32 = pa.Field(nullable=True, ge=0, description="Flera sämre: antal indikatorer säkert sämre än riket")
    n_compared: pl.Int32 = pa.Field(nullable=True, ge=0, description="Flera sämre: antal indikatorer jämförda med riket")

    class Config:
        strict = True
        description = ("Bevakningslistan per län: kommuner med en signal om att titta närmare "
                       "(rött–rött, flera sämre, försämras), samma regel som webbplatsen.")

    @pa.dataframe_check
    def one_row_per_signal(cls, data: PolarsData) -> pl.LazyFrame:
        key = ["area_code", "reason_code", "strategic_factor", "indicator_id"]
        return data.lazyframe.select(~pl.struct(key).is_duplicated())

    @pa.dataframe_check
    def indicator_unless_factor(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select((pl.col("reason_code") == "many_worse")
                                     == pl.col("indicator_id").is_null())
