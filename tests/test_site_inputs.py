"""What the site asset reads besides its inputs: the publication history of the snapshot."""

from __future__ import annotations

import duckdb

from pipeline.assets.reports import published_history
from pipeline.resources import Paths


def test_history_tables_come_from_the_snapshot_and_absent_ones_are_none(tmp_path):
    paths = Paths(data_dir=str(tmp_path / "data"))
    paths.published.parent.mkdir(parents=True)
    con = duckdb.connect(str(paths.published))
    con.execute("CREATE SCHEMA meta; CREATE TABLE meta.publication_history AS "
                "SELECT 'run-1' AS run_id, NULL::VARCHAR AS previous_run_id")
    con.close()
    history = published_history(paths)
    assert history["publication_history"].rows() == [("run-1", None)]
    assert history["publication_change"] is None and history["decision_history"] is None
    assert set(published_history(Paths(data_dir=str(tmp_path / "none")))) == set(history)
