"""pandera model for the survey cells the pipeline may publish (staging.survey_value).

Row-level survey data have no table and no model: they stay in data/private/surveys/.
This table holds only aggregated, disclosure-controlled cells.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from checks.models import KOMMUN_CODE, LAN_CODE, SEX, _rows
from sources.surveys.releases import CHANGE
from transforms.survey_codebook import MIN_RESPONDENTS, PUBLIC_REASON


class SurveyValue(pa.DataFrameModel):
    """Andelar med risk- och skyddsfaktorer ur elevenkäter, per kommun, län och alla svarande."""

    indicator_id: pl.String = pa.Field(str_matches=r"^[A-Za-z0-9_]+$",
                                       description="Indikatorns id: kodbok_skala_gräns")
    area_code: pl.String = pa.Field(description="Kommunkod (4 siffror), länskod (2 siffror) eller ALLA")
    area_type: pl.String = pa.Field(isin=["kommun", "lan", "total"],
                                    description="kommun, lan eller total (alla svarande i enkäten)")
    period: pl.Int32 = pa.Field(in_range={"min_value": 1990, "max_value": 2100},
                                description="Enkätår")
    sex: pl.String = pa.Field(isin=SEX,
                              description="T = alla (även de som inte angett kön), K = flickor, M = pojkar")
    breakdown: pl.String = pa.Field(description="Årskurs (t.ex. ak9, gy2) eller all för alla årskurser")
    numerator: pl.Float64 = pa.Field(nullable=True, ge=0,
                                     description="Antal svarande med risk eller skydd; i en enkät med vikter "
                                                 "ett vägt antal (den vägda andelen × antal svarande), som inte "
                                                 "behöver vara ett heltal eller summera över kön och årskurser")
    denominator: pl.Float64 = pa.Field(nullable=True, ge=MIN_RESPONDENTS,
                                       description="Antal svarande med giltigt värde på skalan")
    value: pl.Float64 = pa.Field(nullable=True, in_range={"min_value": 0, "max_value": 100},
                                 description="Andel i procent; tom när cellen är dold")
    effective_n: pl.Float64 = pa.Field(nullable=True, ge=0,
                                       description="Effektivt antal svarande för en vägd andel (Kish: "
                                                   "(Σvikt)² / Σvikt²), som konfidensintervallet bygger på; "
                                                   "tom för enkäter utan vikter och för dolda celler")
    status: pl.String = pa.Field(isin=["ok", "suppressed"], description="ok eller suppressed (dold)")
    status_reason: pl.String = pa.Field(nullable=True, isin=[PUBLIC_REASON],
                                        description="Samma skäl för varje dold cell (dold av röjandeskäl)")
    survey_id: pl.String = pa.Field(description="Kodbokens id (enkät och upplägg)")
    source_title: pl.String = pa.Field(description="Källa: enkät och omgång (och version om omgången har ändrats)")
    fetched_at: pl.String = pa.Field(description="När filen lästes in (UTC)")

    class Config:
        strict = True
        description = ("Elevenkäter: andel svarande med förhöjd risk, hög risk eller högt skydd "
                       "per kommun, län och alla svarande, år, kön och årskurs, på hela rutnätet av "
                       f"kommuner och årskurser som enkäten täcker. Celler med färre än {MIN_RESPONDENTS} "
                       "svarande, andelar 0 % eller 100 % i små grupper och celler som annars kunde "
                       "ringas in ur summorna är dolda, alla med samma skäl.")
        unique = ["indicator_id", "area_code", "period", "sex", "breakdown"]

    @pa.dataframe_check
    def hidden_is_never_zero(cls, data: PolarsData) -> pl.LazyFrame:
        shown = pl.col("status") == "ok"
        return _rows(data, pl.all_horizontal([pl.col(c).is_not_null() == shown
                                              for c in ("numerator", "denominator", "value")])
                     & (shown | pl.col("effective_n").is_null()))

    @pa.dataframe_check
    def reason_for_every_hidden_cell(cls, data: PolarsData) -> pl.LazyFrame:
        return _rows(data, (pl.col("status") == "ok") == pl.col("status_reason").is_null())

    @pa.dataframe_check
    def numerator_within_denominator(cls, data: PolarsData) -> pl.LazyFrame:
        return _rows(data, pl.col("numerator").is_null()
                     | (pl.col("numerator") <= pl.col("denominator") + 1e-9))

    @pa.dataframe_check
    def code_matches_type(cls, data: PolarsData) -> pl.LazyFrame:
        code, kind = pl.col("area_code"), pl.col("area_type")
        return _rows(data, pl.when(kind == "kommun").then(code.str.contains(KOMMUN_CODE))
                     .when(kind == "lan").then(code.str.contains(LAN_CODE))
                     .otherwise(code == "ALLA"))


class SurveyRelease(pa.DataFrameModel):
    """Varje publicerad version av en enkätomgång per skala: vad som ändrades och vad skyddet kostade."""

    survey_id: pl.String = pa.Field(description="Kodbokens id (enkät och upplägg)")
    period: pl.Int32 = pa.Field(in_range={"min_value": 1990, "max_value": 2100}, description="Enkätår")
    version: pl.Int32 = pa.Field(ge=1, description="Version av omgången: 1 är den först publicerade, "
                                                   "sedan en ny för varje komplettering, rättelse eller "
                                                   "tillbakadragen fil")
    scale: pl.String = pa.Field(description="Skalan (alla gränser på en skala döljer samma celler)")
    change: pl.String = pa.Field(isin=list(CHANGE), description="Vad versionen ändrade.")
    cells: pl.Int64 = pa.Field(ge=0, description="Celler (rader) i omgångens rutnät för skalan: "
                                                 "kommuner, län och alla svarande × kön × årskurs × gräns")
    cells_shown: pl.Int64 = pa.Field(ge=0, description="Celler som visas (resten är dolda av röjandeskäl)")
    pupils_covered: pl.Int64 = pa.Field(ge=0, description="Svarande i de kommuner vars totala "
                                                             "antal (båda könen, alla årskurser) visas")
    pinned: pl.Int64 = pa.Field(ge=0, description="Dolda värden (antal svarande eller antal med risk "
                                                  "eller skydd) som går att räkna fram exakt ur de "
                                                  "publicerade summorna, också med tidigare versioner "
                                                  "kända; skyddet håller det på 0")
    narrowed: pl.Int64 = pa.Field(ge=0, description="Dolda värden som går att ringa in till ett "
                                                    "spann på högst två svarande (t.ex. 0–1 eller 0–2); "
                                                    "skyddet håller det på 0")
    current: pl.Boolean = pa.Field(description="Sant för den version som publiceras nu")

    class Config:
        strict = True
        description = ("Enkätomgångarnas versioner: per publicerad version och skala vad som ändrades, "
                       "hur många celler som visas och hur många svarande de täcker, och vad en "
                       "angripare kan räkna fram ur de publicerade summorna (ska vara 0). Antalet "
                       "celler som regeln om små grupper döljer och vilka kommuner en ändring gällde "
                       "publiceras inte: de kunde avslöja var en sen svarande hamnade.")
        unique = ["survey_id", "period", "version", "scale"]
