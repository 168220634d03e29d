"""The demo world: deterministic, plausible, and in the real wire formats."""

from __future__ import annotations

import json
import re

import numpy as np
import orjson
import polars as pl
import pytest

from sources.demo.apis import KoladaDemoApi
from sources.demo.world import DemoWorld


@pytest.fixture(scope="module")
def world(kommuner, catalog_indicators, source_settings):
    return DemoWorld.build(kommuner, catalog_indicators, source_settings.years.span)


def values_frame(world, kpi):
    rows = [(o["municipality"], o["period"], v["gender"], v["status"],
             None if v["value"] is None else float(v["value"]))
            for o in world.kolada_objects(kpi) for v in o["values"]]
    return pl.DataFrame(rows, schema=["area", "year", "sex", "status", "value"], orient="row")


def test_deterministic(kommuner, catalog_indicators, source_settings, world):
    again = DemoWorld.build(kommuner, catalog_indicators, source_settings.years.span)
    assert np.array_equal(world.population, again.population)
    assert json.dumps(world.kolada_objects("N15428")) == json.dumps(again.kolada_objects("N15428"))


def test_all_municipalities_and_at_least_ten_years(world):
    assert len(world.kommun_codes) == 290 and len(world.years) >= 10
    frame = values_frame(world, "N02901")
    assert frame.filter(pl.col("area").str.starts_with("00").not_())["area"].n_unique() == 290


def test_suppressed_missing_and_sex_splits_present(world):
    frame = pl.concat([values_frame(world, i.source_id) for i in world.indicators])
    statuses = set(frame["status"])
    assert {"", "Privacy", "Missing"} <= statuses
    assert frame.filter(pl.col("status") != "")["value"].null_count() == frame.filter(
        pl.col("status") != "").height
    assert {"T", "K", "M"} == set(frame["sex"])


def test_values_in_realistic_ranges(world):
    ranges = {"N15428": (60, 100), "N15507": (150, 300), "N02904": (0, 40), "N07403": (200, 3000),
              "U09800": (5, 80)}
    for kpi, (low, high) in ranges.items():
        ok = values_frame(world, kpi).filter(pl.col("status") == "", pl.col("sex") == "T")["value"]
        assert low <= ok.quantile(0.05) and ok.quantile(0.95) <= high, kpi


def test_risk_factors_move_together_through_the_latent_factor(world):
    def latest(kpi):
        frame = values_frame(world, kpi)
        return frame.filter(pl.col("year") == 2021, pl.col("sex") == "T", pl.col("status") == "",
                            ~pl.col("area").str.starts_with("00")).select("area", kpi=pl.col("value"))

    joined = latest("N02904").rename({"kpi": "poor"}).join(
        latest("N02901").rename({"kpi": "low_edu"}), on="area").join(
        latest("N15428").rename({"kpi": "eligible"}), on="area")
    assert joined.select(pl.corr("poor", "low_edu")).item() > 0.3
    assert joined.select(pl.corr("poor", "eligible")).item() < -0.2


def test_count_indicator_equals_population(world):
    frame = values_frame(world, "N01919").filter(pl.col("area") == "0580", pl.col("year") == 2020)
    k, y = world.kommun_codes.index("0580"), world.years.index(2020)
    assert frame["value"].item() == world.population[k, y, 0:20, :].sum()


def test_kolada_demo_refuses_what_kolada_refuses(world):
    import httpx

    api = KoladaDemoApi(world)
    ids = ",".join(f"N{n:05d}" for n in range(26))
    assert api.handle(httpx.Request("GET", f"http://kolada.demo/v3/kpi/{ids}")).status_code == 400
    big = api.handle(httpx.Request("GET", "http://kolada.demo/v3/kpi/N15428?per_page=6000"))
    assert big.status_code == 400


def test_demo_rounding_of_arrays_is_pythons_round_value_for_value():
    """The demo publishes values rounded as Python's round() does (correctly rounded
    decimals); the array version must agree on the classic traps and on random values."""
    from sources.demo.world import _round

    traps = [2.675, 1.005, 0.125, 0.375, 2.5, -0.05, 0.35, 1e-17, 12345.65, 99.95]
    rng = np.random.default_rng(7)
    values = np.array(traps + list(rng.integers(-20000, 20000, 20000) / 200)
                      + list(rng.uniform(-500, 500, 20000)))
    for digits in (1, 2):
        got = _round(values, np.full(len(values), digits)).tolist()
        assert got == [round(v, digits) for v in values.tolist()]
    assert _round(np.array([2.675, 0.125]), np.array([2, 2])).tolist() == [2.67, 0.12]


@pytest.mark.parametrize("split", ["one encoding", "one by one"])
def test_kolada_objects_kept_as_json_are_the_drawn_objects(world, monkeypatch, split):
    from sources.demo import world as world_module

    if split == "one by one":  # the fallback when the starts found do not match the objects
        monkeypatch.setattr(world_module, "OBJECT_START", re.compile(rb"no such text"))
    fresh = world.variant()
    fresh._kolada_cache = {}
    indicator = next(i for i in world.indicators if i.source_id == "N15428")
    drawn = fresh._draw(indicator)
    kept = fresh.kolada_json("N15428")
    assert [orjson.loads(text) for _, text in kept] == drawn
    assert [period for period, _ in kept] == [o["period"] for o in drawn]
    assert all(not text.startswith(b",") and not text.endswith(b",") for _, text in kept)
