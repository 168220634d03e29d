"""A partial rebuild from the UI never publishes a mix (issue 15 #6): the publication is
refused, in Swedish, naming what to rebuild, and the published version stays as it was."""

from __future__ import annotations

import dagster as dg
import pytest
import yaml

from pipeline.assets.reports import SNAPSHOT_KEY
from tests.pipeline_helpers import (catalog_copy, copy_of, digest, failure_messages, faulty_demo,
                                    run, table)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]

KOLADA = [dg.AssetKey(["raw", "kolada_value"])]


def seen(data):
    published = data / "published" / "uppvaxt.duckdb"
    return (table(published, "select run_id from meta.publication")["run_id"].item(),
            digest(published), (data / "reports" / "index.html").stat().st_ino)


def test_kolada_rebuilt_alone_then_published_is_refused_until_the_rest_follows(demo_build, tmp_path):
    data = copy_of(demo_build[0], tmp_path)
    before = seen(data)
    apis = faulty_demo(world={"kpi_scale": {"N15428": 0.98}})   # Kolada revised one KPI
    clicked = run(data, apis=apis, selection=dg.AssetSelection.assets(*KOLADA, SNAPSHOT_KEY))
    assert not clicked.success
    message = failure_messages(clicked)
    assert "Publiceringen stoppades: tabellerna bygger inte på samma indata" in message
    assert "staging/kommun_value byggdes av en äldre version av raw/kolada_value" in message
    assert "Den publicerade versionen är orörd" in message
    assert seen(data) == before
    # Doing what it says: the Kolada tables and everything built from them.
    done = run(data, apis=apis, selection=dg.AssetSelection.assets(*KOLADA).downstream())
    assert done.success, failure_messages(done)
    assert seen(data)[0] == done.run_id
    changes = table(data / "published" / "uppvaxt.duckdb",
                    "select indicator_id, count(*) n from marts.v_andringar "
                    "where change_label = 'Reviderat värde' group by 1")
    assert changes["indicator_id"].to_list() == ["N15428"]


def test_peer_groups_rebuilt_alone_after_a_catalogue_change_is_refused(demo_build, tmp_path):
    """The issue's case: peers.yaml changed, marts/peer_group rebuilt and published from the
    lineage view; fact_indicator's peer values would be the old group's."""
    data = copy_of(demo_build[0], tmp_path)
    before = seen(data)

    def reweigh(folder):
        doc = yaml.safe_load((folder / "peers.yaml").read_text(encoding="utf-8"))
        doc["variables"][0]["weight"] = doc["variables"][0].get("weight", 1) * 3
        (folder / "peers.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")

    catalog = catalog_copy(tmp_path, reweigh)
    clicked = run(data, catalog, selection=dg.AssetSelection.assets(
        dg.AssetKey(["marts", "peer_group"]), SNAPSHOT_KEY))
    assert not clicked.success
    message = failure_messages(clicked)
    assert "marts/fact_indicator byggdes av en äldre version av marts/peer_group" in message
    assert "Byggda med en annan version av katalogen (data/catalog)" in message
    assert "Materialisera allt (jobbet build_all" in message
    assert seen(data) == before
