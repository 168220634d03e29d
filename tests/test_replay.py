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

MARTS = ["area", "indicator", "fact_indicator", "kommun_structure", "peer_group", "funnel_limit",
         "method"]


class NoNetwork(StatisticsApis):
    """Replay, and any attempt to reach a source fails the test."""

    def _http(self, demo_world):
        def refuse(request):
            raise AssertionError(f"replay asked the network: {request.method} {request.url}")

        return httpx.Client(transport=httpx.MockTransport(refuse))


def marts(database) -> dict[str, pl.DataFrame]:
    out = {}
    for name in MARTS:
        frame = table(database, f"select * from marts.{name}")
        out[name] = frame.drop([c for c in ("run_id",) if c in frame.columns])
    return out


def reports(folder, run_id: str) -> dict[str, bytes]:
    return {p.name: p.read_bytes().replace(run_id.encode(), b"RUN")
            for p in sorted(folder.glob("*")) if p.is_file() and not p.name.startswith(".")}


def test_replay_from_the_raw_store_alone_gives_identical_marts_and_reports(demo_build, tmp_path):
    data = copy_of(demo_build[0], tmp_path)
    published = data / "published" / "uppvaxt.duckdb"
    original_run = table(published, "select run_id from meta.publication")["run_id"].item()
    original_marts = marts(published)
    original_reports = reports(data / "reports", original_run)
    # Only the raw store (and the private survey store) remain.
    for folder in ("warehouse", "published", "reports"):
        shutil.rmtree(data / folder)
    result = run(data, apis=NoNetwork(mode="replay", replay_of="demo"))
    assert result.success, failure_messages(result)
    replayed = marts(data / "published" / "uppvaxt.duckdb")
    for name in MARTS:
        old, new = original_marts[name], replayed[name]
        if name == "fact_indicator":  # survey cells: float sums in the survey code, to 1e-9
            survey = pl.col("source_id").str.starts_with("survey:")
            assert new.filter(~survey).equals(old.filter(~survey))
            a, b = old.filter(survey), new.filter(survey)
            assert a.select(pl.exclude(pl.Float64)).equals(b.select(pl.exclude(pl.Float64)))
            for col in a.select(pl.col(pl.Float64)).columns:
                assert ((a[col] - b[col]).abs() <= 1e-9 * a[col].abs().fill_null(1)).fill_null(True).all(), col
        else:
            assert new.equals(old), name
    new_run = result.run_id
    assert reports(data / "reports", new_run) == original_reports


def test_replay_without_a_record_says_what_is_missing(tmp_path):
    result = run(tmp_path / "data", apis=NoNetwork(mode="replay", replay_of=""))
    assert not result.success
    from tests.pipeline_helpers import failure_messages as messages

    assert "nothing to replay" in messages(result)
