"""Selecting municipalities for support: a proposal among the applicants to a call, with
rules a decision memo can state.

For each call in the applications register and each applicant kommun:

1. The frame: a county call is judged among the county's kommuner (`frame: lan`, the
   default; a call may say `riket`). A county with fewer kommuner than the need index's
   `county_min` cannot rank within itself: its applicants go to qualitative review.
2. Need: among the call's strategic factors, the one with the highest probability of high
   need in the frame: in the county, of being among its highest-need third (`p_top_lan`);
   in the country, among the highest-need fifth (`p_top_fifth`). The reasons quote both
   places ("3:e högst behov av 13 i länet (intervall 1–6); 49 av 290 i riket") and say when
   the ranking in the frame says little (rankability below 0.5).
3. Readiness: the kommun's latest Community Readiness assessment *of the call's issue*: the
   same issue text (case and spaces aside) or a shared point of the Preventionsstjärnan. An
   assessment of another issue is shown as such and does not count. Where the stage does
   not suit the call's kind of support (`suitable_stages`), the reasons say what the stage
   calls for and which kinds of support suit it (the handbook's stage strategies).
4. Current support: support rows on the call's factors active in the call's support year
   (`Stödår`; default the build's year, never a later one).

Three outcomes, with `p` the need probability in the frame and the bands every decision on
need shares (`need_bands`: 0.2 and 0.8):
- `propose`: clearly high need (p ≥ 0.8) and a suitable stage of an assessment of the
  call's issue, no older than `max_assessment_age_years` at the application; the first
  `places` of them (the call's, else the setting) by need, then less current support,
  then median rank;
- `qualitative_review`: the need is uncertain (0.2 ≤ p < 0.8), cannot be computed, or the
  frame is too small; or the need is clearly high but there is no assessment of the call's
  issue, it is too old, or it carries a warning (too few interviews, unscored dimensions, a
  consensus outside its scorers' range). An unassessed kommun is never ranked as if suitable;
- `not_proposed`: clearly lower need (p < 0.2); or clearly high need at a stage where the
  call's kind of support seldom takes hold (another kind is named); or clearly high need
  and suitable when the places are already taken (it is next in line).

Every applicant gets a place in the order (proposed, then review, then not proposed; by
need within each). It proposes; people decide: every row's reasons end by saying so.
"""

from __future__ import annotations

from datetime import date

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from transforms.need import FACTORS
from transforms.rankability import BANDS, band
from transforms.readiness import STAGES, stage_strategy

PROPOSALS = {
    "propose": "Föreslås",
    "qualitative_review": "Bedöms kvalitativt",
    "not_proposed": "Föreslås inte",
}
NEED_BANDS = {"high": "Tydligt högt behov", "uncertain": "Osäkert behov", "low": "Tydligt lägre behov"}
FRAMES = {"lan": "länet", "riket": "riket"}
DECIDE = "Detta är ett förslag som underlag; beslutet fattas av handläggarna."
OUTCOME_ORDER = {"propose": 0, "qualitative_review": 1, "not_proposed": 2}


class SelectionSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    frame: str = Field(default="lan", pattern="^(lan|riket)$")
    propose_from: float = Field(default=0.8, gt=0, le=1)
    review_from: float = Field(default=0.2, ge=0, le=1)
    max_proposed: int = Field(default=3, ge=1)
    max_assessment_age_years: float = Field(default=2.0, gt=0)
    suitable_stages: dict[str, list[int]] = {
        "kunskapsstod": list(range(1, 10)),
        "data_analys": list(range(1, 10)),
        "processtod": [3, 4, 5, 6, 7],
        "utbildning": [4, 5, 6, 7, 8, 9],
        "ekonomiskt_stod": [5, 6, 7, 8, 9],
    }


SELECTION_SCHEMA = {
    "call_id": pl.String, "call_title": pl.String, "area_code": pl.String, "applied_on": pl.Date,
    "factors": pl.String, "support_kind": pl.String, "frame": pl.String, "places": pl.Int32,
    "support_year": pl.Int32, "need_factor": pl.String, "p_frame": pl.Float64, "need_band": pl.String,
    "p_top_fifth": pl.Float64, "rank": pl.Int32, "rank_lower": pl.Int32, "rank_upper": pl.Int32,
    "n_ranked": pl.Int32, "p_top_lan": pl.Float64, "rank_lan": pl.Int32, "rank_lan_lower": pl.Int32,
    "rank_lan_upper": pl.Int32, "n_ranked_lan": pl.Int32, "rankability_frame": pl.Float64,
    "readiness_assessment_id": pl.String, "readiness_stage": pl.Int8, "readiness_stage_label": pl.String,
    "readiness_score": pl.Float64, "readiness_assessed_on": pl.Date, "readiness_issue": pl.String,
    "readiness_for_call": pl.Boolean, "readiness_warning": pl.String, "stage_suitable": pl.Boolean,
    "stage_advice": pl.String, "current_supports": pl.Int32, "current_actors": pl.String,
    "proposal": pl.String, "proposal_label": pl.String, "proposal_reason": pl.String,
    "order": pl.Int32, "reasons": pl.String,
}


def _pct(p: float) -> str:
    return f"{round(100 * p)}\u00a0%"


def ordinal(n: int) -> str:
    """Swedish ordinal: 1:a, 2:a, 3:e, 11:e, 21:a."""
    return f"{n}:{'a' if n % 10 in (1, 2) and n % 100 not in (11, 12) else 'e'}"


def share_word(share: float) -> str:
    """0.2 → 'femtedel', 1/3 → 'tredjedel'; other shares as a percentage."""
    words = {2: "hälft", 3: "tredjedel", 4: "fjärdedel", 5: "femtedel", 10: "tiondel"}
    for n, word in words.items():
        if abs(share - 1 / n) < 1e-3:
            return word
    return f"{_pct(share)}-andel"


def issue_key(text: str | None) -> str:
    return " ".join((text or "").lower().split())


def _best_factor(area: str, factors: list[str], need: dict, frame: str) -> dict | None:
    """The call factor with the highest probability of high need in the frame."""
    column = "p_top_lan" if frame == "lan" else "p_top_fifth"
    options = [need[(area, f)] for f in factors if (area, f) in need and need[(area, f)]["status"] == "ok"]
    if not options:
        return None
    return max(options, key=lambda n: (n[column] if n[column] is not None else -1.0,
                                       -factors.index(n["factor"])))


def _need(app: dict, need: dict, frame: str, county_share: float, national_share: float) -> dict:
    """The need columns and sentences of one applicant."""
    factors = app["factors"].split(",")
    best = _best_factor(app["area_code"], factors, need, frame)
    if best is None:
        return {"need_factor": None, "p_frame": None, "review": "behovet kan inte beräknas",
                "need_text": "Behov: kan inte beräknas för utlysningens faktorer (för lite data)."}
    label = FACTORS[best["factor"]].lower()
    national = (f"{best['rank']} av {best['n_ranked']} i riket (intervall {best['rank_lower']}–"
                f"{best['rank_upper']}; {_pct(best['p_top_fifth'])} sannolikhet att höra till rikets "
                f"{share_word(national_share)} med störst behov)")
    county = (f"{ordinal(best['rank_lan'])} högst behov av {best['n_ranked_lan']} i länet (intervall "
              f"{best['rank_lan_lower']}–{best['rank_lan_upper']}"
              + (f"; {_pct(best['p_top_lan'])} sannolikhet att höra till länets "
                 f"{share_word(county_share)} med störst behov)" if best["p_top_lan"] is not None else ")"))
    p = best["p_top_lan"] if frame == "lan" else best["p_top_fifth"]
    rho = best["rankability_lan"] if frame == "lan" else best["rankability"]
    text = f"Behov inom {label}: {county}; {national}."
    if band(rho) == "low":
        text += (f" {BANDS['low']} {'i länet' if frame == 'lan' else 'i riket'}: bara {_pct(rho)} av "
                 "rangskillnaderna är verkliga; läs rangen som ungefärlig.")
    review = None
    if frame == "lan" and p is None:
        review = (f"länet har bara {best['n_ranked_lan']} kommun{'er' if best['n_ranked_lan'] != 1 else ''} "
                  "med beräknat behov, för få för att jämföra inom länet; bedöm behovet mot riket")
    return {"need_factor": best["factor"], "p_frame": p, "p_top_fifth": best["p_top_fifth"],
            "rank": best["rank"], "rank_lower": best["rank_lower"], "rank_upper": best["rank_upper"],
            "n_ranked": best["n_ranked"], "p_top_lan": best["p_top_lan"], "rank_lan": best["rank_lan"],
            "rank_lan_lower": best["rank_lan_lower"], "rank_lan_upper": best["rank_lan_upper"],
            "n_ranked_lan": best["n_ranked_lan"], "rankability_frame": rho,
            "rank_median": best["rank_median"], "need_text": text, "review": review}


def _assessment(app: dict, assessments: list[dict]) -> tuple[dict | None, bool | None]:
    """The latest assessment of the call's issue (True), else the latest of another issue
    (False), or of any issue when the call names none (None)."""
    if not assessments:
        return None, None
    latest = assessments[-1]
    call_issue, stars = issue_key(app.get("issue")), set(filter(None, (app.get("prevention_star") or "").split(",")))
    if not call_issue and not stars:
        return latest, None
    mine = [a for a in assessments if (call_issue and issue_key(a["issue"]) == call_issue)
            or stars & set(filter(None, (a.get("prevention_star") or "").split(",")))]
    return (mine[-1], True) if mine else (latest, False)


def _readiness(app: dict, assessments: list[dict], settings: SelectionSettings,
               kinds: dict[str, str]) -> dict:
    kind = app["support_kind"]
    suitable = settings.suitable_stages.get(kind, list(STAGES))
    kind_label = kinds.get(kind, kind).lower()
    found, for_call = _assessment(app, assessments)
    if found is None or found["stage"] is None:
        return {"readiness_text": "Beredskap: ingen bedömning"
                + (" av utlysningens fråga" if app.get("issue") or app.get("prevention_star") else "")
                + "; gör en bedömning innan beslut.", "readiness_gap": "beredskapen är inte bedömd"}
    stage = found["stage"]
    out = {"readiness_assessment_id": found["assessment_id"], "readiness_stage": stage,
           "readiness_stage_label": STAGES[stage], "readiness_score": found["score"],
           "readiness_assessed_on": found["assessed_on"], "readiness_issue": found["issue"],
           "readiness_for_call": for_call, "readiness_warning": found.get("warning")}
    about = f"bedömd {found['assessed_on']}, frågan \"{found['issue']}\""
    score = f"{found['score']:.2f}".replace(".", ",")
    text = f"Beredskap: stadium {stage} ({STAGES[stage].lower()}, poäng {score}; {about})"
    gap = None
    if for_call is False:
        text += "; bedömningen gäller en annan fråga än utlysningens"
        gap = "det finns ingen beredskapsbedömning av utlysningens fråga"
    elif for_call is None:
        text += "; utlysningen anger ingen beredskapsfråga, så kontrollera att bedömningen gäller den"
    age = (app["applied_on"] - found["assessed_on"]).days / 365.25
    if gap is None and age > settings.max_assessment_age_years:
        gap = (f"bedömningen är {age:.1f} år gammal vid ansökan (högst "
               f"{settings.max_assessment_age_years:g} år)").replace(".", ",")
    fits = stage in suitable
    out["stage_suitable"] = fits
    if fits:
        text += f"; stadiet passar {kind_label}."
    else:
        advice = stage_strategy(stage, settings.suitable_stages, kinds)
        out["stage_advice"] = advice
        text += (f"; {kind_label} får sällan fäste vid stadiet (passar stadium {min(suitable)}–"
                 f"{max(suitable)}). Vid {advice}.")
    if found.get("warning"):
        text += f" Varning i bedömningen: {found['warning']}."
        # A stage resting on too few interviews, unscored dimensions or a consensus outside
        # its scorers' range is itself uncertain: people look at it before money follows it.
        gap = gap or "bedömningen har en varning (se beredskapen), så stadiet är osäkert"
    return {**out, "readiness_text": text, "readiness_gap": gap}


def _support(app: dict, support: pl.DataFrame, year: int | None) -> dict:
    if year is None:
        on = app["applied_on"]
        current = support.filter((pl.col("start") <= on) & (pl.col("end") >= on))
        when = f"den {on}"
    else:
        current = support.filter((pl.col("start") <= date(year, 12, 31)) & (pl.col("end") >= date(year, 1, 1)))
        when = str(year)
    current = current.filter((pl.col("area_code") == app["area_code"])
                             & pl.col("factor").is_in(app["factors"].split(",")))
    n = current.height
    actors = ", ".join(sorted(set(current["actor"].to_list()))) or None
    text = (f"Stöd {when} inom utlysningens faktorer: {n} insats{'er' if n != 1 else ''} ({actors})."
            if n else f"Stöd {when} inom utlysningens faktorer: inget.")
    return {"current_supports": n, "current_actors": actors, "support_text": text}


def select(applications: pl.DataFrame, need: pl.DataFrame, stages: pl.DataFrame,
           support: pl.DataFrame, settings: SelectionSettings, support_kinds: dict[str, str],
           build_year: int | None = None, county_share: float = 1 / 3,
           national_share: float = 0.2) -> pl.DataFrame:
    """marts.selection: call × applicant, with a proposal and the reasons in Swedish.

    `applications`: the register (call_id, call_title, factors, support_kind, area_code,
    applied_on; optional places, frame, issue, prevention_star, support_year);
    `need`: marts.need_index; `stages`: marts.readiness_stage; `support`: the support
    register (actor, area_code, factor, start, end); `build_year`: the build's year (the
    default support year, and the latest one allowed); `county_share` and `national_share`:
    the need index's highest-need shares, for the sentences.
    """
    for column, dtype in (("places", pl.Int32), ("frame", pl.String), ("issue", pl.String),
                          ("prevention_star", pl.String), ("support_year", pl.Int32)):
        if column not in applications.columns:
            applications = applications.with_columns(pl.lit(None, dtype=dtype).alias(column))
    if "prevention_star" not in stages.columns:
        stages = stages.with_columns(prevention_star=pl.lit(None, dtype=pl.String))
    need_rows = {(r["area_code"], r["factor"]): r for r in
                 need.filter(pl.col("area_type") == "kommun").iter_rows(named=True)}
    by_kommun: dict[str, list[dict]] = {}
    for r in stages.sort("assessed_on", "assessment_id").iter_rows(named=True):
        by_kommun.setdefault(r["area_code"], []).append(r)
    rows = []
    for app in applications.sort("call_id", "area_code").iter_rows(named=True):
        frame = app["frame"] or settings.frame
        year = app["support_year"] if app["support_year"] is not None else build_year
        if year is not None and build_year is not None:
            year = min(year, build_year)
        rows.append({**{k: app[k] for k in ("call_id", "call_title", "area_code", "applied_on",
                                            "factors", "support_kind")},
                     "frame": frame, "places": app["places"] or settings.max_proposed, "support_year": year,
                     **_need(app, need_rows, frame, county_share, national_share),
                     **_readiness(app, by_kommun.get(app["area_code"], []), settings, support_kinds),
                     **_support(app, support, year)})
    return _propose(rows, settings)


def _outcome(r: dict, settings: SelectionSettings) -> tuple[str, str | None]:
    """(outcome, why) before the places are filled; candidates have why None."""
    p = r.get("p_frame")
    where = FRAMES[r["frame"]]
    if r.get("review"):
        return "qualitative_review", r["review"]
    if p < settings.review_from:
        return "not_proposed", (f"tydligt lägre behov än de högsta i {where} (sannolikhet {_pct(p)}, "
                                f"under {_pct(settings.review_from)})")
    if p < settings.propose_from:
        return "qualitative_review", (f"osäkert om behovet hör till de högsta i {where} (sannolikhet "
                                      f"{_pct(p)}, mellan {_pct(settings.review_from)} och "
                                      f"{_pct(settings.propose_from)})")
    if r.get("readiness_gap"):
        return "qualitative_review", f"tydligt högt behov, men {r['readiness_gap']}"
    if r.get("stage_suitable") is False:
        return "not_proposed", "tydligt högt behov, men stadiet passar inte stödformen; se beredskapen för vad som passar"
    return "propose", None


def _propose(rows: list[dict], settings: SelectionSettings) -> pl.DataFrame:
    out = []
    for call in sorted({r["call_id"] for r in rows}):
        applicants = [r for r in rows if r["call_id"] == call]
        for r in applicants:
            r["proposal"], r["why"] = _outcome(r, settings)
            p = r.get("p_frame")
            r["need_band"] = (None if p is None else "high" if p >= settings.propose_from
                              else "uncertain" if p >= settings.review_from else "low")

        def key(r: dict) -> tuple:
            p = r.get("p_frame")
            return (OUTCOME_ORDER[r["proposal"]], -(p if p is not None else -1.0), r["current_supports"],
                    r.get("rank_median") or 1e9, r["area_code"])

        places = applicants[0]["places"]
        proposed = 0
        for order, r in enumerate(sorted(applicants, key=key), start=1):
            r["order"] = order
            if r["proposal"] == "propose":
                if proposed < places:
                    proposed += 1
                    r["verdict"] = f"Förslag: föreslås (plats {proposed} av {places})."
                    r["proposal_reason"] = (f"plats {proposed} av {places}: tydligt högt behov och ett "
                                            "stadium som passar stödformen")
                    continue
                r["proposal"] = "not_proposed"
                r["why"] = (f"tydligt högt behov och lämpligt stadium, men utlysningens {places} platser "
                            "går till kommuner före i ordningen; står på tur om en plats blir ledig")
            word = "bedöm kvalitativt" if r["proposal"] == "qualitative_review" else "föreslås inte"
            r["verdict"] = f"Förslag: {word}: {r['why']}."
            r["proposal_reason"] = r["why"]
        for r in sorted(applicants, key=lambda r: r["order"]):
            parts = [r["need_text"] or f"Behov: {r['why']}.", r["readiness_text"], r["support_text"],
                     r["verdict"], DECIDE]
            r["reasons"] = " ".join(parts)
            r["proposal_label"] = PROPOSALS[r["proposal"]]
            out.append(r)
    frame = pl.DataFrame([{k: r.get(k) for k in SELECTION_SCHEMA} for r in out], schema=SELECTION_SCHEMA)
    return frame.sort("call_id", "order")
