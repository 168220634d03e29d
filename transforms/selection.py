"""Selecting municipalities for support: a proposal among the applicants to a call.

For each call in the applications register and each applicant kommun:

1. Need: among the call's strategic factors, the one with the highest probability of
   being in the highest-need fifth (p_top_fifth from the need index), with its rank
   interval. A kommun without a need score on any of the call's factors, or whose 5–95 %
   rank interval spans more than `max_interval_share` of the ranked kommuner, is not
   ranked: it goes to qualitative review (the data cannot place it).
2. Readiness: the kommun's latest Community Readiness stage, and whether the call's kind
   of support suits that stage (`suitable_stages`, configurable). An unknown stage does not
   exclude a kommun, but the reasons ask for an assessment before the decision.
3. Current support: support rows active on the application date on the call's factors.

The ranked applicants are ordered by: not at a stage known to be unsuitable, then higher
need probability, then less current support, then the median rank. Up to `max_proposed`
applicants with p ≥ `propose_from` at a suitable (or unassessed) stage are proposed.

It proposes; people decide: every row's reasons end by saying so.
"""

from __future__ import annotations

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from transforms.need import FACTORS
from transforms.readiness import STAGES

PROPOSALS = {
    "propose": "Föreslås",
    "qualitative_review": "Bedöms kvalitativt (osäkert behov)",
    "not_proposed": "Föreslås inte",
}
DECIDE = "Detta är ett förslag som underlag; beslutet fattas av handläggarna."


class SelectionSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    propose_from: float = Field(default=0.5, ge=0, le=1)
    max_proposed: int = Field(default=3, ge=1)
    max_interval_share: float = Field(default=0.35, gt=0, le=1)
    suitable_stages: dict[str, list[int]] = {
        "kunskapsstod": list(range(1, 10)),
        "data_analys": list(range(1, 10)),
        "processtod": [3, 4, 5, 6, 7],
        "utbildning": [4, 5, 6, 7, 8, 9],
        "ekonomiskt_stod": [5, 6, 7, 8, 9],
    }


SELECTION_SCHEMA = {
    "call_id": pl.String, "call_title": pl.String, "area_code": pl.String, "applied_on": pl.Date,
    "factors": pl.String, "support_kind": pl.String, "need_factor": pl.String,
    "p_top_fifth": pl.Float64, "rank": pl.Int32, "rank_lower": pl.Int32, "rank_upper": pl.Int32,
    "readiness_stage": pl.Int8, "readiness_stage_label": pl.String, "readiness_assessed_on": pl.Date,
    "stage_suitable": pl.Boolean, "current_supports": pl.Int32, "proposal": pl.String,
    "proposal_label": pl.String, "order": pl.Int32, "reasons": pl.String,
}


def _pct(p: float) -> str:
    return f"{round(100 * p)} %"


def _need(row: dict, need: dict, factors: list[str], settings: SelectionSettings) -> dict:
    """The call factor with the highest probability, and whether it can be ranked."""
    options = [need[(row["area_code"], f)] for f in factors
               if (row["area_code"], f) in need and need[(row["area_code"], f)]["status"] == "ok"]
    if not options:
        return {"need_factor": None, "review": "behovet kan inte beräknas för utlysningens faktorer "
                                               "(för lite data)"}
    best = max(options, key=lambda n: (n["p_top_fifth"], -factors.index(n["factor"])))
    width = best["rank_upper"] - best["rank_lower"]
    label = FACTORS[best["factor"]].lower()
    text = (f"Behov: {_pct(best['p_top_fifth'])} sannolikhet att höra till den femtedel av "
            f"kommunerna med störst behov inom {label} (rang {best['rank']}, "
            f"90-procentigt intervall {best['rank_lower']}–{best['rank_upper']} av {best['n_ranked']}).")
    review = None
    if width > settings.max_interval_share * best["n_ranked"]:
        review = (f"rangintervallet {best['rank_lower']}–{best['rank_upper']} är för brett för att "
                  f"rangordna (mer än {_pct(settings.max_interval_share)} av kommunerna)")
    return {"need_factor": best["factor"], "p_top_fifth": best["p_top_fifth"], "rank": best["rank"],
            "rank_lower": best["rank_lower"], "rank_upper": best["rank_upper"],
            "rank_median": best["rank_median"], "need_text": text, "review": review}


def _readiness(stage: dict | None, kind: str, kinds: dict[str, str],
               settings: SelectionSettings) -> dict:
    suitable = settings.suitable_stages.get(kind, list(STAGES))
    kind_label = kinds.get(kind, kind).lower()
    if stage is None or stage["stage"] is None:
        return {"readiness_stage": None, "stage_suitable": None,
                "readiness_text": "Beredskap: inte bedömd; gör en bedömning innan beslut."}
    fits = stage["stage"] in suitable
    verdict = (f"som passar {kind_label}" if fits else
               f"där {kind_label} sällan får fäste (passar stadium {min(suitable)}–{max(suitable)})")
    return {"readiness_stage": stage["stage"], "readiness_stage_label": STAGES[stage["stage"]],
            "readiness_assessed_on": stage["assessed_on"], "stage_suitable": fits,
            "readiness_text": f"Beredskap: stadium {stage['stage']} ({STAGES[stage['stage']].lower()}, "
                              f"bedömd {stage['assessed_on']}), {verdict}."}


def select(applications: pl.DataFrame, need: pl.DataFrame, stages: pl.DataFrame,
           support: pl.DataFrame, settings: SelectionSettings,
           support_kinds: dict[str, str]) -> pl.DataFrame:
    """marts.selection: call × applicant, with a proposal and the reasons in Swedish.

    `applications`: call_id, call_title, factors (comma-separated codes), support_kind,
    area_code, applied_on; `need`: marts.need_index; `stages`: marts.readiness_stage;
    `support`: the support register (actor, area_code, factor, start, end).
    """
    need_rows = {(r["area_code"], r["factor"]): r for r in
                 need.filter(pl.col("area_type") == "kommun").iter_rows(named=True)}
    latest = {r["area_code"]: r for r in stages.sort("assessed_on", "assessment_id").iter_rows(named=True)}
    rows = []
    for app in applications.sort("call_id", "area_code").iter_rows(named=True):
        factors = app["factors"].split(",")
        current = support.filter((pl.col("area_code") == app["area_code"])
                                 & pl.col("factor").is_in(factors)
                                 & (pl.col("start") <= app["applied_on"])
                                 & (pl.col("end") >= app["applied_on"]))
        n_support = current.height
        actors = ", ".join(sorted(set(current["actor"].to_list())))
        support_text = (f"Nuvarande stöd: {n_support} pågående insats{'er' if n_support != 1 else ''} "
                        f"inom utlysningens faktorer ({actors})." if n_support else
                        "Nuvarande stöd: inget pågående stöd inom utlysningens faktorer.")
        rows.append({**{k: app[k] for k in ("call_id", "call_title", "area_code", "applied_on",
                                            "factors", "support_kind")},
                     **_need(app, need_rows, factors, settings),
                     **_readiness(latest.get(app["area_code"]), app["support_kind"], support_kinds, settings),
                     "current_supports": n_support, "support_text": support_text})
    return _propose(rows, settings)


def _propose(rows: list[dict], settings: SelectionSettings) -> pl.DataFrame:
    out = []
    for call in sorted({r["call_id"] for r in rows}):
        applicants = [r for r in rows if r["call_id"] == call]
        ranked = sorted((r for r in applicants if r.get("review") is None),
                        key=lambda r: (r["stage_suitable"] is False, -r["p_top_fifth"],
                                       r["current_supports"], r["rank_median"], r["area_code"]))
        proposed = 0
        for order, r in enumerate(ranked, start=1):
            eligible = r["p_top_fifth"] >= settings.propose_from and r["stage_suitable"] is not False
            if eligible and proposed < settings.max_proposed:
                proposed += 1
                r.update(proposal="propose", order=order, verdict=f"Förslag: föreslås (plats {order}).")
            else:
                why = ("stadiet passar inte stödformen" if r["stage_suitable"] is False else
                       f"sannolikheten för högt behov är under {_pct(settings.propose_from)}"
                       if r["p_top_fifth"] < settings.propose_from else
                       f"redan {settings.max_proposed} kommuner med större behov föreslås")
                r.update(proposal="not_proposed", order=order,
                         verdict=f"Förslag: föreslås inte (plats {order}): {why}.")
        for r in applicants:
            if r.get("review") is not None:
                r.update(proposal="qualitative_review", order=None,
                         verdict=f"Förslag: bedöm kvalitativt: {r['review']}.")
            parts = [r.get("need_text") or f"Behov: {r['review']}.", r["readiness_text"],
                     r["support_text"], r["verdict"], DECIDE]
            r["reasons"] = " ".join(parts)
            r["proposal_label"] = PROPOSALS[r["proposal"]]
            out.append(r)
    frame = pl.DataFrame([{k: r.get(k) for k in SELECTION_SCHEMA} for r in out],
                         schema=SELECTION_SCHEMA)
    return frame.sort("call_id", pl.col("order").is_null(), "order", "area_code")
