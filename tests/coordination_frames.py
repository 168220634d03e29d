"""Small frames in the shape of the coordination contract (issue 7) and meta.data_quality
(issue 9), for testing the site's sections until the real marts land.

Values are made up but deterministic; columns, types and codes follow
/work/briefs/coordination-contract.md exactly, so a renamed or retyped column in the real
marts shows up as a failing test here.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import polars as pl

FACTORS = ["overall", "skola", "foraldraskap", "fritid", "narsamhalle"]
DIMENSIONS = [("A", "Insatser"), ("B", "Kännedom om insatserna"), ("C", "Ledarskap"),
              ("D", "Klimat i samhället"), ("E", "Kunskap om frågan"), ("F", "Resurser")]
STAGES = {1: "Ingen medvetenhet", 2: "Förnekelse", 3: "Vag medvetenhet", 4: "Förplanering",
          5: "Förberedelse", 6: "Igångsättning", 7: "Stabilisering", 8: "Bekräftelse och utvidgning",
          9: "Hög grad av ägarskap"}
SUPPORT_CLASS = {"high_need_no_support": "Högt behov – inget stöd",
                 "high_need_support": "Högt behov – stöd",
                 "lower_need_much_support": "Lägre behov – mycket stöd",
                 "lower_need_some_support": "Lägre behov – visst stöd",
                 "lower_need_no_support": "Lägre behov – inget stöd",
                 "uncertain": "Osäkert behov", "no_need_data": "Behov saknas"}


def _p(code: str, factor: str) -> float:
    """A deterministic 'probability' per kommun and factor."""
    return ((int(code) * 37 + FACTORS.index(factor) * 11) % 100) / 100


def need_index(kommuner: list[str], lan: str) -> pl.DataFrame:
    rows = []
    for factor in FACTORS:
        order = sorted(kommuner[:-1] if factor == "fritid" else kommuner, key=lambda c: -_p(c, factor))
        for code in kommuner:
            p = _p(code, factor)
            county = order.index(code) + 1 if code in order else None
            missing = code == kommuner[-1] and factor == "fritid"
            rows.append({"area_code": code, "area_type": "kommun", "lan_code": lan, "factor": factor,
                         "period": 2025, "score": None if missing else round(100 * p, 1),
                         "level": None if missing else min(5, int(p * 5) + 1),
                         "rank": None if missing else int(290 * (1 - p)) + 1,
                         "rank_median": None if missing else 290 * (1 - p),
                         "rank_lower": None if missing else max(1, int(290 * (1 - p)) - 20),
                         "rank_upper": None if missing else min(290, int(290 * (1 - p)) + 25),
                         "p_top_fifth": None if missing else p, "coverage": 0.4 if missing else 0.9,
                         "n_indicators": 2 if missing else 6, "status": "missing" if missing else "ok",
                         "status_reason": "För få indikatorer med värde (40 %)" if missing else None,
                         "n_ranked": 290, "rankability": 0.93, "rank_lan": county,
                         "rank_lan_median": None if missing else float(county),
                         "rank_lan_lower": None if missing else max(1, county - 1),
                         "rank_lan_upper": None if missing else min(len(order), county + 1),
                         "n_ranked_lan": len(order), "p_top_lan": None if missing else min(1.0, 1.5 * p),
                         "rankability_lan": 0.42 if factor == "fritid" else 0.81,
                         "index_version": "1.0.0"})
    return pl.DataFrame(rows, schema={
        "area_code": pl.String, "area_type": pl.String, "lan_code": pl.String, "factor": pl.String,
        "period": pl.Int32, "score": pl.Float64, "level": pl.Int8, "rank": pl.Int32,
        "rank_median": pl.Float64, "rank_lower": pl.Int32, "rank_upper": pl.Int32,
        "p_top_fifth": pl.Float64, "coverage": pl.Float64, "n_indicators": pl.Int32,
        "status": pl.String, "status_reason": pl.String, "n_ranked": pl.Int32, "rankability": pl.Float64,
        "rank_lan": pl.Int32, "rank_lan_median": pl.Float64, "rank_lan_lower": pl.Int32,
        "rank_lan_upper": pl.Int32, "n_ranked_lan": pl.Int32, "p_top_lan": pl.Float64,
        "rankability_lan": pl.Float64, "index_version": pl.String})


def need_contribution(kommuner: list[str]) -> pl.DataFrame:
    rows = []
    for code in kommuner:
        for factor, inputs in (("skola", [("N15508", "Godkänt i alla ämnen, åk 9", 0.4),
                                          ("N17461", "Gymnasieexamen inom 4 år", -0.2)]),
                               ("overall", [("skola", "Måluppfyllelse i skolan", 0.1)])):
            total = sum(c for _, _, c in inputs)
            for rank, (input_id, label, c) in enumerate(sorted(inputs, key=lambda t: -t[2]), start=1):
                rows.append({"area_code": code, "factor": factor, "input_id": input_id,
                             "input_kind": "factor" if factor == "overall" else "indicator",
                             "input_label": label, "period": 2024, "value": 70.0, "aligned_z": 2 * c,
                             "weight": 0.5, "contribution": c, "score_z": total,
                             "rank_of_contribution": rank, "index_version": "1.0.0"})
    return pl.DataFrame(rows, schema={
        "area_code": pl.String, "factor": pl.String, "input_id": pl.String, "input_kind": pl.String,
        "input_label": pl.String, "period": pl.Int32, "value": pl.Float64, "aligned_z": pl.Float64,
        "weight": pl.Float64, "contribution": pl.Float64, "score_z": pl.Float64,
        "rank_of_contribution": pl.Int32, "index_version": pl.String})


def need_sensitivity() -> pl.DataFrame:
    return pl.DataFrame({
        "factor": ["skola", "skola", "skola", "overall"],
        "input": ["N15508", "weights", "N17461", "aggregation"],
        "input_kind": ["indicator", "method", "indicator", "method"],
        "input_label": ["Godkänt i alla ämnen, åk 9", "Vikterna", "Gymnasieexamen inom 4 år",
                        "Sammanvägning"],
        "effect": [12.5, 8.1, 4.0, 9.9], "rank_of_effect": [1, 2, 3, 1],
    }, schema_overrides={"rank_of_effect": pl.Int32})


def readiness(kommuner: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    dims, stages = [], []
    for i, code in enumerate(kommuner[:2]):
        scores = [2.5 + i + j * 0.5 for j in range(6)]
        for (dim, label), score in zip(DIMENSIONS, scores, strict=True):
            dims.append({"area_code": code, "assessment_id": f"crm-{code}", "assessed_on": date(2025, 3, 1),
                         "issue": "Ungas psykiska hälsa", "dimension": dim, "dimension_label": label,
                         "score": score, "n_interviews": 6, "agreement_within_one": 0.83,
                         "weighted_kappa": 0.61, "previous_score": score - 0.5 if i == 0 else None,
                         "change": 0.5 if i == 0 else None,
                         "warning": "Bara fyra intervjuer" if dim == "F" and i == 1 else None})
        mean = sum(scores) / 6
        stages.append({"area_code": code, "assessment_id": f"crm-{code}", "assessed_on": date(2025, 3, 1),
                       "issue": "Ungas psykiska hälsa", "score": mean, "stage": int(mean),
                       "stage_label": STAGES[int(mean)], "lowest_dimension": "A",
                       "lowest_dimension_label": "Insatser", "n_interviews": 6,
                       "previous_stage": int(mean) - 1 if i == 0 else None,
                       "change": 0.5 if i == 0 else None, "prevention_star": None, "warning": None})
    dim_schema = {"area_code": pl.String, "assessment_id": pl.String, "assessed_on": pl.Date,
                  "issue": pl.String, "dimension": pl.String, "dimension_label": pl.String,
                  "score": pl.Float64, "n_interviews": pl.Int32, "agreement_within_one": pl.Float64,
                  "weighted_kappa": pl.Float64, "previous_score": pl.Float64, "change": pl.Float64,
                  "warning": pl.String}
    stage_schema = {"area_code": pl.String, "assessment_id": pl.String, "assessed_on": pl.Date,
                    "issue": pl.String, "score": pl.Float64, "stage": pl.Int8, "stage_label": pl.String,
                    "lowest_dimension": pl.String, "lowest_dimension_label": pl.String,
                    "n_interviews": pl.Int32, "previous_stage": pl.Int8, "change": pl.Float64,
                    "prevention_star": pl.String, "warning": pl.String}
    return pl.DataFrame(dims, schema=dim_schema), pl.DataFrame(stages, schema=stage_schema)


def support_need(kommuner: list[str]) -> pl.DataFrame:
    rows = []
    for code in kommuner:
        for factor in FACTORS[1:]:
            p = _p(code, factor)
            n = (int(code) + len(factor)) % 3
            cls = ("high_need_no_support" if p >= 0.8 and n == 0 else "high_need_support" if p >= 0.8
                   else "lower_need_much_support" if n == 2 and p < 0.3 else "lower_need_some_support"
                   if n else "lower_need_no_support")
            rows.append({"area_code": code, "factor": factor, "period": 2025, "shown": True,
                         "high_need_from": 0.8, "n_missing_amount": 0,
                         "actors": "Länsstyrelsen, Region" if n else None, "period_start": date(2025, 1, 1),
                         "period_end": date(2025, 12, 31), "score": 100 * p, "p_top_fifth": p,
                         "rank_lower": 10, "rank_upper": 60, "n_actors": min(n, 2), "n_supports": n,
                         "support_types": "Utbildning, processtöd" if n else None,
                         "sek": 150000.0 * n if n else None, "sek_per_child": 55.0 * n if n else None,
                         "class": cls, "class_label": SUPPORT_CLASS[cls], "overlap": n == 2,
                         "overlap_actors": "Länsstyrelsen, Region" if n == 2 else None})
    return pl.DataFrame(rows, schema={
        "area_code": pl.String, "factor": pl.String, "period": pl.Int32, "shown": pl.Boolean,
        "high_need_from": pl.Float64, "n_missing_amount": pl.Int32, "actors": pl.String,
        "period_start": pl.Date, "period_end": pl.Date, "score": pl.Float64, "p_top_fifth": pl.Float64, "rank_lower": pl.Int32, "rank_upper": pl.Int32,
        "n_actors": pl.Int32, "n_supports": pl.Int32, "support_types": pl.String, "sek": pl.Float64,
        "sek_per_child": pl.Float64, "class": pl.String, "class_label": pl.String,
        "overlap": pl.Boolean, "overlap_actors": pl.String})


def goal_progress(kommuner: list[str], indicator_id: str) -> pl.DataFrame:
    rows = []
    for i, code in enumerate(kommuner[:2]):
        status, label = (("wrong_direction", "åt fel håll") if i == 0 else ("on_track", "på väg"))
        for year, latest in ((2024, False), (2025, True)):
            rows.append({"goal_id": f"mal-{code}-1", "area_code": code, "plan": "Plan för barn och unga 2024–2027",
                         "goal_text": "Fler elever ska vara behöriga till gymnasiet", "indicator_id": indicator_id,
                         "sex": "T", "breakdown": "all", "direction": "increase", "baseline_year": 2023,
                         "baseline_value": 80.0, "target_year": 2027, "target_value": 85.0, "year": year,
                         "value": 78.0 if i == 0 else 82.0, "lower_95": 74.0, "upper_95": 86.0,
                         "change": -2.0 if i == 0 else 2.0, "change_significant": False,
                         "status": status, "status_label": label, "status_reason": None,
                         "baseline_data_value": None, "baseline_mismatch": None, "data_until": None,
                         "is_latest": latest})
    return pl.DataFrame(rows, schema={
        "goal_id": pl.String, "area_code": pl.String, "plan": pl.String, "goal_text": pl.String,
        "indicator_id": pl.String, "sex": pl.String, "breakdown": pl.String, "direction": pl.String,
        "baseline_year": pl.Int32, "baseline_value": pl.Float64, "target_year": pl.Int32,
        "target_value": pl.Float64, "year": pl.Int32, "value": pl.Float64, "lower_95": pl.Float64,
        "upper_95": pl.Float64, "change": pl.Float64, "change_significant": pl.Boolean,
        "status": pl.String, "status_label": pl.String, "status_reason": pl.String,
        "baseline_data_value": pl.Float64, "baseline_mismatch": pl.Boolean, "data_until": pl.Int32,
        "is_latest": pl.Boolean})


def selection(kommuner: list[str]) -> pl.DataFrame:
    proposals = [("propose", "Föreslås", "plats 1 av 3"),
                 ("qualitative_review", "Bedöms kvalitativt", "osäkert om behovet hör till de högsta i länet"),
                 ("not_proposed", "Föreslås inte", "tydligt lägre behov än de högsta i länet")]
    rows = [{"call_id": "utlysning-2026", "call_title": "Stöd till föräldraskapsarbete 2026",
             "area_code": code, "applied_on": date(2026, 2, 1), "factors": "foraldraskap,skola",
             "support_kind": "processtod", "frame": "lan", "places": 3, "support_year": 2026,
             "need_factor": "foraldraskap", "p_frame": min(1.0, 1.5 * _p(code, "foraldraskap")),
             "need_band": ["high", "uncertain", "low"][i], "p_top_fifth": _p(code, "foraldraskap"),
             "rank": 40 + i, "rank_lower": 12, "rank_upper": 70, "n_ranked": 290,
             "p_top_lan": min(1.0, 1.5 * _p(code, "foraldraskap")), "rank_lan": i + 1,
             "rank_lan_lower": 1, "rank_lan_upper": i + 2, "n_ranked_lan": len(kommuner),
             "rankability_frame": 0.8, "readiness_assessment_id": "crm-x" if i == 0 else None,
             "readiness_stage": 4 if i == 0 else None, "readiness_stage_label": "Förplanering" if i == 0 else None,
             "readiness_score": 4.5 if i == 0 else None,
             "readiness_assessed_on": date(2025, 3, 1) if i == 0 else None,
             "readiness_issue": "Ungas psykiska hälsa" if i == 0 else None,
             "readiness_for_call": True if i == 0 else None, "readiness_warning": None,
             "stage_suitable": True if i == 0 else None, "stage_advice": None,
             "current_supports": i, "current_actors": "Region" if i else None,
             "proposal": proposal, "proposal_label": label, "proposal_reason": why, "order": i + 1,
             "reasons": f"Sannolikheten för störst behov är {round(100 * _p(code, 'foraldraskap'))} %."}
            for i, (code, (proposal, label, why)) in enumerate(zip(kommuner, proposals))]
    from transforms.selection import SELECTION_SCHEMA
    return pl.DataFrame(rows, schema=SELECTION_SCHEMA)


def data_quality(stale_indicator: str, unavailable_indicator: str) -> pl.DataFrame:
    return pl.DataFrame({
        "indicator_id": [stale_indicator, unavailable_indicator],
        "source_id": [f"kolada:{stale_indicator}", f"kolada:{unavailable_indicator}"],
        "problem": ["scale_drift", "unknown_kpi"],
        "message": ["Värdena för 2025 ser ut att ha bytt skala; 2024 års värden visas.",
                    "Kolada känner inte längre igen nyckeltalet."],
        "first_seen": [date(2026, 11, 20), date(2026, 11, 1)],
        "last_seen": [date(2026, 11, 23), date(2026, 11, 23)],
        "state": ["stale", "unavailable"],
    })


def with_coordination(marts, lan: str | None = None):
    """`marts` with every optional table filled for the kommuner of `lan` (default: the first
    county), and the two optional fact columns `stale` and `value_note`."""
    areas = marts.areas.sort("area_code")
    lan = lan or areas.filter(pl.col("area_type") == "lan")["area_code"][0]
    kommuner = areas.filter((pl.col("area_type") == "kommun") & (pl.col("lan_code") == lan))["area_code"].to_list()
    indicators = marts.indicators.filter(pl.col("factor") != "context").sort("indicator_id")["indicator_id"].to_list()
    dims, stages = readiness(kommuner)
    facts = marts.facts.with_columns(
        stale=pl.col("indicator_id") == indicators[0],
        value_note=pl.when((pl.col("indicator_id") == indicators[-1]) & (pl.col("area_type") == "kommun"))
        .then(pl.lit("Intervallet är ungefärligt: befolkningen för året är inte publicerad ännu."))
        .otherwise(None))
    return replace(marts, facts=facts, need_index=need_index(kommuner, lan),
                   need_sensitivity=need_sensitivity(), need_contribution=need_contribution(kommuner),
                   readiness=dims, readiness_stage=stages,
                   support_need=support_need(kommuner),
                   goal_progress=goal_progress(kommuner, indicators[0]), selection=selection(kommuner),
                   data_quality=data_quality(indicators[0], indicators[-1]))
