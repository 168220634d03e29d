"""meta.data_quality: which indicators could not be updated this build, why, since when.

Built from the source vintage (one row per Kolada KPI with its state and problem) and the
catalogue: one row per catalogue indicator and problem, and one per KPI that only serves the
similar-municipality groups. `first_seen` carries over from the previously published table
while the same problem persists.
"""

from __future__ import annotations

import polars as pl

# The codes of meta.data_quality and the source vintages with their Swedish labels: one
# dictionary for the table models, marts.label, the site and the run summary.
QUALITY_STATE = {"stale": "Äldre värden", "unavailable": "Inte tillgänglig",
                 "blocked": "Stoppad av kontroll"}
QUALITY_STATE_DESCRIPTION = {
    "stale": "De senast godkända värdena visas, markerade som äldre; nya kunde inte hämtas.",
    "unavailable": "Inga värden finns att visa.",
    "blocked": "Nya värden stoppades av en kontroll (nivåskifte eller ny enhet); de senast "
               "godkända värdena visas.",
}
VINTAGE_STATE = {"fresh": "Nyhämtat och godkänt", "kept": "Oförändrat sedan förra bygget",
                 **QUALITY_STATE}
DATA_PROBLEM = {
    "unknown_id": "Okänt id hos källan",
    "no_data": "Inga värden från källan",
    "bad_response": "Källans svar gick inte att läsa",
    "fetch_failed": "Hämtningen misslyckades",
    "failed_check": "Klarade inte kontrollen",
    "drift": "Nivåskifte mot förra versionen",
    "unit_changed": "Ny enhet eller skala hos källan",
}
USED_FOR = {"indicator": "Indikator", "peers": "Liknande kommuner",
            "indicator_and_peers": "Indikator och liknande kommuner",
            "health_economics": "Hälsoekonomi (kostnader och volymer)"}

SCHEMA = {
    "indicator_id": pl.String, "source_id": pl.String, "problem": pl.String,
    "message": pl.String, "first_seen": pl.String, "last_seen": pl.String,
    "state": pl.String, "values_from": pl.String, "used_for": pl.String,
}
KEY = ["indicator_id", "problem"]


def _kolada_indicators(catalog: pl.DataFrame) -> pl.DataFrame:
    return catalog.filter(pl.col("source") == "kolada").select("indicator_id", kpi_id="source_id")


def data_quality(vintage: pl.DataFrame, catalog: pl.DataFrame, previous: pl.DataFrame | None,
                 today: str, health_kpis: frozenset[str] = frozenset()) -> pl.DataFrame:
    """Rows for every KPI with a problem; `previous` is the last published table (or None);
    `health_kpis` are fetched for marts.late_cost, not for an indicator."""
    problems = vintage.filter(pl.col("problem").is_not_null()).select(
        "kpi_id", "problem", "message", "state", "peer_variable", values_from=pl.col("fetched_at").str.slice(0, 10))
    linked = problems.join(_kolada_indicators(catalog), on="kpi_id", how="left")
    rows = linked.select(
        indicator_id=pl.coalesce("indicator_id", "kpi_id"),
        source_id=pl.format("kolada:{}", pl.col("kpi_id")),
        problem="problem", message="message",
        state="state",
        values_from=pl.when(pl.col("state") != "unavailable").then("values_from"),
        used_for=pl.when(pl.col("indicator_id").is_null() & pl.col("kpi_id").is_in(sorted(health_kpis)))
        .then(pl.lit("health_economics"))
        .when(pl.col("indicator_id").is_null()).then(pl.lit("peers"))
        .when(pl.col("peer_variable")).then(pl.lit("indicator_and_peers"))
        .otherwise(pl.lit("indicator")),
    )
    seen = (previous.select(*KEY, "first_seen") if previous is not None and previous.height
            else pl.DataFrame(schema={"indicator_id": pl.String, "problem": pl.String,
                                      "first_seen": pl.String}))
    return (rows.join(seen, on=KEY, how="left")
            .with_columns(first_seen=pl.col("first_seen").fill_null(today), last_seen=pl.lit(today))
            .select(list(SCHEMA)).cast(SCHEMA).sort(KEY))


def stale_indicators(vintage: pl.DataFrame, catalog: pl.DataFrame) -> pl.DataFrame:
    """Catalogue indicators whose shown values are kept from an earlier vintage, with the
    reason for their fact rows: indicator_id, stale_reason."""
    kept = vintage.filter(pl.col("state").is_in(["stale", "blocked"]))
    return (kept.join(_kolada_indicators(catalog), on="kpi_id", how="inner")
            .select("indicator_id", stale_reason=pl.format(
                "inaktuellt: värden från {} behålls ({}; se Datakvalitet)",
                pl.col("fetched_at").str.slice(0, 10),
                pl.col("problem").replace_strict(DATA_PROBLEM, default=pl.col("problem")).str.to_lowercase()))
            .sort("indicator_id"))
