"""Community Readiness scoring: a hand-computed scoring sheet and the truncation rule."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from transforms.readiness import dimension_scores, stage_of, stages

ISSUE = "Förebygga våld bland unga"
# Consensus scores per dimension for interviews 1–6 (the scoring sheet).
CONSENSUS = {
    "A": [4, 5, 5, 6, 5, 5],            # 30 / 6 = 5.0
    "B": [4, 4, 3.5, 4.5, 4, 4],        # 24 / 6 = 4.0  (lowest)
    "C": [5, 5.5, 5, 4.5, 5, 5],        # 30 / 6 = 5.0
    "D": [4.5, 4.5, 4, 5, 4.5, 4.5],    # 27 / 6 = 4.5
    "E": [6, 6, 6.5, 5.5, 6, 6],        # 36 / 6 = 6.0
    "F": [4.5, 5, 4.75, 4.75, 4.75, 4.75],  # 28.5 / 6 = 4.75
}
# Scorer 2 differs from scorer 1 only on dimension A.
SCORER_2_A = [4, 5, 6, 6, 4, 7]


def sheet(assessment: str = "0580-2025-03-15", on: date = date(2025, 3, 15),
          consensus: dict | None = None, interviews: int = 6, area: str = "0580") -> pl.DataFrame:
    rows = []
    for d, scores in (consensus or CONSENSUS).items():
        for i in range(interviews):
            one = scores[i]
            two = SCORER_2_A[i] if d == "A" and consensus is None else one
            rows.append({"area_code": area, "assessment_id": assessment, "assessed_on": on,
                         "issue": ISSUE, "interview_id": str(i + 1), "dimension": d,
                         "scorer_1": one, "scorer_2": two, "consensus": one})
    return pl.DataFrame(rows, schema={"area_code": pl.String, "assessment_id": pl.String,
                                      "assessed_on": pl.Date, "issue": pl.String,
                                      "interview_id": pl.String, "dimension": pl.String,
                                      "scorer_1": pl.Float64, "scorer_2": pl.Float64,
                                      "consensus": pl.Float64})


def test_hand_computed_scoring_sheet():
    interviews = sheet()
    dims = dimension_scores(interviews)
    score = dict(dims.select("dimension", "score").iter_rows())
    assert score == pytest.approx({"A": 5.0, "B": 4.0, "C": 5.0, "D": 4.5, "E": 6.0, "F": 4.75})
    assert dims["n_interviews"].to_list() == [6] * 6
    a = dims.filter(pl.col("dimension") == "A").row(0, named=True)
    # |s1 − s2| = 0, 0, 1, 0, 1, 2: five of six pairs within one point.
    assert a["agreement_within_one"] == pytest.approx(5 / 6)
    # Quadratic weighted kappa 2·s12 / (s1² + s2² + (m1 − m2)²), divisor n = 6:
    #   s1 = 4 5 5 6 5 5, mean 5;  s2 = 4 5 6 6 4 7, mean 16/3
    #   s1² = (1 + 0 + 0 + 1 + 0 + 0)/6 = 1/3
    #   s2² = (16/9 + 1/9 + 4/9 + 4/9 + 16/9 + 25/9)/6 = 66/54 = 11/9
    #   s12 = ((−1)(−4/3) + (1)(2/3))/6 = 2/6 = 1/3;  (m1 − m2)² = 1/9
    #   κ = (2/3) / (1/3 + 11/9 + 1/9) = (2/3) / (15/9) = 0.4
    assert a["weighted_kappa"] == pytest.approx(0.4)
    assert dims.filter(pl.col("dimension") == "B")["weighted_kappa"][0] == pytest.approx(1.0)
    assert dims["warning"].null_count() == 6 and dims["dimension_label"][0] == "Insatser"

    stage = stages(interviews, dims).row(0, named=True)
    # Overall = (5 + 4 + 5 + 4.5 + 6 + 4.75) / 6 = 29.25 / 6 = 4.875 → stage 4 (not 5).
    assert stage["score"] == pytest.approx(4.875)
    assert stage["stage"] == 4 and stage["stage_label"] == "Förplanering"
    assert stage["lowest_dimension"] == "B" and stage["lowest_dimension_label"] == "Kännedom om insatserna"
    assert stage["n_interviews"] == 6 and stage["n_dimensions"] == 6
    assert stage["agreement_within_one"] == pytest.approx(35 / 36)
    assert stage["warning"] is None and stage["previous_stage"] is None


@pytest.mark.parametrize("score, expected", [(4.89, 4), (4.999999, 4), (5.0, 5), (1.0, 1), (9.0, 9),
                                             ((4.5 + 5.5) / 2, 5), (0.1 + 0.2 + 4.7, 5)])
def test_stage_is_the_integer_part_never_rounded_up(score, expected):
    assert stage_of(score) == expected


def test_change_since_the_previous_assessment_of_the_same_issue():
    earlier = sheet("0580-2023-03-01", date(2023, 3, 1), {d: [3.0] * 6 for d in CONSENSUS})
    both = pl.concat([earlier, sheet().with_columns(issue=pl.lit("  förebygga VÅLD bland unga "))])
    dims = dimension_scores(both)
    latest = dims.filter(pl.col("assessment_id") == "0580-2025-03-15")
    assert latest["previous_score"].to_list() == [3.0] * 6
    assert dict(latest.select("dimension", "change").iter_rows())["E"] == pytest.approx(3.0)
    stage = stages(both, dims).filter(pl.col("assessment_id") == "0580-2025-03-15").row(0, named=True)
    assert stage["previous_stage"] == 3 and stage["change"] == pytest.approx(1.875)
    # Another kommun's assessment is never "previous".
    other = sheet("0581-2025-01-01", date(2025, 1, 1), area="0581")
    assert stages(other, dimension_scores(other))["previous_stage"].null_count() == 1


def test_warnings_for_too_few_interviews_and_a_dimension_without_scores():
    three = sheet(interviews=3).with_columns(
        consensus=pl.when(pl.col("dimension") == "C").then(None).otherwise("consensus"),
        scorer_1=pl.when(pl.col("dimension") == "C").then(None).otherwise("scorer_1"),
        scorer_2=pl.when(pl.col("dimension") == "C").then(None).otherwise("scorer_2"))
    dims = dimension_scores(three)
    c = dims.filter(pl.col("dimension") == "C").row(0, named=True)
    assert c["score"] is None and c["n_interviews"] == 0 and c["weighted_kappa"] is None
    assert "dimension C saknar poäng" in c["warning"] and "bara 3 intervjuer" in c["warning"]
    stage = stages(three, dims).row(0, named=True)
    assert stage["n_dimensions"] == 5
    assert stage["warning"] == ("bara 3 intervjuer (modellen kräver 4–6); dimension C saknar poäng; "
                                "stadiet bygger på 5 av 6 dimensioner")
    # A dimension scored in only some interviews is named too.
    partial = sheet().with_columns(consensus=pl.when((pl.col("dimension") == "D") & (pl.col("interview_id") == "2"))
                                   .then(None).otherwise("consensus"))
    d = dimension_scores(partial).filter(pl.col("dimension") == "D").row(0, named=True)
    assert d["n_interviews"] == 5 and d["score"] == pytest.approx(22.5 / 5)
    assert d["warning"] == "poäng finns bara för 5 av 6 intervjuer"
