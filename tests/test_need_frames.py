"""Need within the county and sub-region, rankability, and the geometric alternative on the
scale of need (issue 14, points 1, 2 and 8)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import polars as pl
import pytest

from tests.test_need_index import INDICATORS, MC, config, facts
from transforms.need import NeedArrays, Plan, need_index, prepare_inputs, simulate
from transforms.rankability import rankability, sentence


def test_rankability_hand_computed():
    # Four draws of three units (each draw a permutation of 1–3):
    #   unit means 1.25, 2, 2.75 → between-unit variance ((−0.75)² + 0 + 0.75²)/3 = 0.375
    #   all ranks: variance (3² − 1)/12 = 2/3
    #   within: unit 1 (1, 1, 2, 1) 0.1875, unit 2 (2, 2, 1, 3) 0.5, unit 3 (3, 3, 3, 2) 0.1875
    #   ρ = 1 − mean within / total = 1 − 0.291667/0.666667 = 0.5625 = 0.375 / (2/3)
    ranks = np.array([[1, 2, 3], [1, 2, 3], [2, 1, 3], [1, 3, 2]])
    assert rankability(ranks) == pytest.approx(0.5625)
    assert rankability(np.array([[1, 2, 3]] * 5)) == 1.0           # no uncertainty
    assert rankability(np.array([[1, 2], [2, 1]])) is None         # two units: too few
    rng = np.random.default_rng(1)
    noise = np.array([rng.permutation(10) + 1 for _ in range(2000)])
    assert rankability(noise) < 0.02                               # pure chance


def test_rankability_sentence_says_when_a_ranking_says_little():
    low = sentence(0.42, "länets kommuner", 13)
    assert low.startswith("Rangordningen säger lite: 42\u00a0% av skillnaderna i rang mellan länets kommuner")
    assert "ungefärlig" in low
    assert sentence(0.6, "länets kommuner", 13).startswith("Rangordningen säger en del")
    assert sentence(0.9, "landets kommuner", 290).startswith("Rangordningen är tydlig: 90\u00a0%")
    assert "för få" in sentence(None, "länets kommuner", 1)


def _county_case(seed: int = 5):
    rng = np.random.default_rng(seed)
    codes = [f"{lan}{i:02d}" for lan in ("01", "02", "03") for i in range(1, 9)]
    rows = []
    for indicator in ("poverty", "eligible", "crime"):
        for code in codes:
            v = float(rng.uniform(20, 80))
            half = float(rng.uniform(2, 10))
            rows.append((indicator, code, 2024, v, v - half, v + half, "ok"))
    cfg = config(**MC, county_top_share=1 / 3)
    inputs = prepare_inputs(facts(rows), INDICATORS, codes, cfg)
    lans = [c[:2] for c in codes]
    areas = pl.DataFrame({"area_code": [*codes, "01", "02", "03"],
                          "area_type": ["kommun"] * len(codes) + ["lan"] * 3,
                          "lan_code": [*lans, "01", "02", "03"]})
    subregion = [f"{c[:2]}-{'A' if int(c[2:]) <= 4 else 'B'}" for c in codes]
    membership = pl.DataFrame({"kommun_code": codes * 2, "area_code": lans + subregion,
                               "area_type": ["lan"] * len(codes) + ["subregion"] * len(codes)})
    areas = pl.concat([areas, pl.DataFrame({"area_code": sorted(set(subregion)),
                                            "area_type": ["subregion"] * 6,
                                            "lan_code": [s[:2] for s in sorted(set(subregion))]})])
    kids = pl.DataFrame({"area_code": codes, "children": [100.0] * len(codes)})
    return inputs, cfg, areas, membership, kids, codes


def test_county_ranks_intervals_and_probability_come_from_the_same_draws():
    inputs, cfg, areas, membership, kids, codes = _county_case()
    index = need_index(inputs, cfg, areas, membership, kids)
    kommun = index.filter(pl.col("area_type") == "kommun")
    a = NeedArrays.of(inputs, cfg)
    draws = simulate(a, Plan.monte_carlo(cfg, len(a.inputs), len(a.factors)))
    f = a.factors.index("skola")
    county = [k for k, c in enumerate(a.kommuner) if c.startswith("02")]
    # Rank within the county = order of the national ranks among the county's 8 kommuner.
    within = np.argsort(np.argsort(draws[:, county, f], axis=1), axis=1) + 1
    top = math.ceil(8 / 3)                                           # the county's highest third: 3
    skola = {r["area_code"]: r for r in kommun.filter(pl.col("factor") == "skola").iter_rows(named=True)}
    for i, k in enumerate(county):
        row = skola[a.kommuner[k]]
        assert row["n_ranked_lan"] == 8
        assert row["p_top_lan"] == pytest.approx((within[:, i] <= top).mean())
        assert row["rank_lan_lower"] == int(np.quantile(within[:, i], 0.05, method="lower"))
        assert row["rank_lan_upper"] == int(np.quantile(within[:, i], 0.95, method="higher"))
        assert row["rankability_lan"] == pytest.approx(rankability(within))
    nominal = sorted((skola[c]["rank"], c) for c in codes if c.startswith("02"))
    assert [skola[c]["rank_lan"] for _, c in nominal] == list(range(1, 9))
    # Sub-regions of four: ranks 1–4 within each, no probability asked for.
    sub_a = [c for c in codes if c.startswith("01") and int(c[2:]) <= 4]
    assert sorted(skola[c]["rank_subregion"] for c in sub_a) == [1, 2, 3, 4]
    assert {skola[c]["n_ranked_subregion"] for c in sub_a} == {4}
    # The national frame carries its own rankability, the same for every kommun of a factor.
    assert kommun.filter(pl.col("factor") == "skola")["rankability"].n_unique() == 1
    assert 0 < skola[codes[0]]["rankability"] <= 1


def test_a_county_too_small_to_rank_gets_ranks_but_no_probability():
    inputs, cfg, areas, membership, kids, codes = _county_case()
    alone = areas.with_columns(lan_code=pl.when(pl.col("area_code") == "0101").then(pl.lit("09"))
                               .otherwise("lan_code"))
    index = need_index(inputs, cfg, alone, membership, kids)
    row = index.filter((pl.col("area_code") == "0101") & (pl.col("factor") == "skola")).row(0, named=True)
    assert (row["rank_lan"], row["n_ranked_lan"]) == (1, 1)
    assert row["p_top_lan"] is None and row["rankability_lan"] is None


def test_geometric_alternative_keeps_a_kommun_with_one_extreme_input_inside_its_interval(monkeypatch):
    """One kommun has two inputs at the top of need and one far below everyone else.

    On the old scale, log Φ(z), the low input's Φ(z) ≈ 0.001 had a logarithm of −7 and
    swamped the other two: in every geometric draw the kommun fell to the bottom sixth, which
    (with half the draws geometric) pulled the interval and median away from the nominal
    (arithmetic) rank. On the scale of need (z − min z + 1 ≥ 1) it moves less.
    """
    rng = np.random.default_rng(11)
    codes = [f"10{i:02d}" for i in range(60)]
    rows = []
    for indicator, polarity_sign in (("poverty", 1), ("eligible", -1), ("crime", 1)):
        values = rng.normal(50, 10, len(codes))
        for code, v in zip(codes, values, strict=True):
            rows.append((indicator, code, 2024, float(v), float(v - 3), float(v + 3), "ok"))
    extreme = "1000"
    rows = [r for r in rows if r[1] != extreme]
    rows += [("poverty", extreme, 2024, 68.0, 65.0, 71.0, "ok"),       # z ≈ +1.8: high need
             ("eligible", extreme, 2024, 32.0, 29.0, 35.0, "ok"),      # z ≈ +1.8: high need
             ("crime", extreme, 2024, 15.0, 12.0, 18.0, "ok")]          # z ≈ −3.5: far below all
    # The catalogue's winsorising (1 % nominal; 1, 2.5 or 5 % in the draws) and aggregation.
    cfg = config(**{**MC, "draws": 400,
                    "winsorising": {"nominal": 0.01, "alternatives": [0.01, 0.025, 0.05]},
                    "normalisation": {"nominal": "z_reference", "alternatives": ["z_reference"]},
                    "factors": {"skola": {"indicators": {"poverty": 1, "eligible": 1, "crime": 1}}}})
    inputs = prepare_inputs(facts(rows), INDICATORS, codes, cfg)
    a = NeedArrays.of(inputs, cfg)
    k, f = a.kommuner.index(extreme), a.factors.index("skola")
    nominal = simulate(a, Plan.nominal(cfg, len(a.inputs), len(a.factors)))[0, k, f]
    geometric = replace(Plan.nominal(cfg, len(a.inputs), len(a.factors)), aggregate=np.full(1, 1))
    # A geometric draw moves it (20 → 43 of 60), less than the old scale did.
    assert int(simulate(a, geometric)[0, k, f]) < 45
    areas = pl.DataFrame({"area_code": codes, "area_type": ["kommun"] * 60, "lan_code": ["10"] * 60})
    none = pl.DataFrame(schema={"kommun_code": pl.String, "area_code": pl.String, "area_type": pl.String})
    index = need_index(inputs, cfg, areas, none, pl.DataFrame({"area_code": codes, "children": [1.0] * 60}))
    row = index.filter((pl.col("area_code") == extreme) & (pl.col("factor") == "skola")).row(0, named=True)
    width = row["rank_upper"] - row["rank_lower"]
    assert width > 0
    # Well inside: at least a fifth of the interval's width from either end, near the median.
    assert row["rank_lower"] + 0.2 * width <= row["rank"] <= row["rank_upper"] - 0.2 * width
    assert abs(row["rank"] - row["rank_median"]) <= 0.25 * width

    # The old scale, log Φ(z), put back: one geometric draw sends the same kommun to the
    # bottom sixth of the ranking (56 of 60), and the draws' median moves away from the nominal.
    import transforms.need as need_module
    from scipy.special import ndtr
    monkeypatch.setattr(need_module, "_need_scale", lambda z, available: np.clip(ndtr(z), 1e-6, 1))
    assert int(simulate(a, geometric)[0, k, f]) >= 50
    old = need_index(inputs, cfg, areas, none, pl.DataFrame({"area_code": codes, "children": [1.0] * 60}))
    old_row = old.filter((pl.col("area_code") == extreme) & (pl.col("factor") == "skola")).row(0, named=True)
    assert old_row["rank"] == row["rank"]                            # the nominal is arithmetic
    assert old_row["rank_upper"] > row["rank_upper"] + 5
    assert old_row["rank_median"] - old_row["rank"] > row["rank_median"] - row["rank"]


def test_contributions_add_up_to_the_nominal_score_and_its_ranks():
    from tests.test_need_index import AREAS, CHILDREN, HAND, KOMMUNER
    from transforms.need import need_contribution
    inputs = prepare_inputs(HAND, INDICATORS, KOMMUNER, config())
    parts = need_contribution(inputs, config(), {"poverty": "Fattigdom"})
    # 0101: poverty z = −15/12.9099 = −1.1619 with weight 2/3 → −0.7746;
    #       eligible z = −(90 − 75)/12.9099 = −1.1619 with weight 1/3 → −0.3873; sum −1.1619.
    row = {r["input_id"]: r for r in parts.filter((pl.col("area_code") == "0101")
                                                 & (pl.col("factor") == "skola")).iter_rows(named=True)}
    assert row["poverty"]["contribution"] == pytest.approx(-0.774597, abs=1e-6)
    assert row["eligible"]["contribution"] == pytest.approx(-0.387298, abs=1e-6)
    assert row["poverty"]["score_z"] == pytest.approx(-1.161895, abs=1e-6)
    assert row["poverty"]["input_label"] == "Fattigdom" and row["eligible"]["input_label"] == "eligible"
    # The larger contribution to need ranks first (−0.3873 > −0.7746).
    assert (row["eligible"]["rank_of_contribution"], row["poverty"]["rank_of_contribution"]) == (1, 2)
    # Ordering the kommuner by the sum of contributions gives the index's nominal ranks.
    index = need_index(inputs, config(), AREAS, pl.DataFrame(schema={"kommun_code": pl.String,
                       "area_code": pl.String, "area_type": pl.String}), CHILDREN)
    skola = parts.filter(pl.col("factor") == "skola").group_by("area_code").agg(pl.col("score_z").first())
    by_sum = skola.sort("score_z", descending=True)["area_code"].to_list()
    by_rank = index.filter((pl.col("area_type") == "kommun") & (pl.col("factor") == "skola")
                           & (pl.col("status") == "ok")).sort("rank")["area_code"].to_list()
    assert by_sum == by_rank
    # A kommun without a score (0203) has no contributions; overall = the one factor's score.
    assert "0203" not in parts["area_code"].to_list()
    overall = parts.filter((pl.col("area_code") == "0101") & (pl.col("factor") == "overall"))
    assert overall["input_id"].to_list() == ["skola"] and overall["weight"][0] == 1.0
    assert overall["contribution"][0] == pytest.approx(-1.161895, abs=1e-6)
