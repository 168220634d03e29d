"""Similar municipalities: standardised weighted distance, peer group Σnum/Σden."""

from __future__ import annotations

import polars as pl
import pytest

from transforms.peers import PeerSettings, peer_groups, peer_values


def settings(**weights) -> PeerSettings:
    variables = [{"id": v, "label": v, "source": "population", "weight": w}
                 for v, w in weights.items()]
    return PeerSettings(neighbours=2, variables=variables)


STRUCTURE = pl.DataFrame({
    "kommun_code": ["0001", "0002", "0003", "0004"] * 2,
    "variable": ["a"] * 4 + ["b"] * 4,
    "value": [0.0, 1.0, 2.0, 10.0, 5.0, 0.0, 5.0, 5.0],
    "year": [2024] * 8,
})


def test_nearest_on_one_variable():
    groups = peer_groups(settings(a=1.0, b=0.0), STRUCTURE)
    first = groups.filter(pl.col("kommun_code") == "0001").sort("rank")
    assert first["peer_code"].to_list() == ["0002", "0003"]
    assert (groups["kommun_code"] != groups["peer_code"]).all()


def test_weights_change_the_neighbours():
    groups = peer_groups(settings(a=0.0, b=1.0), STRUCTURE)
    first = groups.filter(pl.col("kommun_code") == "0001").sort("rank")
    assert set(first["peer_code"]) == {"0003", "0004"}
    assert first["distance"].to_list() == [0.0, 0.0]


def test_distance_is_weighted_and_normalised():
    groups = peer_groups(settings(a=1.0, b=1.0), STRUCTURE)
    # The 290 kommuner are the whole population, so the SD divides by N: for a = (0, 1, 2, 10)
    # it is sqrt(62.75/4) = 3.9607; b is equal for 0001 and 0003, so
    # d(0001, 0003) = sqrt(((2/3.9607)² + 0)/2).
    d = groups.filter(pl.col("kommun_code") == "0001", pl.col("peer_code") == "0003")["distance"].item()
    assert d == pytest.approx(((2 / (62.75 / 4) ** 0.5) ** 2 / 2) ** 0.5, rel=1e-9)


def test_peer_value_is_sum_of_numerators_over_denominators():
    groups = pl.DataFrame({"kommun_code": ["0001", "0001"], "peer_code": ["0002", "0003"],
                           "rank": [1, 2], "distance": [0.1, 0.2]})
    facts = pl.DataFrame({
        "indicator_id": ["X"] * 3, "period": [2024] * 3, "sex": ["T"] * 3, "breakdown": ["all"] * 3,
        "area_type": ["kommun"] * 3, "area_code": ["0001", "0002", "0003"], "status": ["ok"] * 3,
        "numerator": [1.0, 10.0, 90.0], "denominator": [10.0, 100.0, 300.0],
        "multiplier": [100.0] * 3,
    })
    row = peer_values(facts, groups).to_dicts()[0]
    assert row["area_code"] == "0001" and row["peer_value"] == pytest.approx(25.0)  # 100/400
