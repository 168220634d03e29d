"""Selection among applicants (issue 14, points 1 and 3): the county frame, three outcomes
in configurable bands, readiness of the call's issue, stage strategies, places, reasons."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from sources.registers.layouts import SUPPORT_TYPE
from tests.test_support import support
from transforms.selection import SelectionSettings, ordinal, select

ISSUE = "Förebygga våld bland unga"


def applications(kind: str = "ekonomiskt_stod", factors: str = "skola,fritid", **call) -> pl.DataFrame:
    codes = ["0580", "0581", "0582", "0583", "0584", "0585"]
    n = len(codes)
    return pl.DataFrame({"call_id": ["C1"] * n, "call_title": ["Utlysning"] * n, "factors": [factors] * n,
                         "support_kind": [kind] * n, "places": [call.get("places")] * n,
                         "frame": [call.get("frame")] * n, "issue": [call.get("issue", ISSUE)] * n,
                         "prevention_star": [call.get("star")] * n, "support_year": [call.get("year")] * n,
                         "area_code": codes, "applied_on": [date(2025, 2, 1)] * n},
                        schema_overrides={"places": pl.Int32, "frame": pl.String, "issue": pl.String,
                                          "prevention_star": pl.String, "support_year": pl.Int32})


# kommun → (p in the county's top third, p in the country's top fifth, county rank, national rank)
NEED = {"0580": (0.9, 0.35, 1, 49), "0581": (0.95, 0.6, 2, 30), "0582": (0.85, 0.1, 3, 80),
        "0583": (0.5, 0.0, 5, 140), "0584": (0.1, 0.0, 9, 200), "0585": (None, None, None, None)}


def need(rankability_lan: float = 0.9) -> pl.DataFrame:
    out = []
    for code, (p_lan, p, rank_lan, rank) in NEED.items():
        for factor, shift in (("skola", 0.0), ("fritid", -0.5)):
            ok = p_lan is not None
            out.append({"area_code": code, "area_type": "kommun", "factor": factor,
                        "status": "ok" if ok else "missing",
                        "p_top_lan": max(0.0, p_lan + shift) if ok else None,
                        "p_top_fifth": max(0.0, p + shift) if ok else None,
                        "rank": rank, "rank_median": float(rank) if ok else None,
                        "rank_lower": rank - 5 if ok else None, "rank_upper": rank + 20 if ok else None,
                        "n_ranked": 290, "rankability": 0.97,
                        "rank_lan": rank_lan, "rank_lan_lower": max(1, rank_lan - 1) if ok else None,
                        "rank_lan_upper": rank_lan + 2 if ok else None, "n_ranked_lan": 13,
                        "rankability_lan": rankability_lan})
    return pl.DataFrame(out)


def stages(*rows: tuple) -> pl.DataFrame:
    """(kommun, assessment, date, stage, issue, stars, warning)."""
    return pl.DataFrame([{"area_code": k, "assessment_id": a, "assessed_on": d, "stage": s,
                          "score": s + 0.5, "issue": i, "prevention_star": st, "warning": w}
                         for k, a, d, s, i, st, w in rows],
                        schema={"area_code": pl.String, "assessment_id": pl.String, "assessed_on": pl.Date,
                                "stage": pl.Int8, "score": pl.Float64, "issue": pl.String,
                                "prevention_star": pl.String, "warning": pl.String})


STAGES = stages(
    ("0580", "a", date(2025, 1, 10), 6, ISSUE, None, None),
    ("0581", "b", date(2024, 11, 1), 4, ISSUE, None, None),          # stage 4.5: too early for money
    ("0582", "c", date(2025, 1, 12), 7, "Utanförskap", None, None),   # another issue
    ("0583", "d", date(2025, 1, 12), 6, ISSUE, None, None),
)


def rows(out: pl.DataFrame) -> dict[str, dict]:
    return {r["area_code"]: r for r in out.iter_rows(named=True)}


def test_three_outcomes_in_the_county_frame_with_both_places_quoted():
    out = select(applications(), need(), STAGES, support([]), SelectionSettings(), SUPPORT_TYPE, build_year=2025)
    row = rows(out)
    # 0580: p 0.9 in the county (≥ 0.8), stage 6 of the call's issue, suits money: proposed.
    assert row["0580"]["proposal"] == "propose" and row["0580"]["frame"] == "lan"
    assert row["0580"]["p_frame"] == 0.9 and row["0580"]["need_band"] == "high"
    assert ("Behov inom måluppfyllelse i skolan: 1:a högst behov av 13 i länet (intervall 1–3; "
            "90\u00a0% sannolikhet att höra till länets tredjedel med störst behov); 49 av 290 i riket "
            "(intervall 44–69; 35\u00a0% sannolikhet att höra till rikets femtedel med störst behov).") \
        in row["0580"]["reasons"]
    # 0581: clearly high need, but stage 4 is too early for money: not proposed, with advice.
    assert row["0581"]["proposal"] == "not_proposed" and row["0581"]["stage_suitable"] is False
    assert row["0581"]["stage_advice"] == ("stadium 4 (förplanering): arbetet bör höja medvetenheten med "
                                           "konkreta idéer om vad som kan göras; passar: kunskapsstöd, "
                                           "data och analys, processtöd, utbildning")
    assert "får sällan fäste" in row["0581"]["reasons"]
    # 0582: clearly high need, but its only assessment is of another issue: review, never "suitable".
    assert row["0582"]["proposal"] == "qualitative_review" and row["0582"]["readiness_for_call"] is False
    assert "gäller en annan fråga" in row["0582"]["reasons"]
    assert "ingen beredskapsbedömning av utlysningens fråga" in row["0582"]["reasons"]
    # 0583: p 0.5 lies in the uncertain band 0.2–0.8: review.
    assert row["0583"]["proposal"] == "qualitative_review" and row["0583"]["need_band"] == "uncertain"
    assert "mellan 20\u00a0% och 80\u00a0%" in row["0583"]["reasons"]
    # 0584: p 0.1 < 0.2: clearly lower need.
    assert row["0584"]["proposal"] == "not_proposed" and "tydligt lägre behov" in row["0584"]["reasons"]
    # 0585: no need score: review.
    assert row["0585"]["proposal"] == "qualitative_review" and "kan inte beräknas" in row["0585"]["reasons"]
    # Every applicant has a place in the order: proposed, review (by need), not proposed.
    assert out["area_code"].to_list() == ["0580", "0582", "0583", "0585", "0581", "0584"]
    assert out["order"].to_list() == [1, 2, 3, 4, 5, 6]
    assert all(r.endswith("beslutet fattas av handläggarna.") for r in out["reasons"])


def test_an_unassessed_kommun_with_clearly_high_need_is_reviewed_not_proposed():
    unassessed = STAGES.filter(pl.col("area_code") != "0580")
    row = rows(select(applications(), need(), unassessed, support([]), SelectionSettings(), SUPPORT_TYPE))
    assert row["0580"]["proposal"] == "qualitative_review"
    assert "beredskapen är inte bedömd" in row["0580"]["reasons"]


def test_the_country_frame_when_the_call_asks_for_it():
    row = rows(select(applications(frame="riket"), need(), STAGES, support([]), SelectionSettings(), SUPPORT_TYPE))
    # In the country 0580's p is 0.35: uncertain. 0582 (0.1) is clearly lower there.
    assert (row["0580"]["p_frame"], row["0580"]["proposal"]) == (0.35, "qualitative_review")
    assert row["0582"]["proposal"] == "not_proposed" and "i riket" in row["0582"]["reasons"]


def test_places_and_support_decide_among_clearly_high_need():
    # Knowledge support suits every stage; issue matched by a Preventionsstjärnan point too.
    both = stages(("0580", "a", date(2025, 1, 10), 6, ISSUE, None, None),
                  ("0581", "b", date(2024, 11, 1), 4, "Trygghet", "brott,vald", None),
                  ("0582", "c", date(2025, 1, 12), 7, ISSUE, None, None))
    current = support([("Region", "0581", "skola", "processtod", date(2025, 1, 1), date(2025, 12, 31), None),
                       ("Region", "0582", "narsamhalle", "processtod", date(2025, 1, 1), date(2025, 12, 31), None)])
    out = select(applications(kind="kunskapsstod", places=2, star="vald"), need(), both, current,
                 SelectionSettings(), SUPPORT_TYPE, build_year=2025)
    row = rows(out)
    assert row["0581"]["readiness_for_call"] is True                  # shares "vald"
    # All three clearly high; two places, by need: 0581 (0.95), 0580 (0.9); 0582 (0.85) waits.
    assert [row[k]["proposal"] for k in ("0581", "0580", "0582")] == ["propose", "propose", "not_proposed"]
    assert "plats 1 av 2" in row["0581"]["reasons"] and "står på tur" in row["0582"]["reasons"]
    assert row["0581"]["current_supports"] == 1 and row["0582"]["current_supports"] == 0  # other factor
    assert "Stöd 2025 inom utlysningens faktorer: 1 insats (Region)." in row["0581"]["reasons"]


def test_an_old_assessment_is_reviewed_and_warnings_are_quoted():
    old = stages(("0580", "a", date(2022, 6, 1), 6, ISSUE, None, None),
                 ("0583", "d", date(2025, 1, 12), 6, ISSUE, None,
                  "konsensus utanför bedömarnas poäng: intervju 3 dimension C (3 och 3, konsensus 8)"))
    row = rows(select(applications(), need(), old, support([]), SelectionSettings(), SUPPORT_TYPE))
    assert row["0580"]["proposal"] == "qualitative_review"
    assert "bedömningen är 2,7 år gammal vid ansökan (högst 2 år)" in row["0580"]["reasons"]
    assert "Varning i bedömningen: konsensus utanför bedömarnas poäng: intervju 3" in row["0583"]["reasons"]


def test_a_warning_on_the_assessment_sends_clearly_high_need_to_review():
    # 0580 has clearly high need (p 0.9) at a suitable stage 6: proposed without a warning,
    # but a consensus of 8 where both scorers gave 3 makes the stage itself uncertain.
    warned = stages(("0580", "a", date(2025, 1, 10), 6, ISSUE, None,
                     "konsensus utanför bedömarnas poäng: intervju 3 dimension C (3 och 3, konsensus 8)"))
    row = rows(select(applications(), need(), warned, support([]), SelectionSettings(), SUPPORT_TYPE,
                      build_year=2025))
    assert row["0580"]["proposal"] == "qualitative_review"
    assert "tydligt högt behov, men bedömningen har en varning" in row["0580"]["reasons"]
    clean = warned.with_columns(warning=pl.lit(None, dtype=pl.String))
    assert rows(select(applications(), need(), clean, support([]), SelectionSettings(), SUPPORT_TYPE,
                       build_year=2025))["0580"]["proposal"] == "propose"


def test_bands_are_configurable_and_a_ranking_that_says_little_says_so():
    wide = SelectionSettings(propose_from=0.95, review_from=0.05)
    row = rows(select(applications(), need(rankability_lan=0.4), STAGES, support([]), wide, SUPPORT_TYPE))
    assert row["0580"]["proposal"] == "qualitative_review"         # 0.9 < 0.95 now
    assert row["0584"]["proposal"] == "qualitative_review"         # 0.1 ≥ 0.05 now
    assert "Rangordningen säger lite i länet: bara 40\u00a0% av rangskillnaderna är verkliga" in row["0580"]["reasons"]


def test_a_county_too_small_to_rank_goes_to_review():
    small = need().with_columns(p_top_lan=pl.lit(None, dtype=pl.Float64), n_ranked_lan=pl.lit(1),
                                rank_lan=pl.lit(1), rank_lan_lower=pl.lit(1), rank_lan_upper=pl.lit(1))
    out = select(applications(), small, STAGES, support([]), SelectionSettings(), SUPPORT_TYPE)
    ok = out.filter(pl.col("area_code") != "0585")
    assert set(ok["proposal"]) == {"qualitative_review"}
    assert "länet har bara 1 kommun med beräknat behov" in ok["reasons"][0]


@pytest.mark.parametrize("n, text", [(1, "1:a"), (2, "2:a"), (3, "3:e"), (11, "11:e"), (12, "12:e"),
                                     (21, "21:a"), (22, "22:a"), (100, "100:e")])
def test_swedish_ordinals(n, text):
    assert ordinal(n) == text
