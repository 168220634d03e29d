"""Similar-kommun groups keep every variable whatever the catalogue holds (issue 9 #5)."""

from __future__ import annotations

import dagster as dg
import polars as pl
import pytest

from pipeline.assets.staging import catalog_bands
from sources.catalog import load_peer_settings
from tests.conftest import CATALOG
from tests.pipeline_helpers import catalog_copy, edit_indicators, failure_messages, run, table

PEER_KPIS = {"N66077", "N02904", "N02900"}


def without_peer_inputs(entries: list[dict]) -> list[dict]:
    """The catalogue minus the peer KPIs and every indicator on the 0–19 band."""
    return [e for e in entries if e["source_id"] not in PEER_KPIS
            and e.get("population") != {"from": 0, "to": 19}]


def test_population_bands_include_what_the_peer_variables_read():
    from sources.catalog import indicators_frame, load_indicators

    kept = [i for i in load_indicators(CATALOG / "indicators.yaml")
            if i.source_id not in PEER_KPIS and i.population != "all"
            and (i.population.from_age, i.population.to_age) != (0, 19)]
    bands = catalog_bands(indicators_frame(kept))
    assert (0, 19) in bands and (None, None) in bands


def test_peer_settings_name_their_kolada_kpis():
    assert set(load_peer_settings(CATALOG / "peers.yaml").kpis) == PEER_KPIS


@pytest.mark.slow
@pytest.mark.xdist_group("pipeline")
def test_kommun_structure_has_every_variable_without_them_in_the_catalogue(tmp_path):
    catalog = catalog_copy(tmp_path, lambda d: edit_indicators(d, without_peer_inputs))
    data = tmp_path / "data"
    result = run(data, catalog, selection=dg.AssetSelection.assets(["marts", "kommun_structure"]).upstream())
    assert result.success, failure_messages(result)
    structure = table(data / "warehouse" / "uppvaxt.duckdb", "select * from marts.kommun_structure")
    counts = dict(structure.group_by("variable").len().rows())
    assert counts == {v: 290 for v in ("folkmangd", "andel_0_19", "tathet", "ekonomisk_utsatthet",
                                       "utrikes_fodda")}
    vintage = table(data / "warehouse" / "uppvaxt.duckdb",
                    "select kpi_id, indicator_ids, peer_variable, state from meta.kolada_vintage "
                    "where peer_variable")
    assert vintage.sort("kpi_id").rows() == [(k, None, True, "fresh") for k in sorted(PEER_KPIS)]
    share = structure.filter(pl.col("variable") == "andel_0_19")["value"]
    assert share.min() > 15 and share.max() < 35  # per cent aged 0–19
