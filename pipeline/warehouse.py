"""The DuckDB warehouse and its published snapshot (plain functions, no Dagster).

The pipeline owns `warehouse.duckdb` and writes each table in one transaction (create or
replace, comments included), so a failed write leaves the previous table in place.
Analysts never open that file: `publish` copies the marts into a new file and swaps it
over `published/uppvaxt.duckdb` with an atomic rename. A reader holding the old snapshot
keeps reading it; the writer never waits for readers. The snapshot uses a storage
format that DuckDB 1.5 clients (the `duckdb` CLI from PyPI, DBeaver) can open too.

Crash safety: the snapshot is built under a temporary name, closed, flushed to disk and
only then renamed over the old one, so a process killed at any point leaves either the old
or the new snapshot, never a mix; the next publish removes what a killed one left behind
(temporary files and their WAL). The warehouse is written in transactions, which DuckDB
rolls back on the next open when a writer was killed mid-way.

`fingerprint` says whether a build changed anything users see: a hash of the published
tables' content (run ids and fetch times aside), so an unchanged night rewrites nothing.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

import duckdb
import polars as pl

from sources.raw_store import pid_alive
from pipeline.sql_text import literal as _literal
from pipeline.sql_text import quote as _quote
from pipeline.views import create_views

PUBLISHED_SCHEMAS = ("marts", "meta")
PUBLISHED_STORAGE_VERSION = "v1.5.0"
# What a fingerprint leaves out: when and by which run, not what.
VOLATILE_COLUMNS = ("run_id", "fetched_at", "checked_at", "first_seen", "last_seen")
# Meta tables that change with every fetch whatever the data (a log, the publication row).
UNFINGERPRINTED = ("meta.raw_response", "meta.publication")


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


def read_table(database: Path, schema: str, table: str, columns: list[str] | None = None) -> pl.DataFrame:
    if not database.exists():
        raise FileNotFoundError(f"warehouse {database} does not exist; materialise {schema}.{table} first")
    # Same configuration as the writer: DuckDB refuses differently configured connections
    # to one file within a process.
    con = duckdb.connect(str(database))
    try:
        selected = ", ".join(_quote(c) for c in columns) if columns else "*"
        return con.sql(f"SELECT {selected} FROM {_quote(schema)}.{_quote(table)}").pl()
    finally:
        con.close()


def read_published(published: Path, schema: str, table: str) -> pl.DataFrame | None:
    """A table of the published snapshot, or None when there is no snapshot or no such table."""
    if not published.exists():
        return None
    con = duckdb.connect(str(published), read_only=True)
    try:
        found = con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND "
                            "table_name = ?", [schema, table]).fetchall()[0][0]
        return con.sql(f"SELECT * FROM {_quote(schema)}.{_quote(table)}").pl() if found else None
    finally:
        con.close()


def published_run(published: Path) -> dict | None:
    """meta.publication of the published snapshot as a dict (run_id, fingerprint, …), or None."""
    try:
        row = read_published(published, "meta", "publication")
    except duckdb.Error:
        return None
    return row.to_dicts()[0] if row is not None and row.height else None


def fingerprint(warehouse: Path, schemas: Iterable[str] = PUBLISHED_SCHEMAS,
                extra: Iterable[str] = ()) -> str:
    """SHA-256 over every published table's rows (order-free), volatile columns left out;
    `extra` strings (code and catalogue versions) are hashed in too."""
    con = duckdb.connect(str(warehouse))
    try:
        wanted = list(schemas)
        tables = con.sql("SELECT schema_name, table_name FROM duckdb_tables() "
                         "ORDER BY schema_name, table_name").fetchall()
        digest = hashlib.sha256()
        for schema_name, table_name in tables:
            name = f"{schema_name}.{table_name}"
            if schema_name not in wanted or name in UNFINGERPRINTED:
                continue
            columns = con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = ? AND "
                "table_name = ? ORDER BY column_index", [schema_name, table_name]).fetchall()
            # Doubles as single precision (7 digits): parallel sums may differ in the last bit.
            keep = ", ".join(f"CAST({_quote(c)} AS FLOAT) AS {_quote(c)}" if kind == "DOUBLE"
                             else _quote(c) for c, kind in columns if c not in VOLATILE_COLUMNS)
            count, hashed = con.sql(
                f"SELECT count(*), bit_xor(hash(t)) FROM (SELECT {keep} FROM "
                f"{_quote(schema_name)}.{_quote(table_name)}) t").fetchall()[0]
            digest.update(f"{name}:{','.join(c for c, _ in columns)}:{count}:{hashed}\n".encode())
        for text in extra:
            digest.update(f"{text}\n".encode())
        return digest.hexdigest()
    finally:
        con.close()


def remove_leftovers(published: Path) -> list[Path]:
    """Temporary snapshots (and their WAL) left by a publish that was killed."""
    removed = []
    for path in published.parent.glob(f".{published.name}.*.tmp*"):
        pid = path.name.removeprefix(f".{published.name}.").split(".", 1)[0]
        if pid != str(os.getpid()) and not pid_alive(pid):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _flush(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def publish(warehouse: Path, published: Path, *, schemas: Iterable[str] = PUBLISHED_SCHEMAS,
            publication: pl.DataFrame | None = None) -> dict[str, int]:
    """Copy the published schemas into a fresh file, add the analyst's views
    (pipeline/views.sql) and swap it in atomically.

    Returns row counts per published table and view. `publication` (one row) is stored as
    meta.publication, describing the run and the data vintage.
    """
    published.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(published)
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
    _flush(tmp)
    os.replace(tmp, published)
    return counts
