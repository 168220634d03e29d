"""Readiness input checks and stage strategies (issue 14, points 3 and 5)."""

from __future__ import annotations

from datetime import date

import polars as pl

from sources.registers.layouts import SUPPORT_TYPE
from tests.test_readiness import sheet
from transforms.readiness import STAGE_GOALS, dimension_scores, stage_strategy, stages
from transforms.selection import SelectionSettings


def test_a_consensus_outside_both_scorers_is_warned_on_the_dimension_and_the_stage():
    interviews = sheet().with_columns(
        consensus=pl.when((pl.col("interview_id") == "3") & (pl.col("dimension") == "C"))
        .then(8.0).otherwise("consensus"),
        scorer_1=pl.when((pl.col("interview_id") == "3") & (pl.col("dimension") == "C"))
        .then(3.0).otherwise("scorer_1"),
        scorer_2=pl.when((pl.col("interview_id") == "3") & (pl.col("dimension") == "C"))
        .then(3.0).otherwise("scorer_2"))
    dims = dimension_scores(interviews)
    c = dims.filter(pl.col("dimension") == "C").row(0, named=True)
    assert c["warning"] == "konsensus utanför bedömarnas poäng: intervju 3 (3 och 3, konsensus 8)"
    assert dims.filter(pl.col("dimension") != "C")["warning"].null_count() == 5
    stage = stages(interviews, dims).row(0, named=True)
    assert stage["warning"] == "konsensus utanför bedömarnas poäng: intervju 3 dimension C (3 och 3, konsensus 8)"
    # Within the margin (0.5 by default; here 4 and 4.5 with a consensus of 5) is no warning;
    # with margin 0 it is.
    near = sheet().with_columns(consensus=pl.when((pl.col("interview_id") == "1") & (pl.col("dimension") == "A"))
                                .then(4.5).otherwise("consensus"))
    assert dimension_scores(near)["warning"].null_count() == 6
    assert dimension_scores(near, margin=0.0).filter(pl.col("dimension") == "A")["warning"][0] == \
        "konsensus utanför bedömarnas poäng: intervju 1 (4 och 4, konsensus 4,5)"


def test_interviews_on_different_days_are_one_assessment_dated_by_the_last():
    days = [date(2025, 3, d) for d in (3, 4, 10, 11, 12, 17)]
    interviews = sheet().with_columns(
        assessed_on=pl.col("interview_id").cast(pl.Int32).map_elements(lambda i: days[i - 1], return_dtype=pl.Date))
    dims = dimension_scores(interviews)
    result = stages(interviews, dims)
    assert result.height == 1
    row = result.row(0, named=True)
    assert (row["assessed_on"], row["n_interviews"], row["stage"]) == (date(2025, 3, 17), 6, 4)


def test_the_handbooks_stage_goal_and_the_kinds_that_suit_a_stage():
    suitable = SelectionSettings().suitable_stages
    assert set(STAGE_GOALS) == set(range(1, 10))
    assert stage_strategy(2, suitable, SUPPORT_TYPE) == (
        "stadium 2 (förnekelse eller motstånd): arbetet bör höja medvetenheten om att problemet finns "
        "här; passar: kunskapsstöd, data och analys")
    assert stage_strategy(8, suitable, SUPPORT_TYPE).endswith("passar: kunskapsstöd, data och analys, "
                                                              "utbildning, ekonomiskt stöd")
