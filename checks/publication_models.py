"""pandera models of the publication history (meta.publication_history, publication_change,
decision_history) and of the warehouse's own build record (meta.table_build).

The history tables are written by the publication step, not by table assets, and kept
across builds; their Swedish descriptions become COMMENT ON text like every other model's.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from checks.models import AREA_TYPES, COMPARISONS, SEX, STATUS, TRENDS
from checks.codes import DATA_MODE
from transforms.changes import (CHANGE_SCHEMA, DECISION_KINDS, DECISION_SCHEMA,
                                HISTORY_SCHEMA)

ISO_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"
CHANGE_KEY = ["run_id", "indicator_id", "area_code", "period", "sex", "breakdown"]


def _count(text: str):
    return pa.Field(ge=0, description=text)


class PublicationHistory(pa.DataFrameModel):
    """En rad per publicering, äldst först."""

    run_id: pl.String = pa.Field(unique=True, description="Körningen som publicerade")
    previous_run_id: pl.String = pa.Field(nullable=True, description="Publiceringen före (tomt för den första)")
    published_at: pl.String = pa.Field(str_matches=ISO_TIME, description="När (UTC, ÅÅÅÅ-MM-DDTHH:MM:SSZ)")
    data_label: pl.String = pa.Field(description="Datats märkning, t.ex. Demodata – syntetiska värden")
    data_mode: pl.String = pa.Field(isin=list(DATA_MODE), description="demo, live eller replay")
    fingerprint: pl.String = pa.Field(description="Fingeravtryck av de publicerade tabellernas innehåll")
    code_version: pl.String = pa.Field(description="Kodversionen tabellerna byggdes med")
    catalog_version: pl.String = pa.Field(description="Katalogversionen tabellerna byggdes med")
    n_values: pl.Int64 = _count("Rader i marts.fact_indicator")
    n_new: pl.Int64 = _count("Nya värden (nyckeln fanns inte förra gången), t.ex. ett nytt år")
    n_revised: pl.Int64 = _count("Reviderade värden")
    n_removed: pl.Int64 = _count("Värden som inte längre finns")
    n_status_changed: pl.Int64 = _count("Värden med ändrad status")
    n_comparison_changed: pl.Int64 = _count("Värden med ändrad jämförelse med länet eller riket")
    n_trend_changed: pl.Int64 = _count("Värden med ändrad trend")
    kpi_states: pl.String = pa.Field(description="Per indikator: tillstånd (ok, stale, blocked, "
                                                 "unavailable) och när värdena hämtades (JSON)")

    class Config:
        strict = True
        description = ("Publiceringshistorik: en rad per publicering med tid, datamärkning, "
                       "fingeravtryck, varje indikators tillstånd och antal ändrade värden.")


class PublicationChange(pa.DataFrameModel):
    """Värden som skiljer sig från förra publiceringen."""

    run_id: pl.String = pa.Field(description="Publiceringen")
    previous_run_id: pl.String = pa.Field(description="Publiceringen den jämförs med")
    indicator_id: pl.String = pa.Field(description="Indikatorns id (se marts.indicator)")
    area_code: pl.String = pa.Field(description="Områdeskod (se marts.area)")
    area_type: pl.String = pa.Field(isin=AREA_TYPES, description="kommun, lan, riket, subregion eller total")
    period: pl.Int64 = pa.Field(description="År")
    sex: pl.String = pa.Field(isin=SEX, description="T = totalt, K = kvinnor/flickor, M = män/pojkar")
    breakdown: pl.String = pa.Field(description="Nedbrytning (se marts.label)")
    is_new: pl.Boolean = pa.Field(description="Nytt: fanns inte i förra publiceringen (t.ex. ett nytt år)")
    is_removed: pl.Boolean = pa.Field(description="Borttaget: finns inte längre")
    value_revised: pl.Boolean = pa.Field(description="Värdet har ändrats (mer än avrundningsbrus)")
    beyond_interval: pl.Boolean = pa.Field(
        nullable=True, description="Det nya värdet ligger utanför det gamla 95-procentiga "
                                   "intervallet, eller det gamla utanför det nya (tomt utan intervall)")
    status_changed: pl.Boolean = pa.Field(description="Statusen har ändrats")
    comparison_changed: pl.Boolean = pa.Field(description="Jämförelsen med länet eller riket har ändrats")
    trend_changed: pl.Boolean = pa.Field(description="Trenden har ändrats")
    old_value: pl.Float64 = pa.Field(nullable=True, description="Värdet förra gången")
    new_value: pl.Float64 = pa.Field(nullable=True, description="Värdet nu")
    old_lower_95: pl.Float64 = pa.Field(nullable=True, description="Nedre gräns, 95 %, förra gången")
    old_upper_95: pl.Float64 = pa.Field(nullable=True, description="Övre gräns, 95 %, förra gången")
    new_lower_95: pl.Float64 = pa.Field(nullable=True, description="Nedre gräns, 95 %, nu")
    new_upper_95: pl.Float64 = pa.Field(nullable=True, description="Övre gräns, 95 %, nu")
    old_status: pl.String = pa.Field(nullable=True, isin=STATUS, description="Status förra gången")
    new_status: pl.String = pa.Field(nullable=True, isin=STATUS, description="Status nu")
    old_compared_to_lan: pl.String = pa.Field(nullable=True, isin=COMPARISONS, description="Jämfört med länet förra gången")
    new_compared_to_lan: pl.String = pa.Field(nullable=True, isin=COMPARISONS, description="Jämfört med länet nu")
    old_compared_to_riket: pl.String = pa.Field(nullable=True, isin=COMPARISONS, description="Jämfört med riket förra gången")
    new_compared_to_riket: pl.String = pa.Field(nullable=True, isin=COMPARISONS, description="Jämfört med riket nu")
    old_trend: pl.String = pa.Field(nullable=True, isin=TRENDS, description="Trend förra gången")
    new_trend: pl.String = pa.Field(nullable=True, isin=TRENDS, description="Trend nu")

    class Config:
        strict = True
        description = ("Ändringar mot förra publiceringen: en rad per indikator, område, år, kön "
                       "och nedbrytning som är ny, borttagen eller har ändrat värde, status, "
                       "jämförelse eller trend. Se vyn marts.v_andringar.")
        unique = CHANGE_KEY


class DecisionHistory(pa.DataFrameModel):
    """Små beslutslägen per publicering."""

    run_id: pl.String = pa.Field(description="Publiceringen")
    kind: pl.String = pa.Field(isin=list(DECISION_KINDS),
                               description="goal_status (målets senaste status), watch_list "
                                           "(på bevakningslistan), need_level (behovsnivå 1–5)")
    area_code: pl.String = pa.Field(description="Område")
    item_id: pl.String = pa.Field(description="Målets id, indikatorns id (tomt: kommunen som "
                                              "helhet) eller faktorn")
    state: pl.String = pa.Field(description="Läget vid publiceringen: statuskod, on eller nivå")

    class Config:
        strict = True
        description = ("Beslutslägen per publicering (målstatus, bevakningslista, behovsnivå), så "
                       "att det som tillkommit, försvunnit eller ändrats mellan två "
                       "publiceringar kan visas.")
        unique = ["run_id", "kind", "area_code", "item_id"]


class TableBuild(pa.DataFrameModel):
    """Lagrets egen byggbok: vilken version av varje tabell som finns och vad den byggdes av."""

    table_name: pl.String = pa.Field(unique=True, str_matches=r"^[a-z_]+\.[a-z0-9_]+$",
                                     description="Tabellen (schema.tabell)")
    version: pl.String = pa.Field(description="Fingeravtryck av tabellens innehåll")
    inputs: pl.String = pa.Field(description="Indatatabellernas versioner när tabellen byggdes (JSON)")
    code_version: pl.String = pa.Field(description="Kodversionen tabellen byggdes med")
    catalog_version: pl.String = pa.Field(description="Katalogversionen tabellen byggdes med")
    run_id: pl.String = pa.Field(nullable=True, description="Körningen som byggde tabellen")
    built_at: pl.String = pa.Field(str_matches=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$",
                                   description="När (UTC, på mikrosekunden)")

    class Config:
        strict = True
        description = ("Byggbok för lagret (publiceras inte): varje tabells version och de "
                       "versioner av indata den byggdes av, så att en publicering kan vägras "
                       "när tabellerna inte bygger på samma indata.")


HISTORY_MODELS = {"meta.publication_history": PublicationHistory,
                  "meta.publication_change": PublicationChange,
                  "meta.decision_history": DecisionHistory}
HISTORY_SCHEMAS = {"meta.publication_history": HISTORY_SCHEMA,
                   "meta.publication_change": CHANGE_SCHEMA,
                   "meta.decision_history": DECISION_SCHEMA}
