"""meta.data_quality: which indicators could not be updated this build, why, since when,
and which values lie outside their indicator's plausible range.

Built from the source vintage (one row per Kolada KPI with its state and problem) and the
catalogue: one row per catalogue indicator and problem, and one per KPI that only serves the
similar-municipality groups. `first_seen` carries over from the previously published table
while the same problem persists. A value outside the catalogue's plausible range costs
nothing: it is published with a footnote (`flag_implausible`) and its indicator gets one
`out_of_range` row, state `flagged`.
"""

from __future__ import annotations

import polars as pl

# The codes of meta.data_quality and the source vintages with their Swedish labels: one
# dictionary for the table models, marts.label, the site and the run summary.
QUALITY_STATE = {"stale": "Äldre värden", "unavailable": "Inte tillgänglig",
                 "blocked": "Stoppad av kontroll", "flagged": "Enstaka värden att granska"}
QUALITY_STATE_DESCRIPTION = {
    "stale": "De senast godkända värdena visas, markerade som äldre; nya kunde inte hämtas.",
    "unavailable": "Inga värden finns att visa.",
    "blocked": "Nya värden stoppades av en kontroll (nivåskifte eller ny enhet); de senast "
               "godkända värdena visas.",
    "flagged": "Indikatorn är aktuell; enstaka värden ligger utanför det rimliga intervallet "
               "och visas med en fotnot.",
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
    "out_of_range": "Värden utanför det rimliga intervallet",
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
    return _dated(rows, previous, today)


def _dated(rows: pl.DataFrame, previous: pl.DataFrame | None, today: str) -> pl.DataFrame:
    """Rows with first_seen (kept from `previous` while the same problem persists) and last_seen."""
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


# How a value's footnote begins when it lies outside its indicator's plausible range.
RANGE_NOTE = "Värdet ligger utanför det rimliga intervallet"


def _number(x: float) -> str:
    text = f"{x:,.1f}".rstrip("0").rstrip(".").replace(",", "\u00a0").replace(".", ",")
    return text


def range_text(low: float | None, high: float | None, unit: str) -> str:
    """'0–100 %', 'minst 0 per 1 000 invånare' (the catalogue's unit after the numbers)."""
    if low is not None and high is not None:
        return f"{_number(low)}–{_number(high)} {unit}"
    return f"minst {_number(low)} {unit}" if low is not None else f"högst {_number(high)} {unit}"


def implausible(facts: pl.DataFrame, catalog: pl.DataFrame) -> pl.DataFrame:
    """Shown values (status ok) outside their indicator's plausible range, with the range:
    the fact columns plus plausible_min, plausible_max, plausible_note, unit_text."""
    ranges = catalog.select("indicator_id", "plausible_min", "plausible_max", "plausible_note",
                            unit_text="unit")
    value, low, high = pl.col("value"), pl.col("plausible_min"), pl.col("plausible_max")
    return (facts.join(ranges, on="indicator_id", how="inner")
            .filter((pl.col("status") == "ok") & value.is_not_null()
                    & ((low.is_not_null() & (value < low)) | (high.is_not_null() & (value > high)))))


def footnotes(catalog: pl.DataFrame) -> pl.DataFrame:
    """Per indicator with a range: the footnote a value outside it carries."""
    rows = []
    for row in catalog.iter_rows(named=True):
        if row["plausible_min"] is None and row["plausible_max"] is None:
            continue
        note = f"{RANGE_NOTE} {range_text(row['plausible_min'], row['plausible_max'], row['unit'])}."
        rows.append({"indicator_id": row["indicator_id"],
                     "range_note": f"{note} {row['plausible_note']}" if row["plausible_note"] else note})
    return pl.DataFrame(rows, schema={"indicator_id": pl.String, "range_note": pl.String})


def flag_implausible(facts: pl.DataFrame, catalog: pl.DataFrame) -> pl.DataFrame:
    """Facts with a footnote (value_note) on every shown value outside its plausible range."""
    outside = (implausible(facts, catalog).select("indicator_id", "area_code", "period", "sex",
                                                   "breakdown")
               .join(footnotes(catalog), on="indicator_id", how="inner"))
    if outside.is_empty():
        return facts
    keys = ["indicator_id", "area_code", "period", "sex", "breakdown"]
    return (facts.join(outside, on=keys, how="left", maintain_order="left")
            .with_columns(value_note=pl.concat_str(["value_note", "range_note"], separator=" ",
                                                   ignore_nulls=True).replace("", None))
            .drop("range_note"))


def range_problems(facts: pl.DataFrame, catalog: pl.DataFrame, previous: pl.DataFrame | None,
                   today: str) -> pl.DataFrame:
    """One meta.data_quality row (problem out_of_range, state flagged) per indicator with
    values outside its plausible range: how many, the most extreme, and why it may be real."""
    outside = implausible(facts, catalog)
    if outside.is_empty():
        return pl.DataFrame(schema=SCHEMA)
    rows = []
    for (indicator,), group in sorted(outside.partition_by("indicator_id", as_dict=True).items()):
        first = group.row(0, named=True)
        middle = ((first["plausible_min"] or 0) + (first["plausible_max"] or 0)) / 2
        worst = group.sort((pl.col("value") - middle).abs(), "area_code", "period",
                           descending=[True, False, False]).row(0, named=True)
        message = (f"{group.height} värden ligger utanför det rimliga intervallet "
                   f"{range_text(first['plausible_min'], first['plausible_max'], first['unit_text'])}, "
                   f"som mest {_number(worst['value'])} {first['unit_text']} för område {worst['area_code']} år "
                   f"{worst['period']}. Värdena visas med en fotnot.")
        if first["plausible_note"]:
            message += f" {first['plausible_note']}"
        fetched = group["fetched_at"].drop_nulls().max() if "fetched_at" in group.columns else None
        rows.append({"indicator_id": indicator, "source_id": first["source_id"],
                     "problem": "out_of_range", "message": message, "state": "flagged",
                     "values_from": str(fetched)[:10] if fetched else None, "used_for": "indicator"})
    frame = pl.DataFrame(rows, schema={k: v for k, v in SCHEMA.items()
                                       if k not in ("first_seen", "last_seen")})
    return _dated(frame, previous, today)
