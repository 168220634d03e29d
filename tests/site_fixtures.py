"""A small, realistic set of marts for the site tests: three real counties (Östergötland,
Gotland, Halland) with their real kommuner and boundaries, eight catalogue indicators and
one survey indicator, seven years, K/M splits, a hidden value, a red–red kommun and a
kommun worse than riket on three school indicators (Valdemarsvik).

Values are made up but follow the fact table's rules: intervals around values, län and
riket as Σnum/Σden-like benchmarks, comparisons consistent with the intervals' side.
"""

from __future__ import annotations

import polars as pl

from reports.model import Marts
from sources.catalog import indicators_frame
from sources.geography import RIKET_CODE, SURVEY_TOTAL_CODE, boundaries
from transforms.facts import FACT_COLUMNS

COUNTIES = ["05", "09", "13"]
KOLADA = ["N15508", "N15428", "N17461", "N15507", "N02901", "N07403", "N33813", "N01919"]
SURVEY = "lupp_skola_negativ_hog_risk"
PERIODS = list(range(2019, 2026))
WORSE_SCHOOL = "0563"      # Valdemarsvik: worse than riket on three school indicators
RED_RED = ("0581", "N07403")  # Norrköping: violence worse and worsening
HIDDEN = ("0512", "N33813")   # Ydre: hidden by the source
SURVEY_KOMMUNER = ["0580", "0581", "0563"]
BASE = {"N15508": 75.0, "N15428": 82.0, "N17461": 70.0, "N15507": 225.0, "N02901": 8.0,
        "N07403": 900.0, "N33813": 3.0, "N01919": 5000.0, SURVEY: 30.0}


def indicator_frame(catalog_indicators) -> pl.DataFrame:
    kolada = (indicators_frame([i for i in catalog_indicators if i.id in KOLADA])
              .with_columns(source_title=pl.col("title"), title_changed=pl.lit(False)))
    survey = kolada.filter(pl.col("indicator_id") == "N15508").with_columns(
        indicator_id=pl.lit(SURVEY), title=pl.lit("Hög risk, skolanknytning (LUPP)"),
        short_title=pl.lit("Hög risk, skolanknytning (LUPP)"), source=pl.lit("survey"),
        source_id=pl.lit("lupp:skola_negativ:hog_risk"), factor=pl.lit("risk"),
        polarity=pl.lit("low_is_good"), sex_split=pl.lit("KMT"), note=pl.lit(None, pl.String),
        source_title=pl.lit(None, pl.String))
    return pl.concat([kolada, survey]).sort("indicator_id")


def area_frame(kommuner: pl.DataFrame) -> pl.DataFrame:
    chosen = kommuner.filter(pl.col("lan_code").is_in(COUNTIES))
    lan = chosen.select("lan_code", "lan_name").unique().sort("lan_code")
    rows = [(RIKET_CODE, "riket", "Riket", None), (SURVEY_TOTAL_CODE, "total", "Alla svarande i enkäten", None)]
    rows += [(c, "lan", n, c) for c, n in lan.iter_rows()]
    rows += [("05-FA01", "subregion", "FA Linköping", "05")]
    rows += [(c, "kommun", n, lan_) for c, n, lan_ in chosen.select("kommun_code", "kommun_name", "lan_code").iter_rows()]
    return pl.DataFrame(rows, schema=["area_code", "area_type", "area_name", "lan_code"], orient="row")


def _row(ind: dict, code: str, kind: str, period: int, sex: str, breakdown: str, value: float | None,
         **extra) -> dict:
    unit = ind["unit"]
    spread = 0.04 * abs(value) + 1.0 if value is not None else None
    has_ci = value is not None and ind["value_type"] != "mean" and ind["value_type"] != "count"
    denominator = 400.0 + (int(code) % 9) * 60 if code.isdigit() and kind == "kommun" else 20000.0
    row = {c: None for c in FACT_COLUMNS}
    row.update({
        "indicator_id": ind["indicator_id"], "area_code": code, "area_type": kind, "period": period,
        "sex": sex, "breakdown": breakdown, "unit": unit, "value": value,
        "numerator": value / 100 * denominator if value is not None and unit == "%" else None,
        "denominator": denominator if unit == "%" else None,
        "lower_95": value - spread if has_ci else None, "upper_95": value + spread if has_ci else None,
        "lower_998": value - 1.6 * spread if has_ci else None,
        "upper_998": value + 1.6 * spread if has_ci else None,
        "ci_method": ind["ci_method"] if has_ci and ind["ci_method"] != "byar_exact" else "none",
        "ci_approximate": False, "status": "ok" if value is not None else "suppressed",
        "status_reason": None if value is not None else "Kolada: dolt av sekretesskäl (Privacy)",
        "red_red": False, "source_id": f"{ind['source']}:{ind['source_id']}",
        "source_title": "lupp (lupp_2023_leverans.csv)" if ind["source"] == "survey" else None,
        "fetched_at": "2026-11-23T03:31:00Z", "run_id": "test-run",
    })
    row.update(extra)
    return row


def fact_frame(indicators: pl.DataFrame, areas: pl.DataFrame) -> pl.DataFrame:
    rows = []
    for ind in indicators.to_dicts():
        iid, base = ind["indicator_id"], BASE[ind["indicator_id"]]
        survey = ind["source"] == "survey"
        periods = [2023] if survey else PERIODS
        sign = -1 if ind["polarity"] == "low_is_good" else 1
        for code, kind, _, _ in areas.iter_rows():
            if survey and kind not in ("total", "lan") and code not in SURVEY_KOMMUNER:
                continue
            if not survey and kind == "total":
                continue
            if survey and kind == "lan" and code != "05":
                continue
            offset = (int(code) % 11 - 5) * base / 100 if code.isdigit() and kind == "kommun" else 0.0
            for period in periods:
                value = base + offset + (period - 2022) * base / 200
                cmp_riket = "similar" if kind in ("kommun", "subregion") else None
                trend = "no_significant_change" if kind == "kommun" and not survey else None
                red_red = False
                if code == WORSE_SCHOOL and iid in ("N15508", "N15428", "N17461"):
                    value = base - 12 * sign
                    cmp_riket = "much_worse" if iid == "N15508" else "worse"
                if (code, iid) == RED_RED:
                    value = base * 1.3 + (period - 2019) * 30
                    cmp_riket, trend, red_red = "much_worse", "increasing_worse", period == PERIODS[-1]
                if kind == "kommun" and code == "0580" and iid == "N02901":
                    cmp_riket = "better"
                if ind["value_type"] in ("mean", "count") and kind == "kommun":
                    cmp_riket = "not_compared"
                if (code, iid) == HIDDEN and period == PERIODS[-1]:
                    value, cmp_riket = None, None
                extra = {"compared_to_riket": cmp_riket,
                         "compared_to_lan": cmp_riket if kind == "kommun" else None,
                         "compared_to_peers": "similar" if kind == "kommun" else None,
                         "trend": trend, "red_red": red_red,
                         "rank_band": "middle_50" if kind == "kommun" and value is not None else None}
                breakdowns = [("all", "T")]
                if ind["sex_split"] == "KMT" and period >= PERIODS[-2]:
                    breakdowns += [("all", "K"), ("all", "M")]
                if survey:
                    breakdowns += [(g, s) for g in ("ak9", "gy2") for s in ("K", "M", "T")]
                for breakdown, sex in breakdowns:
                    shift = {"T": 0.0, "K": 1.5, "M": -1.5}[sex] + (0.5 if breakdown == "gy2" else 0.0)
                    v = None if value is None else value + shift
                    rows.append(_row(ind, code, kind, period, sex, breakdown, v, **extra))
    frame = pl.DataFrame(rows, schema_overrides={"period": pl.Int32, "quintile": pl.Int8},
                         infer_schema_length=None)
    return frame.select(FACT_COLUMNS).with_columns(pl.col("quintile").cast(pl.Int8),
                                                   pl.col("trend_chi2").cast(pl.Float64),
                                                   pl.col("coverage").cast(pl.Float64),
                                                   pl.col("peer_value").cast(pl.Float64))


def funnel_frame(facts: pl.DataFrame) -> pl.DataFrame:
    """Plain limits at ±(8, 12) points and wider over-dispersion limits, for N15508."""
    riket = facts.filter((pl.col("indicator_id") == "N15508") & (pl.col("area_code") == RIKET_CODE)
                         & (pl.col("period") == PERIODS[-1]) & (pl.col("sex") == "T"))["value"][0]
    n = [50.0, 100.0, 200.0, 400.0, 800.0, 1600.0]
    width = [30 / (x ** 0.5) for x in n]
    return pl.DataFrame({
        "indicator_id": "N15508", "period": PERIODS[-1], "sex": "T", "breakdown": "all",
        "denominator": n, "benchmark": riket,
        "lower_95": [riket - w for w in width], "upper_95": [riket + w for w in width],
        "lower_998": [riket - 1.6 * w for w in width], "upper_998": [riket + 1.6 * w for w in width],
        "lower_95_od": [riket - 3 * w for w in width], "upper_95_od": [riket + 3 * w for w in width],
        "lower_998_od": [riket - 4 * w for w in width], "upper_998_od": [riket + 4 * w for w in width],
        "phi": 2.0, "tau2": 0.01, "method": "wilson"},
        schema_overrides={"period": pl.Int32})


def small_marts(catalog_indicators, kommuner) -> Marts:
    indicators = indicator_frame(catalog_indicators)
    areas = area_frame(kommuner)
    facts = fact_frame(indicators, areas)
    codes = areas.filter(pl.col("area_type") == "kommun")["area_code"].to_list()
    peers = pl.DataFrame({"kommun_code": codes, "peer_code": codes[1:] + codes[:1],
                          "rank": [1] * len(codes), "distance": [0.5] * len(codes)},
                         schema_overrides={"rank": pl.Int32})
    methods = pl.DataFrame({"method_id": ["wilson", "comparison"],
                            "title": ["Konfidensintervall för andelar (Wilson)", "Jämförelse med län och riket"],
                            "text": ["Andelar har Wilsons intervall.", "Bättre eller sämre när riket ligger utanför intervallet."]})
    shapes = boundaries().filter(pl.col("area_code").is_in(codes + COUNTIES))
    return Marts(facts=facts, indicators=indicators, areas=areas, peers=peers,
                 funnels=funnel_frame(facts), methods=methods, shapes=shapes)


def with_history(marts: Marts) -> Marts:
    """Two publications in the shape of CONTRACT-changes.md: the second revised Linköping's
    school value beyond its interval, hid Ydre's value, turned Norrköping's violence trend;
    Valdemarsvik entered the watch list and a goal changed status."""
    from dataclasses import replace

    history = pl.DataFrame({
        "run_id": ["run-1", "run-2"], "previous_run_id": [None, "run-1"],
        "published_at": ["2026-11-16T03:31:00Z", "2026-11-23T03:31:00Z"],
        "data_label": ["Demodata – syntetiska värden"] * 2, "data_mode": ["demo"] * 2,
        "fingerprint": ["a", "b"], "code_version": ["c", "c"], "catalog_version": ["k", "k"],
        "n_values": [1000, 1001], "n_new": [0, 0], "n_revised": [0, 1], "n_removed": [0, 0],
        "n_status_changed": [0, 1], "n_comparison_changed": [0, 1], "n_trend_changed": [0, 1],
        "kpi_states": ["{}", "{}"]}, schema_overrides={"previous_run_id": pl.String})
    def change(area, ind, **flags):
        row = {"run_id": "run-2", "previous_run_id": "run-1", "indicator_id": ind, "area_code": area,
               "area_type": "kommun", "period": PERIODS[-1], "sex": "T", "breakdown": "all",
               "is_new": False, "is_removed": False, "value_revised": False, "beyond_interval": False,
               "status_changed": False, "comparison_changed": False, "trend_changed": False,
               "old_value": None, "new_value": None, "old_lower_95": None, "old_upper_95": None,
               "new_lower_95": None, "new_upper_95": None, "old_status": "ok", "new_status": "ok",
               "old_compared_to_lan": None, "new_compared_to_lan": None, "old_compared_to_riket": None,
               "new_compared_to_riket": None, "old_trend": None, "new_trend": None}
        row.update(flags)
        return row
    changes = pl.DataFrame([
        change("0580", "N15508", value_revised=True, beyond_interval=True, old_value=70.0, new_value=80.0,
               old_lower_95=66.0, old_upper_95=74.0, new_lower_95=76.0, new_upper_95=84.0,
               comparison_changed=True, old_compared_to_riket="similar", new_compared_to_riket="better"),
        change("0512", "N33813", status_changed=True, new_status="suppressed", old_value=3.0),
        change("0581", "N07403", trend_changed=True, old_trend="no_significant_change",
               new_trend="increasing_worse", old_value=1300.0, new_value=1380.0),
        change("1380", "N15508", value_revised=True, old_value=70.0, new_value=71.0)],
        schema_overrides={k: pl.Float64 for k in ("old_value", "new_value", "old_lower_95", "old_upper_95",
                                                  "new_lower_95", "new_upper_95")}, infer_schema_length=None)
    decisions = pl.DataFrame({
        "run_id": ["run-1", "run-2", "run-2", "run-1", "run-2"],
        "kind": ["watch_list", "watch_list", "watch_list", "goal_status", "goal_status"],
        "area_code": ["0581", "0581", "0563", "0509", "0509"],
        "item_id": ["N07403", "N07403", "", "mal-0509-1", "mal-0509-1"],
        "state": ["on", "on", "on", "on_track", "wrong_direction"]})
    return replace(marts, publication_history=history, publication_change=changes, decision_history=decisions)
