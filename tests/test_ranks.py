"""Rank bands and quintiles (relative position, PHE quantile rule)."""

from __future__ import annotations

import polars as pl

from transforms.ranks import add_rank_views, quantile_expr


def quantiles(values, nq, best_high=False):
    frame = pl.DataFrame({"v": values, "g": ["a"] * len(values)})
    return frame.select(quantile_expr(pl.col("v"), nq, best_high=pl.lit(best_high),
                                      group=["g"]).alias("q"))["q"].to_list()


def test_quintiles_of_ten_values_in_pairs():
    assert quantiles([float(v) for v in range(1, 11)], 5) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_quartiles_of_seven_values():
    # N/nq = 1.75: q = floor(5 − ceil((8 − rank)/1.75)) → 1, 1, 2, 2, 3, 3, 4
    assert quantiles([float(v) for v in range(1, 8)], 4) == [1, 1, 2, 2, 3, 3, 4]


def test_high_is_good_puts_the_highest_first_and_ties_share():
    assert quantiles([5.0, 9.0, 9.0, 1.0, 3.0], 5, best_high=True) == [3, 1, 1, 5, 4]


def test_too_few_values_and_missing_values_get_none():
    assert quantiles([1.0, 2.0, 3.0], 5) == [None, None, None]
    assert quantiles([1.0, None, 2.0, 3.0, 4.0, 5.0], 5)[1] is None


def test_bands_follow_polarity_and_only_kommuner_are_ranked():
    rows = [{"indicator_id": "X", "period": 2024, "sex": "T", "breakdown": "all",
             "area_type": "kommun", "status": "ok", "value": float(v), "polarity": pol}
            for pol in ("low_is_good",) for v in range(1, 9)]
    rows.append({**rows[0], "area_type": "lan", "value": 0.0})
    out = add_rank_views(pl.DataFrame(rows))
    kommun = out.filter(pl.col("area_type") == "kommun").sort("value")
    assert kommun["rank_band"].to_list() == ["best_25"] * 2 + ["middle_50"] * 4 + ["worst_25"] * 2
    assert out.filter(pl.col("area_type") == "lan")["rank_band"].item() is None
    neutral = add_rank_views(pl.DataFrame(rows).with_columns(polarity=pl.lit("no_judgement")))
    assert neutral.filter(pl.col("value") == 1.0, pl.col("area_type") == "kommun")["rank_band"].item() == "lowest_25"
