"""Warehouse writes are transactional; publishing swaps a fresh file in atomically."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipeline.warehouse import BuildStamp, TableWrite, publish, read_table, table_builds, write_table


def test_write_replaces_table_with_comments(tmp_path):
    db = tmp_path / "w.duckdb"
    write_table(db, "marts", "t", pl.DataFrame({"a": [1, 2]}), comment="Tabell",
                column_comments={"a": "Kolumn a"})
    write_table(db, "marts", "t", pl.DataFrame({"a": [3], "b": ["x"]}), comment="Tabell 2")
    assert read_table(db, "marts", "t").to_dicts() == [{"a": 3, "b": "x"}]
    con = duckdb.connect(str(db))
    assert con.sql("select comment from duckdb_tables() where table_name='t'").fetchall()[0][0] == "Tabell 2"
    con.close()


def test_the_build_book_keeps_its_model_comments(tmp_path):
    """A warehouse whose book lost a comment, or has an old one, gets the model's back with
    the next write, and the book's rows stay."""
    db = tmp_path / "w.duckdb"
    stamp = BuildStamp(parents=("marts.u",), run_id="r1")
    write_table(db, "marts", "u", pl.DataFrame({"a": [1]}), stamp=BuildStamp(run_id="r0"))
    write_table(db, "marts", "t", pl.DataFrame({"a": [1]}), stamp=stamp)

    def comments() -> dict:
        con = duckdb.connect(str(db))
        try:
            return dict(con.sql("select null, comment from duckdb_tables() where table_name = "
                                "'table_build' union all select column_name, comment from "
                                "duckdb_columns() where table_name = 'table_build'").fetchall())
        finally:
            con.close()

    fresh = comments()
    assert "publiceras inte" in fresh[None] and all(fresh.values())
    con = duckdb.connect(str(db))
    con.execute("COMMENT ON TABLE meta.table_build IS 'gammal'")
    con.execute("COMMENT ON COLUMN meta.table_build.version IS NULL")
    con.close()
    write_table(db, "marts", "t", pl.DataFrame({"a": [2]}), stamp=stamp)
    assert comments() == fresh
    book = table_builds(db)
    assert book["marts.t"]["run_id"] == "r1" and set(book["marts.t"]["inputs"]) == {"marts.u"}


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


def _every_kind() -> pl.DataFrame:
    """The column types the warehouse's tables hold, nulls included."""
    return pl.DataFrame({
        "id": ["A", "A", "B", "C", "C", "C"],
        "period": pl.Series([2020, 2021, 2020, 2019, 2020, 2021], dtype=pl.Int32),
        "quintile": pl.Series([1, None, 5, 2, 3, 4], dtype=pl.Int8),
        "value": [0.1, None, 2.5, float("nan"), -1.0, 1e-300],
        "flag": [True, False, None, True, True, False],
        "note": ["å", None, "", "ä ö", "x" * 300, None],
        "count": pl.Series([1, 2, 3, None, 5, 6], dtype=pl.Int64),
    })


def _table(db: Path, table: str) -> tuple:
    con = duckdb.connect(str(db))
    try:
        kinds = con.sql("SELECT column_name, data_type, comment FROM duckdb_columns() WHERE "
                        f"table_name = '{table}' ORDER BY column_index").fetchall()
        comment = con.sql(f"SELECT comment FROM duckdb_tables() WHERE table_name = '{table}'").fetchall()
        rows = con.sql(f"SELECT * FROM marts.{table}").fetchall()
    finally:
        con.close()
    return kinds, comment, [tuple("nan" if v != v else v for v in row) for row in rows]


def test_a_table_written_in_parts_is_the_table_written_whole(tmp_path):
    """The chunked write (the fact table, pipeline/factory.py `chunked`) gives exactly the
    table, types, order, comments and build-book version of one write of the whole frame."""
    frame = _every_kind()
    docs = {"comment": "Tabell", "column_comments": {"value": "Värde", "missing": "finns inte"}}
    whole, parts = tmp_path / "whole.duckdb", tmp_path / "parts.duckdb"
    write_table(whole, "marts", "t", frame, stamp=BuildStamp(parents=("raw.x",)), **docs)
    write = TableWrite(parts, "marts", "t")
    for part in frame.partition_by("id", maintain_order=True):
        write.append(part)
    assert write.rows == frame.height
    write.commit(stamp=BuildStamp(parents=("raw.x",)), **docs)
    assert _table(parts, "t") == _table(whole, "t")
    assert table_builds(parts)["marts.t"]["version"] == table_builds(whole)["marts.t"]["version"]
    assert not list(tmp_path.glob("*.parts"))  # the parts are gone once committed


def test_a_write_in_parts_rolled_back_or_killed_leaves_the_old_table(tmp_path):
    db = tmp_path / "w.duckdb"
    write_table(db, "marts", "t", pl.DataFrame({"a": [1, 2]}))
    write = TableWrite(db, "marts", "t")
    write.append(pl.DataFrame({"a": [9]}))
    write.rollback()
    assert read_table(db, "marts", "t")["a"].to_list() == [1, 2]
    with pytest.raises(ValueError):
        write.append(pl.DataFrame({"a": [9]}))
    # A part with other columns is refused, not written under the first part's names.
    write = TableWrite(db, "marts", "t")
    write.append(pl.DataFrame({"a": [9]}))
    with pytest.raises(ValueError, match="other columns"):
        write.append(pl.DataFrame({"b": [9]}))
    write.rollback()
    # What a killed run left behind (its process is gone) is removed by the next write.
    left = tmp_path / ".w.duckdb.999999999.marts.t.1.parts"
    left.mkdir()
    (left / "000000.parquet").write_bytes(b"half")
    TableWrite(db, "marts", "t").rollback()
    assert not left.exists()
    assert read_table(db, "marts", "t")["a"].to_list() == [1, 2]


def test_a_table_validated_in_parts_reports_as_validated_whole():
    """The check metadata of a chunked table: failure counts and the sample's row numbers as
    one validation of the whole frame gives them."""
    import pandera.polars as pa

    from checks.validate import combine, validate

    class Model(pa.DataFrameModel):
        id: pl.String = pa.Field()
        value: pl.Float64 = pa.Field(ge=0, nullable=True)
        count: pl.Int64 = pa.Field(le=4, nullable=True)

        class Config:
            strict = True

    frame = _every_kind().select("id", "value", "count")
    whole = validate(frame, Model)
    parted = combine([validate(part, Model) for part in frame.partition_by("id", maintain_order=True)])
    assert not whole.passed and whole.failure_count == 3
    assert parted == whole
    ok = frame.filter(pl.col("id") == "A")
    assert combine([validate(ok, Model), validate(ok, Model)]) == validate(pl.concat([ok, ok]), Model)


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
    write_table(database, "marts", "fact_indicator",
                pl.DataFrame({"a": [1, 2, 3, 4], "b": ["x", "y", "x", "x"], "c": [2.0, 3.0, 4.0, 2.0]}))
    some = dg.build_input_context(asset_key=dg.AssetKey(["marts", "fact_indicator"]),
                                  definition_metadata={"columns": ["a"], "rows": {"b": "x", "c": 2.0}})
    assert manager.load_input(some).to_dicts() == [{"a": 1}, {"a": 4}]

    fact_columns = set(TABLES["fact_indicator"][1].to_schema().columns)
    graph = defs.resolve_asset_graph()
    declared = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if not node.is_materializable:
            continue
        for spec in node.assets_def.node_def.input_defs:
            wanted = node.assets_def.node_def.input_def_named(spec.name).metadata or {}
            if wanted:
                declared[key.to_user_string()] = wanted.get("columns", []) + list(wanted.get("rows", {}))
    assert {"marts/funnel_limit", "marts/goal_progress", "inbox/register_demo_files",
            "marts/need_index_input"} <= set(declared)
    for name, columns in declared.items():
        assert set(columns) <= fact_columns, (name, set(columns) - fact_columns)


def test_a_handed_over_frame_is_let_go_once_written(tmp_path):
    """Dagster's in-process runs keep every output value until the run ends: a table asset's
    output is a box the IO manager empties as it writes (pipeline/factory.py)."""
    import dagster as dg

    from pipeline.io_manager import WarehouseIOManager
    from pipeline.warehouse import Handover, release

    database = tmp_path / "wh.duckdb"
    frame = pl.DataFrame({"a": [1, 2], "b": ["x", None]})
    box = Handover(frame)
    context = dg.build_output_context(asset_key=dg.AssetKey(["marts", "t"]))
    WarehouseIOManager(database=str(database)).handle_output(context, box)
    release(database)
    assert read_table(database, "marts", "t").equals(frame)
    with pytest.raises(ValueError, match="already written"):
        box.take()
