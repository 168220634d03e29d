"""Warehouse writes are transactional; publishing swaps a fresh file in atomically."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipeline.warehouse import publish, read_table, write_table


def test_write_replaces_table_with_comments(tmp_path):
    db = tmp_path / "w.duckdb"
    write_table(db, "marts", "t", pl.DataFrame({"a": [1, 2]}), comment="Tabell",
                column_comments={"a": "Kolumn a"})
    write_table(db, "marts", "t", pl.DataFrame({"a": [3], "b": ["x"]}), comment="Tabell 2")
    assert read_table(db, "marts", "t").to_dicts() == [{"a": 3, "b": "x"}]
    con = duckdb.connect(str(db))
    assert con.sql("select comment from duckdb_tables() where table_name='t'").fetchall()[0][0] == "Tabell 2"
    con.close()


def test_failed_write_leaves_previous_table(tmp_path, monkeypatch):
    db = tmp_path / "w.duckdb"
    write_table(db, "marts", "t", pl.DataFrame({"a": [1, 2]}))
    import pipeline.warehouse as warehouse

    def failing_literal(text):
        raise RuntimeError("disk full")  # fails after CREATE OR REPLACE, inside the transaction

    monkeypatch.setattr(warehouse, "_literal", failing_literal)
    with pytest.raises(RuntimeError, match="disk full"):
        write_table(db, "marts", "t", pl.DataFrame({"a": [9]}), comment="ny")
    monkeypatch.undo()
    assert read_table(db, "marts", "t")["a"].to_list() == [1, 2]


def make_warehouse(path: Path, marker: int) -> None:
    write_table(path, "marts", "fact", pl.DataFrame({"run": [marker]}), comment="Fakta")
    write_table(path, "staging", "private", pl.DataFrame({"x": [1]}))


READER = textwrap.dedent("""
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    print(con.sql("select run from marts.fact").fetchall()[0][0], flush=True)
    sys.stdin.readline()                      # hold the file open until told to go on
    print(con.sql("select run from marts.fact").fetchall()[0][0], flush=True)
""")


def test_publish_while_a_reader_holds_the_old_snapshot(tmp_path):
    warehouse, published = tmp_path / "w.duckdb", tmp_path / "pub" / "uppvaxt.duckdb"
    make_warehouse(warehouse, 1)
    publish(warehouse, published)
    reader = subprocess.Popen([sys.executable, "-c", READER, str(published)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "1"
        make_warehouse(warehouse, 2)
        counts = publish(warehouse, published)          # must not wait for the reader
        assert counts == {"marts.fact": 1}
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == "1"  # the reader keeps its snapshot
    finally:
        reader.communicate(timeout=30)
    con = duckdb.connect(str(published), read_only=True)
    assert con.sql("select run from marts.fact").fetchall()[0][0] == 2
    schemas = {r[0] for r in con.sql("select schema_name from duckdb_tables()").fetchall()}
    assert schemas == {"marts"}  # staging is not published
    con.close()
    assert not list(published.parent.glob(".*.tmp"))


def test_published_file_opens_in_the_duckdb_cli(tmp_path):
    cli = Path(sys.executable).parent / "duckdb"
    if not cli.exists():
        pytest.skip("duckdb CLI not installed in this environment")
    warehouse, published = tmp_path / "w.duckdb", tmp_path / "uppvaxt.duckdb"
    make_warehouse(warehouse, 7)
    publish(warehouse, published, publication=pl.DataFrame({"run_id": ["r1"]}))
    out = subprocess.run([str(cli), "-readonly", str(published), "-csv", "-c",
                          "select run from marts.fact; select run_id from meta.publication"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "7" in out.stdout and "r1" in out.stdout


def test_failed_publish_keeps_the_old_snapshot(tmp_path):
    warehouse, published = tmp_path / "w.duckdb", tmp_path / "uppvaxt.duckdb"
    make_warehouse(warehouse, 1)
    publish(warehouse, published)
    before = published.read_bytes()
    with pytest.raises(duckdb.Error):
        publish(tmp_path / "missing.duckdb", published)
    assert published.read_bytes() == before


def test_an_input_declared_with_columns_loads_only_those(tmp_path):
    """A wide mart read for a few columns (funnel_limit, goal_progress, the demo registers):
    the IO manager honours AssetIn metadata 'columns', and every declared column exists in
    the fact table's model (a renamed column fails here, not in a build)."""
    import dagster as dg

    from checks.registry import TABLES
    from pipeline.definitions import defs
    from pipeline.io_manager import WarehouseIOManager

    database = tmp_path / "wh.duckdb"
    write_table(database, "marts", "fact_indicator", pl.DataFrame({"a": [1], "b": ["x"], "c": [2.0]}))
    manager = WarehouseIOManager(database=str(database))
    context = dg.build_input_context(asset_key=dg.AssetKey(["marts", "fact_indicator"]),
                                     definition_metadata={"columns": ["c", "a"]})
    assert manager.load_input(context).columns == ["c", "a"]
    plain = dg.build_input_context(asset_key=dg.AssetKey(["marts", "fact_indicator"]))
    assert manager.load_input(plain).columns == ["a", "b", "c"]

    fact_columns = set(TABLES["fact_indicator"][1].to_schema().columns)
    graph = defs.resolve_asset_graph()
    declared = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if not node.is_materializable:
            continue
        for spec in node.assets_def.node_def.input_defs:
            columns = (node.assets_def.node_def.input_def_named(spec.name).metadata or {}).get("columns")
            if columns:
                declared[key.to_user_string()] = columns
    assert {"marts/funnel_limit", "marts/goal_progress", "inbox/register_demo_files"} <= set(declared)
    for name, columns in declared.items():
        assert set(columns) <= fact_columns, (name, set(columns) - fact_columns)
