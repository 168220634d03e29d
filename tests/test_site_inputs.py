"""What the site reads: every Marts field from the warehouse table of its name, and the
publication history as the publication being made has it (its own rows included)."""

from __future__ import annotations

import polars as pl

from pipeline.publication_work import site_marts
from pipeline.resources import Paths
from pipeline.warehouse import write_table


def test_fields_come_from_tables_of_their_name_and_absent_ones_are_none(tmp_path):
    paths = Paths(data_dir=str(tmp_path / "data"))
    write_table(paths.warehouse, "marts", "fact_indicator", pl.DataFrame({"indicator_id": ["N1"]}))
    write_table(paths.warehouse, "marts", "indicator", pl.DataFrame({"indicator_id": ["N1"]}))
    write_table(paths.warehouse, "marts", "area", pl.DataFrame({"area_code": ["00"]}))
    write_table(paths.warehouse, "marts", "watch_list", pl.DataFrame({"area_code": ["0580"]}))
    write_table(paths.warehouse, "meta", "data_quality", pl.DataFrame({"indicator_id": ["N1"]}))
    # stale history in the warehouse: the publication's own tables win
    write_table(paths.warehouse, "meta", "publication_history", pl.DataFrame({"run_id": ["old"]}))
    history = {"meta.publication_history": pl.DataFrame({"run_id": ["run-1", "run-2"]}),
               "meta.publication_change": pl.DataFrame({"run_id": ["run-2"]})}
    marts = site_marts(paths, history)
    assert marts.facts["indicator_id"].to_list() == ["N1"] and marts.areas.height == 1
    assert marts.watch_list["area_code"].to_list() == ["0580"]
    assert marts.data_quality.height == 1
    assert marts.publication_history["run_id"].to_list() == ["run-1", "run-2"]
    assert marts.publication_change["run_id"].to_list() == ["run-2"]
    assert marts.decision_history is None and marts.need_index is None and marts.peers is None
