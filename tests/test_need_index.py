"""The need index: a hand-computed case, the coverage rule, and properties of the Monte Carlo."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.need import (NeedArrays, NeedConfig, Plan, need_index, need_sensitivity,
                             prepare_inputs, simulate)

KOMMUNER = ["0101", "0102", "0201", "0202", "0203"]


def facts(rows: list[tuple]) -> pl.DataFrame:
    """(indicator, kommun, year, value, lower, upper, status) → fact rows (sex T, all)."""
    return pl.DataFrame(
        [{"indicator_id": i, "area_code": k, "area_type": "kommun", "period": y, "sex": "T",
          "breakdown": "all", "value": v, "lower_95": lo, "upper_95": hi, "status": s,
          "status_reason": None if s == "ok" else "dolt: färre än 5"}
         for i, k, y, v, lo, hi, s in rows],
        schema={"indicator_id": pl.String, "area_code": pl.String, "area_type": pl.String,
                "period": pl.Int32, "sex": pl.String, "breakdown": pl.String, "value": pl.Float64,
                "lower_95": pl.Float64, "upper_95": pl.Float64, "status": pl.String,
                "status_reason": pl.String})


INDICATORS = pl.DataFrame({"indicator_id": ["poverty", "eligible", "crime"],
                           "polarity": ["low_is_good", "high_is_good", "low_is_good"]})
AREAS = pl.DataFrame({
    "area_code": [*KOMMUNER, "01", "02"],
    "area_type": ["kommun"] * 5 + ["lan", "lan"],
    "lan_code": ["01", "01", "02", "02", "02", "01", "02"]})
MEMBERSHIP = pl.DataFrame({"kommun_code": KOMMUNER, "area_code": ["01", "01", "02", "02", "02"],
                           "area_type": ["lan"] * 5})
CHILDREN = pl.DataFrame({"area_code": KOMMUNER, "children": [100.0, 300.0, 200.0, 200.0, 50.0]})


def config(**changes) -> NeedConfig:
    """No method variation, no sampling: every draw equals the nominal index."""
    base = {"version": "1.0.0", "reference_year": 2024, "draws": 20, "seed": 1,
            "winsorising": {"nominal": 0.0, "alternatives": [0.0]},
            "normalisation": {"nominal": "z_reference", "alternatives": ["z_reference"]},
            "aggregation": {"nominal": "arithmetic", "alternatives": ["arithmetic"]},
            "weight_noise": 0.0, "sampling": False,
            "factors": {"skola": {"indicators": {"poverty": 2, "eligible": 1}}}}
    return NeedConfig.model_validate({**base, **changes})


HAND = facts([
    # poverty (higher = more need): 10, 20, 30, 40 → mean 25, sd √(500/3) = 12.9099
    ("poverty", "0101", 2024, 10.0, None, None, "ok"),
    ("poverty", "0102", 2024, 20.0, None, None, "ok"),
    ("poverty", "0201", 2024, 30.0, None, None, "ok"),
    ("poverty", "0202", 2024, 40.0, None, None, "ok"),
    # eligible (higher = less need): 90, 70, 80, 60 → mean 75, sd 12.9099, sign −1
    ("eligible", "0101", 2024, 90.0, None, None, "ok"),
    ("eligible", "0102", 2024, 70.0, None, None, "ok"),
    ("eligible", "0201", 2024, 80.0, None, None, "ok"),
    ("eligible", "0202", 2024, 60.0, None, None, "ok"),
    # 0203 has no poverty value and a suppressed eligible value: nothing usable.
    ("eligible", "0203", 2024, None, None, None, "suppressed"),
])


def test_hand_computed_index():
    inputs = prepare_inputs(HAND, INDICATORS, KOMMUNER, config())
    sd = math.sqrt(500 / 3)  # 12.9099
    z = {r["area_code"]: r["aligned_z"] for r in
         inputs.filter(pl.col("indicator_id") == "poverty").iter_rows(named=True)}
    assert z["0101"] == pytest.approx(-15 / sd) and z["0202"] == pytest.approx(15 / sd)
    eligible = {r["area_code"]: r["aligned_z"] for r in
                inputs.filter(pl.col("indicator_id") == "eligible").iter_rows(named=True)}
    assert eligible["0102"] == pytest.approx(5 / sd)  # −(70 − 75)/sd: lower eligibility, more need
    # Weights 2:1 renormalised: 2/3 and 1/3.
    assert inputs.filter(pl.col("area_code") == "0101")["weight"].to_list() == pytest.approx([1 / 3, 2 / 3])
    # Suppressed is missing, never 0.
    gone = inputs.filter(pl.col("area_code") == "0203")
    assert gone["status"].to_list() == ["suppressed", "missing"]
    assert gone["value"].null_count() == 2 and gone["aligned_z"].null_count() == 2

    index = need_index(inputs, config(), AREAS, MEMBERSHIP, CHILDREN)
    kommun = {r["area_code"]: r for r in
              index.filter((pl.col("area_type") == "kommun") & (pl.col("factor") == "skola")).iter_rows(named=True)}
    # Factor score = (2·z_poverty + z_eligible)/3:
    #   0101: (2·−1.1619 + −1.1619)/3 = −1.1619   0102: (2·−0.3873 + 0.3873)/3 = −0.1291
    #   0201: (2·0.3873 + −0.3873)/3 = 0.1291      0202: (2·1.1619 + 1.1619)/3 = 1.1619
    assert [kommun[k]["rank"] for k in ("0202", "0201", "0102", "0101")] == [1, 2, 3, 4]
    # Score ⌈100·(n − rank + 1)/n⌉ and level ⌈5·(n − rank + 1)/n⌉ with n = 4.
    assert [kommun[k]["score"] for k in ("0202", "0201", "0102", "0101")] == [100, 75, 50, 25]
    assert [kommun[k]["level"] for k in ("0202", "0201", "0102", "0101")] == [5, 4, 3, 2]
    # Without any uncertainty every draw gives the nominal rank; the top fifth is rank ≤ ⌈4/5⌉ = 1.
    assert kommun["0201"]["rank_lower"] == kommun["0201"]["rank_upper"] == 2
    assert kommun["0202"]["p_top_fifth"] == 1.0 and kommun["0201"]["p_top_fifth"] == 0.0
    # The coverage rule: 0203 has 0 of 2 indicators → no score, rank or probability.
    assert kommun["0203"]["status"] == "missing" and kommun["0203"]["score"] is None
    assert kommun["0203"]["p_top_fifth"] is None and "0 av faktorns 2" in kommun["0203"]["status_reason"]
    # Län = child-weighted mean of percentile scores 100·(n − rank + 1)/n:
    #   01: (100·25 + 300·50)/400 = 43.75   02: (200·75 + 200·100)/(200 + 200) = 87.5 (0203 unscored)
    lan = {r["area_code"]: r for r in
           index.filter((pl.col("area_type") == "lan") & (pl.col("factor") == "skola")).iter_rows(named=True)}
    assert lan["01"]["score"] == pytest.approx(43.75) and lan["02"]["score"] == pytest.approx(87.5)
    assert (lan["02"]["rank"], lan["01"]["rank"]) == (1, 2)
    assert lan["02"]["coverage"] == pytest.approx(400 / 450)
    assert index["index_version"].unique().to_list() == [config().fingerprint]


def test_exactly_half_the_indicators_is_enough_and_less_is_not():
    rows = [(i, k, 2024, v, None, None, "ok") for i, k, v in [
        ("poverty", "0101", 10.0), ("poverty", "0102", 20.0), ("poverty", "0201", 30.0),
        ("eligible", "0101", 90.0), ("eligible", "0102", 70.0), ("eligible", "0201", 80.0),
        ("crime", "0101", 1.0), ("crime", "0102", 2.0), ("crime", "0201", 3.0),
        ("crime", "0202", 4.0), ("poverty", "0202", 35.0)]]  # 0202: 2 of 3 ok; 0203: none
    cfg = config(factors={"skola": {"indicators": {"poverty": 1, "eligible": 1}},
                          "narsamhalle": {"indicators": {"crime": 1}}})
    index = need_index(prepare_inputs(facts(rows), INDICATORS, KOMMUNER, cfg), cfg, AREAS, MEMBERSHIP, CHILDREN)
    status = {(r["area_code"], r["factor"]): r["status"] for r in index.iter_rows(named=True)}
    assert status[("0202", "skola")] == "ok"           # 1 of 2 = half: kept
    assert status[("0203", "skola")] == "missing"      # 0 of 2
    assert status[("0203", "overall")] == "missing"    # no factor at all
    assert status[("0202", "overall")] == "ok"


def test_latest_year_per_indicator_and_reference_year_fallback():
    rows = [("poverty", k, y, v + (y - 2020), None, None, "ok")
            for y in (2021, 2023) for k, v in zip(KOMMUNER[:4], [10.0, 20.0, 30.0, 40.0], strict=True)]
    rows += [("eligible", k, 2024, v, None, None, "ok")
             for k, v in zip(KOMMUNER[:4], [90.0, 70.0, 80.0, 60.0], strict=True)]
    inputs = prepare_inputs(facts(rows), INDICATORS, KOMMUNER, config(reference_year=2022))
    poverty = inputs.filter(pl.col("indicator_id") == "poverty")
    assert poverty["period"].unique().to_list() == [2023]
    # 2021 and 2023 are equally near 2022: the earlier year is the reference.
    assert poverty["reference_period"].unique().to_list() == [2021]
    assert poverty["reference_mean"].unique().to_list() == [26.0]
    # 2023 values are 3 above 2020's, the reference 1 above: z moves with the data.
    assert poverty.filter(pl.col("area_code") == "0101")["aligned_z"][0] == pytest.approx(
        (13 - 26) / math.sqrt(500 / 3))


def _random_inputs(seed: int, kommuner: int = 40, width: float = 1.0, missing: float = 0.1) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    codes = [f"{1000 + i:04d}" for i in range(kommuner)]
    rows = []
    for indicator in ("poverty", "eligible", "crime"):
        for code in codes:
            if rng.random() < missing:
                continue
            v = float(rng.uniform(20, 80))
            half = float(rng.uniform(1, 6)) * width
            rows.append((indicator, code, 2024, v, v - half, v + half, "ok"))
    return facts(rows), codes


MC = {"draws": 200, "sampling": True, "weight_noise": 0.25,
      "winsorising": {"nominal": 0.01, "alternatives": [0.01, 0.05]},
      "normalisation": {"nominal": "z_reference", "alternatives": ["z_reference", "rank_normal"]},
      "aggregation": {"nominal": "arithmetic", "alternatives": ["arithmetic", "geometric"]},
      "factors": {"skola": {"indicators": {"poverty": 1, "eligible": 1}},
                  "narsamhalle": {"indicators": {"crime": 1}}}}


@settings(max_examples=12, deadline=None)
@given(st.integers(0, 10_000))
def test_ranks_are_a_permutation_and_intervals_hold_the_median(seed):
    data, codes = _random_inputs(seed)
    cfg = config(**MC)
    inputs = prepare_inputs(data, INDICATORS, codes, cfg)
    a = NeedArrays.of(inputs, cfg)
    ranks = simulate(a, Plan.monte_carlo(cfg, len(a.inputs), len(a.factors)))
    for f in range(ranks.shape[2]):
        scored = a.scored[:, f]
        for draw in ranks[:, :, f]:
            assert sorted(draw[scored].tolist()) == list(range(1, scored.sum() + 1))
            assert (draw[~scored] == 0).all()
    areas = pl.DataFrame({"area_code": codes, "area_type": ["kommun"] * len(codes), "lan_code": ["10"] * len(codes)})
    none = pl.DataFrame(schema={"kommun_code": pl.String, "area_code": pl.String, "area_type": pl.String})
    index = need_index(inputs, cfg, areas, none, pl.DataFrame({"area_code": codes, "children": [1.0] * len(codes)}))
    ok = index.filter(pl.col("status") == "ok")
    assert (ok["rank_lower"] <= ok["rank_median"]).all() and (ok["rank_median"] <= ok["rank_upper"]).all()
    assert ok["p_top_fifth"].is_between(0, 1).all()


def test_more_uncertainty_widens_the_intervals():
    widths = []
    for width in (0.5, 4.0):
        data, codes = _random_inputs(7, kommuner=60, width=width, missing=0.0)
        cfg = config(**{**MC, "weight_noise": 0.0,
                        "winsorising": {"nominal": 0.01, "alternatives": [0.01]},
                        "normalisation": {"nominal": "z_reference", "alternatives": ["z_reference"]},
                        "aggregation": {"nominal": "arithmetic", "alternatives": ["arithmetic"]}})
        areas = pl.DataFrame({"area_code": codes, "area_type": ["kommun"] * 60, "lan_code": ["10"] * 60})
        none = pl.DataFrame(schema={"kommun_code": pl.String, "area_code": pl.String, "area_type": pl.String})
        index = need_index(prepare_inputs(data, INDICATORS, codes, cfg), cfg, areas, none,
                           pl.DataFrame({"area_code": codes, "children": [1.0] * 60}))
        widths.append((index["rank_upper"] - index["rank_lower"]).mean())
    assert widths[1] > 2 * widths[0]


def test_same_seed_same_index_and_sensitivity_names_what_moves():
    data, codes = _random_inputs(3)
    cfg = config(**MC)
    inputs = prepare_inputs(data, INDICATORS, codes, cfg)
    areas = pl.DataFrame({"area_code": codes, "area_type": ["kommun"] * len(codes), "lan_code": ["10"] * len(codes)})
    none = pl.DataFrame(schema={"kommun_code": pl.String, "area_code": pl.String, "area_type": pl.String})
    kids = pl.DataFrame({"area_code": codes, "children": [1.0] * len(codes)})
    assert need_index(inputs, cfg, areas, none, kids).equals(need_index(inputs, cfg, areas, none, kids))
    sens = need_sensitivity(inputs, cfg, {"poverty": "Fattigdom"})
    skola = sens.filter(pl.col("factor") == "skola")
    assert set(skola["input"]) == {"poverty", "eligible", "sampling", "winsorising", "normalisation",
                                   "weights", "aggregation"}
    assert skola["rank_of_effect"].to_list() == list(range(1, skola.height + 1))
    assert skola.filter(pl.col("input") == "poverty")["input_label"][0] == "Fattigdom"
    # Crime is the only indicator of narsamhalle: it moves the overall ranks, not skola's.
    assert "crime" not in skola["input"].to_list()
    assert sens.filter((pl.col("factor") == "overall") & (pl.col("input") == "crime"))["effect"][0] > 0
