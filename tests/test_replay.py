"""Replay (issue 9 #9): a published build rebuilt from the raw store alone — no network —
gives the same marts and the same reports (run ids aside)."""

from __future__ import annotations

import shutil

import httpx
import polars as pl
import pytest

from pipeline.resources import StatisticsApis
from tests.pipeline_helpers import copy_of, failure_messages, run, table

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]


class NoNetwork(StatisticsApis):
    """Replay, and any attempt to reach a source fails the test."""

    def _http(self, demo_world):
        def refuse(request):
            raise AssertionError(f"replay asked the network: {request.method} {request.url}")

        return httpx.Client(transport=httpx.MockTransport(refuse))


def marts(database) -> dict[str, pl.DataFrame]:
    """Every mart (indicators, coordination, labels), run ids aside."""
    names = table(database, "select table_name from duckdb_tables() where schema_name = 'marts'")
    out = {}
    for name in names["table_name"].to_list():
        frame = table(database, f"select * from marts.{name}")
        out[name] = frame.drop([c for c in ("run_id",) if c in frame.columns])
    return out


def reports(folder, run_id: str) -> dict[str, bytes]:
    """Every file of the site, the run id aside (the start page names its publication); the
    publication's manifest (which also says when) left out."""
    return {p.name: p.read_bytes().replace(run_id.encode(), b"RUN")
            for p in sorted(folder.glob("*")) if p.is_file() and not p.name.startswith(".")
            and p.name != "publicering.json"}


def test_replay_from_the_raw_store_alone_gives_identical_marts_and_reports(demo_build, tmp_path):
    data = copy_of(demo_build[0], tmp_path)
    published = data / "published" / "uppvaxt.duckdb"
    original_run = table(published, "select run_id from meta.publication")["run_id"].item()
    original_marts = marts(published)
    original_reports = reports(data / "reports", original_run)
    # Only the raw store (and the private survey store) remain.
    shutil.rmtree(data / "warehouse")
    shutil.rmtree(data / "publications")
    (data / "published").unlink()
    (data / "reports").unlink()
    result = run(data, apis=NoNetwork(mode="replay", replay_of="demo"))
    assert result.success, failure_messages(result)
    replayed = marts(data / "published" / "uppvaxt.duckdb")
    assert replayed.keys() == original_marts.keys() and len(replayed) >= 15
    for name, frame in original_marts.items():  # bit for bit: float sums in one order (or exact)
        assert replayed[name].equals(frame), name
    new_run = result.run_id
    assert reports(data / "reports", new_run) == original_reports


def test_replay_without_a_record_says_what_is_missing(tmp_path):
    result = run(tmp_path / "data", apis=NoNetwork(mode="replay", replay_of=""))
    assert not result.success
    from tests.pipeline_helpers import failure_messages as messages

    assert "nothing to replay" in messages(result)
