"""The DuckDB warehouse and its published snapshot (plain functions, no Dagster).

The pipeline owns `warehouse.duckdb` and writes each table in one transaction (create or
replace, comments included), so a failed write leaves the previous table in place.
Analysts never open that file: `publish` copies the marts into a new file and swaps it
over `published/uppvaxt.duckdb` with an atomic rename. A reader holding the old snapshot
keeps reading it; the writer never waits for readers. The snapshot uses a storage
format that DuckDB 1.5 clients (the `duckdb` CLI from PyPI, DBeaver) can open too.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import duckdb
import polars as pl

from pipeline.sql_text import literal as _literal
from pipeline.sql_text import quote as _quote
from pipeline.views import create_views

PUBLISHED_SCHEMAS = ("marts", "meta")
PUBLISHED_STORAGE_VERSION = "v1.5.0"


def write_table(database: Path, schema: str, table: str, frame: pl.DataFrame, *,
                comment: str | None = None, column_comments: dict[str, str] | None = None) -> None:
    """Replace `schema.table` with `frame` and its comments in a single transaction."""
    database.parent.mkdir(parents=True, exist_ok=True)
    target = f"{_quote(schema)}.{_quote(table)}"
    con = duckdb.connect(str(database))
    try:
        con.register("_frame", frame)
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {_quote(schema)}")
            con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM _frame")
            if comment:
                con.execute(f"COMMENT ON TABLE {target} IS {_literal(comment)}")
            for column, text in (column_comments or {}).items():
                if column in frame.columns:
                    con.execute(f"COMMENT ON COLUMN {target}.{_quote(column)} IS {_literal(text)}")
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    finally:
        con.close()


def read_table(database: Path, schema: str, table: str) -> pl.DataFrame:
    if not database.exists():
        raise FileNotFoundError(f"warehouse {database} does not exist; materialise {schema}.{table} first")
    # Same configuration as the writer: DuckDB refuses differently configured connections
    # to one file within a process.
    con = duckdb.connect(str(database))
    try:
        return con.sql(f"SELECT * FROM {_quote(schema)}.{_quote(table)}").pl()
    finally:
        con.close()


def publish(warehouse: Path, published: Path, *, schemas: Iterable[str] = PUBLISHED_SCHEMAS,
            publication: pl.DataFrame | None = None) -> dict[str, int]:
    """Copy the published schemas into a fresh file, add the analyst's views
    (pipeline/views.sql) and swap it in atomically.

    Returns row counts per published table and view. `publication` (one row) is stored as
    meta.publication, describing the run and the data vintage.
    """
    published.parent.mkdir(parents=True, exist_ok=True)
    tmp = published.with_name(f".{published.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    counts: dict[str, int] = {}
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH {_literal(str(warehouse))} AS wh (READ_ONLY)")
        con.execute(f"ATTACH {_literal(str(tmp))} AS pub "
                    f"(STORAGE_VERSION {_literal(PUBLISHED_STORAGE_VERSION)})")
        wanted = list(schemas)
        tables = con.sql(
            "SELECT schema_name, table_name, comment FROM duckdb_tables() "
            "WHERE database_name = 'wh' ORDER BY schema_name, table_name").fetchall()
        columns = con.sql(
            "SELECT schema_name, table_name, column_name, comment FROM duckdb_columns() "
            "WHERE database_name = 'wh' AND comment IS NOT NULL").fetchall()
        for schema_name, table_name, comment in tables:
            if schema_name not in wanted:
                continue
            source = f"wh.{_quote(schema_name)}.{_quote(table_name)}"
            target = f"pub.{_quote(schema_name)}.{_quote(table_name)}"
            con.execute(f"CREATE SCHEMA IF NOT EXISTS pub.{_quote(schema_name)}")
            con.execute(f"CREATE TABLE {target} AS SELECT * FROM {source}")
            if comment:
                con.execute(f"COMMENT ON TABLE {target} IS {_literal(comment)}")
            counts[f"{schema_name}.{table_name}"] = con.sql(
                f"SELECT count(*) FROM {target}").fetchall()[0][0]
        for schema_name, table_name, column_name, comment in columns:
            if f"{schema_name}.{table_name}" in counts:
                con.execute(f"COMMENT ON COLUMN pub.{_quote(schema_name)}.{_quote(table_name)}."
                            f"{_quote(column_name)} IS {_literal(comment)}")
        counts.update(create_views(con, "pub"))
        if publication is not None:
            con.register("_publication", publication)
            con.execute("CREATE SCHEMA IF NOT EXISTS pub.meta")
            con.execute("CREATE OR REPLACE TABLE pub.meta.publication AS SELECT * FROM _publication")
            con.execute("COMMENT ON TABLE pub.meta.publication IS "
                        "'Publiceringen: körning, dataläge och tidpunkt.'")
            counts["meta.publication"] = publication.height
        con.execute("DETACH pub")
        con.execute("DETACH wh")
    except Exception:
        con.close()
        tmp.unlink(missing_ok=True)
        raise
    con.close()
    os.replace(tmp, published)
    return counts
