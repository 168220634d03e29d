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

Speed: a run holds the warehouse open from its first step to its last (`hold`/`release`, by
the IO manager), so each table read and write reuses the open database instead of opening
the file, replaying its log and checkpointing it again (about 30 ms each, 3 s a build). The
build lock makes the run the file's only writer; nothing outside a run opens it.

`fingerprint` says whether a build changed anything users see: a hash of the published
tables' content (run ids and fetch times aside), so an unchanged night rewrites nothing.

The build book (meta.table_build, never published): every write records the table's
content hash (its version), the versions of the tables it was built from, and the code and
catalogue versions. `consistency` walks it from the published tables down, so a snapshot is
only published from tables built from the same inputs, whichever door started the run.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from checks.publication_models import HISTORY_MODELS, HISTORY_SCHEMAS, TableBuild
from checks.validate import column_docs
from sources.raw_store import pid_alive
from pipeline.sql_text import literal as _literal
from pipeline.sql_text import quote as _quote
from pipeline.views import create_views

PUBLISHED_SCHEMAS = ("marts", "meta")
PUBLISHED_STORAGE_VERSION = "v1.5.0"
# What a fingerprint leaves out: when, by which run and from which stored responses (the
# same values asked alone or with other KPIs come back in other responses), not what.
VOLATILE_COLUMNS = ("run_id", "fetched_at", "checked_at", "first_seen", "last_seen", "pages",
                    "meta_page")
# Meta tables that change with every fetch whatever the data (a log, the publication row,
# the history of publications, the build book).
BUILD_BOOK = "meta.table_build"
HISTORY_TABLES = tuple(HISTORY_MODELS)
UNFINGERPRINTED = ("meta.raw_response", "meta.publication", BUILD_BOOK, *HISTORY_TABLES)
# Kept in the warehouse only.
UNPUBLISHED = (BUILD_BOOK,)
# How a series came to be in this build (fetched now, or kept from the last one) is not
# what it is: both count as current in a table's version.
SAME_STATE = {"meta.kolada_vintage": ("state", ("fresh", "kept")),
              "meta.scb_vintage": ("state", ("fresh", "kept"))}


@dataclass(frozen=True)
class BuildStamp:
    """What a table write records in the build book besides the table's own version."""

    parents: tuple[str, ...] = ()   # the tables it was built from (schema.table)
    code_version: str = ""
    catalog_version: str = ""
    run_id: str | None = None


BUILD_BOOK_DDL = f"""CREATE TABLE IF NOT EXISTS {BUILD_BOOK} (
    table_name VARCHAR, version VARCHAR, inputs VARCHAR, code_version VARCHAR,
    catalog_version VARCHAR, run_id VARCHAR, built_at VARCHAR)"""


def table_hash(con: duckdb.DuckDBPyConnection, schema: str, table: str, prefix: str = "") -> str:
    """A table's content: row count and an order-free hash of its rows, volatile columns left
    out and doubles as single precision (parallel sums may differ in the last bit)."""
    name = f"{schema}.{table}"
    columns = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = ? AND "
        "table_name = ? AND database_name = coalesce(nullif(?, ''), current_database()) "
        "ORDER BY column_index", [schema, table, prefix.rstrip(".")]).fetchall()
    same_column, same_values = SAME_STATE.get(name, (None, ()))
    parts = []
    for column, kind in columns:
        if column in VOLATILE_COLUMNS:
            continue
        if column == same_column:
            listed = ", ".join(_literal(v) for v in same_values)
            parts.append(f"CASE WHEN {_quote(column)} IN ({listed}) THEN {_literal(same_values[0])} "
                         f"ELSE {_quote(column)} END AS {_quote(column)}")
        elif kind == "DOUBLE":
            parts.append(f"CAST({_quote(column)} AS FLOAT) AS {_quote(column)}")
        else:
            parts.append(_quote(column))
    count, hashed = con.sql(
        f"SELECT count(*), bit_xor(hash(t)) FROM (SELECT {', '.join(parts) or '1 AS one'} FROM "
        f"{prefix}{_quote(schema)}.{_quote(table)}) t").fetchall()[0]
    return f"{','.join(c for c, _ in columns)}:{count}:{hashed}"


def _record_build(con: duckdb.DuckDBPyConnection, schema: str, table: str, stamp: BuildStamp) -> str:
    """Write the table's row in the build book (inside the caller's transaction)."""
    con.execute("CREATE SCHEMA IF NOT EXISTS meta")
    con.execute(BUILD_BOOK_DDL)
    comment, columns = column_docs(TableBuild)
    con.execute(f"COMMENT ON TABLE {BUILD_BOOK} IS {_literal(comment)}")
    for column, text in columns.items():
        con.execute(f"COMMENT ON COLUMN {BUILD_BOOK}.{_quote(column)} IS {_literal(text)}")
    name = f"{schema}.{table}"
    version = hashlib.sha256(table_hash(con, schema, table).encode()).hexdigest()[:32]
    known = dict(con.execute(f"SELECT table_name, version FROM {BUILD_BOOK}").fetchall())
    inputs = {parent: known.get(parent) for parent in sorted(set(stamp.parents) - {name})}
    con.execute(f"DELETE FROM {BUILD_BOOK} WHERE table_name = ?", [name])
    con.execute(f"INSERT INTO {BUILD_BOOK} VALUES (?, ?, ?, ?, ?, ?, ?)",
                [name, version, json.dumps(inputs, sort_keys=True), stamp.code_version,
                 stamp.catalog_version, stamp.run_id,
                 datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")])
    return version


_HELD: dict[str, duckdb.DuckDBPyConnection] = {}
DUCKDB_MEMORY = "512MB"  # DuckDB's own cache and working memory in a run (see hold)


def hold(database: Path) -> None:
    """Keep `database` open in this process until `release`: every `duckdb.connect` to it
    meanwhile is a cheap new connection to the open database (DuckDB shares one instance per
    file and configuration within a process)."""
    key = str(database)
    if key not in _HELD:
        database.parent.mkdir(parents=True, exist_ok=True)
        _HELD[key] = duckdb.connect(key)
        # A run reads and writes one large table after another: DuckDB's cache stays small
        # (by default it may grow to most of the machine's memory, and a checkpoint of the
        # fact table of a few hundred indicators took 600 MB more without a limit, 90 MB
        # with), and what DuckDB frees goes back to the system within seconds, not at the
        # end of the run. Queries larger than the limit spill to disk; a result read into
        # polars counts against it too (256 MB failed the publication's reads at ten times
        # the catalogue).
        _HELD[key].execute(f"SET memory_limit = '{DUCKDB_MEMORY}'")
        _HELD[key].execute("SET allocator_background_threads = true")
        _HELD[key].execute("SET allocator_flush_threshold = '16MB'")


def release(database: Path) -> None:
    """Close the held database (its log is checkpointed into the file)."""
    con = _HELD.pop(str(database), None)
    if con is not None:
        con.close()


def _replace(con: duckdb.DuckDBPyConnection, schema: str, table: str, source: str,
             columns: list[str], comment: str | None, column_comments: dict[str, str] | None,
             stamp: BuildStamp | None) -> None:
    """Replace `schema.table` with the rows of `source` (SQL), its comments and its
    build-book row, in one transaction."""
    target = f"{_quote(schema)}.{_quote(table)}"
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {_quote(schema)}")
        con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {source}")
        if comment:
            con.execute(f"COMMENT ON TABLE {target} IS {_literal(comment)}")
        for column, text in (column_comments or {}).items():
            if column in columns:
                con.execute(f"COMMENT ON COLUMN {target}.{_quote(column)} IS {_literal(text)}")
        if stamp is not None:
            _record_build(con, schema, table, stamp)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def write_table(database: Path, schema: str, table: str, frame: pl.DataFrame, *,
                comment: str | None = None, column_comments: dict[str, str] | None = None,
                stamp: BuildStamp | None = None) -> None:
    """Replace `schema.table` with `frame` and its comments in a single transaction; with a
    `stamp`, its row in the build book too (same transaction)."""
    database.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(database))
    try:
        con.register("_frame", frame)
        _replace(con, schema, table, "_frame", frame.columns, comment, column_comments, stamp)
    finally:
        con.close()


class Handover:
    """A frame on its way to the warehouse, given up once written (`take`).

    Dagster's in-process execution (the command line's and the tests' door) keeps every
    output value until the run ends; a table asset's output is this box, emptied by the
    IO manager, so the frames of the ~40 steps before do not all stay in memory."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self._frame: pl.DataFrame | None = frame

    def take(self) -> pl.DataFrame:
        frame, self._frame = self._frame, None
        if frame is None:
            raise ValueError("the frame was already written")
        return frame


PARTS_SUFFIX = ".parts"


class TableWrite:
    """`schema.table` written a part at a time: `append` each part, then `commit` replaces
    the table with all of them, its comments and its build-book row in one transaction (as
    `write_table`), or `rollback` leaves the old table as it is.

    The parts wait as Parquet files in a folder beside the warehouse, not in DuckDB: rows
    inserted into an open transaction stay in memory until the commit, a GB for the fact
    table of a few hundred indicators, while the commit reads the files in a stream. A
    process killed before its commit leaves the old table and a folder the next write
    removes."""

    def __init__(self, database: Path, schema: str, table: str) -> None:
        self.database, self.schema, self.table = database, schema, table
        self.rows, self.columns = 0, []
        database.parent.mkdir(parents=True, exist_ok=True)
        for folder in database.parent.glob(f".{database.name}.*{PARTS_SUFFIX}"):
            if not pid_alive(folder.name.removeprefix(f".{database.name}.").split(".", 1)[0]):
                shutil.rmtree(folder, ignore_errors=True)  # left by a killed run
        self.folder: Path | None = database.parent / (
            f".{database.name}.{os.getpid()}.{schema}.{table}.{id(self)}{PARTS_SUFFIX}")
        self.folder.mkdir()
        self._files: list[Path] = []

    def append(self, frame: pl.DataFrame) -> None:
        if self.folder is None:
            raise ValueError(f"{self.schema}.{self.table}: the write is already finished")
        if self._files and frame.columns != self.columns:
            raise ValueError(f"{self.schema}.{self.table}: a part with other columns: {frame.columns}")
        path = self.folder / f"{len(self._files):06d}.parquet"
        frame.write_parquet(path, compression="lz4", statistics=False)
        self._files.append(path)
        self.rows, self.columns = self.rows + frame.height, list(frame.columns)

    def commit(self, *, comment: str | None = None, column_comments: dict[str, str] | None = None,
               stamp: BuildStamp | None = None) -> None:
        if not self._files:
            raise ValueError(f"{self.schema}.{self.table}: nothing was written")
        files = ", ".join(_literal(str(path)) for path in self._files)
        con = duckdb.connect(str(self.database))
        try:
            _replace(con, self.schema, self.table, f"read_parquet([{files}])", self.columns,
                     comment, column_comments, stamp)
        finally:
            con.close()
            self.rollback()

    def rollback(self) -> None:
        """Forget the parts (the table stays as it was, unless committed)."""
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


def read_table(database: Path, schema: str, table: str, columns: list[str] | None = None,
               rows: dict[str, object] | None = None) -> pl.DataFrame:
    """`schema.table`, or only `columns` of it and only the `rows` where each named column
    equals its value (in the table's order)."""
    if not database.exists():
        raise FileNotFoundError(f"warehouse {database} does not exist; materialise {schema}.{table} first")
    # Same configuration as the writer: DuckDB refuses differently configured connections
    # to one file within a process.
    con = duckdb.connect(str(database))
    try:
        selected = ", ".join(_quote(c) for c in columns) if columns else "*"
        where = " AND ".join(f"{_quote(c)} = ?" for c in rows or {})
        query = f"SELECT {selected} FROM {_quote(schema)}.{_quote(table)}"
        if not where:
            return con.sql(query).pl()
        return con.sql(f"{query} WHERE {where}", params=list(rows.values())).pl()
    finally:
        con.close()


def query(database: Path, sql: str, params: list | None = None, *,
          frames: dict[str, pl.DataFrame] | None = None,
          attach: dict[str, Path] | None = None) -> pl.DataFrame:
    """The rows of a read-only `sql` over `database` (with `params`): only what it selects
    reaches the process, not the tables it reads. `frames` are visible to it by name, and
    `attach` opens other DuckDB files (the published snapshot) read-only under an alias."""
    if not database.exists():
        raise FileNotFoundError(f"warehouse {database} does not exist")
    con = duckdb.connect(str(database))  # the writer's configuration, as read_table
    attached: list[str] = []
    try:
        for name, frame in (frames or {}).items():
            con.register(name, frame)
        for alias, path in (attach or {}).items():
            con.execute(f"ATTACH {_literal(str(path))} AS {_quote(alias)} (READ_ONLY)")
            attached.append(alias)
        return con.sql(sql, params=params).pl()
    finally:
        for alias in attached:  # attachments belong to the database, not the connection
            con.execute(f"DETACH DATABASE IF EXISTS {_quote(alias)}")
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


def _table_names(con: duckdb.DuckDBPyConnection, schemas: Iterable[str]) -> list[str]:
    wanted = list(schemas)
    return [f"{schema}.{table}" for schema, table in con.sql(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = "
        "current_database() ORDER BY schema_name, table_name").fetchall() if schema in wanted]


def fingerprint(warehouse: Path, schemas: Iterable[str] = PUBLISHED_SCHEMAS,
                extra: Iterable[str] = ()) -> str:
    """SHA-256 over every published table's content (order-free, volatile columns left out);
    `extra` strings (code and catalogue versions) are hashed in too."""
    con = duckdb.connect(str(warehouse))
    try:
        digest = hashlib.sha256()
        for name in _table_names(con, schemas):
            if name in UNFINGERPRINTED:
                continue
            schema, table = name.split(".", 1)
            digest.update(f"{name}:{table_hash(con, schema, table)}\n".encode())
        for text in extra:
            digest.update(f"{text}\n".encode())
        return digest.hexdigest()
    finally:
        con.close()


def table_builds(warehouse: Path) -> dict[str, dict]:
    """The build book: table -> its row (version, inputs as a dict, code and catalogue versions)."""
    if not warehouse.exists():
        return {}
    con = duckdb.connect(str(warehouse))
    try:
        found = con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'meta' "
                            "AND table_name = 'table_build'").fetchall()[0][0]
        rows = con.sql(f"SELECT * FROM {BUILD_BOOK}").pl().to_dicts() if found else []
    finally:
        con.close()
    return {row["table_name"]: {**row, "inputs": json.loads(row["inputs"])} for row in rows}


@dataclass
class Consistency:
    """Whether the tables behind a publication were built from the same inputs."""

    tables: list[str] = field(default_factory=list)          # every table checked
    unrecorded: list[str] = field(default_factory=list)      # no row in the build book
    stale: dict[str, list[str]] = field(default_factory=dict)  # table -> inputs rebuilt since
    code_version: str | None = None     # shared by all tables, else None
    catalog_version: str | None = None
    mixed: dict[str, list[str]] = field(default_factory=dict)  # "code"/"catalog" -> tables off
    rebuild: list[str] = field(default_factory=list)  # the tables to rebuild, downstream ones too

    @property
    def ok(self) -> bool:
        return not (self.unrecorded or self.stale or self.mixed)


def _odd_ones(builds: dict[str, dict], tables: list[str], column: str) -> tuple[str | None, list[str]]:
    """The version most recently built with, and the tables built with another one."""
    versions = {t: builds[t][column] for t in tables if t in builds}
    if len(set(versions.values())) <= 1:
        return next(iter(versions.values()), None), []
    newest = builds[max(versions, key=lambda t: (builds[t]["built_at"], t))][column]
    return None, sorted(t for t, v in versions.items() if v != newest)


def consistency(warehouse: Path, published: Iterable[str]) -> Consistency:
    """Walk the build book from the `published` tables down through what each was built from:
    every input must still be the version it was built from, and all must share one code and
    one catalogue version."""
    builds = table_builds(warehouse)
    result = Consistency()
    todo, seen = sorted(published), set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        build = builds.get(name)
        if build is None:
            result.unrecorded.append(name)
            continue
        for parent, version in build["inputs"].items():
            todo.append(parent)
            if parent in builds and builds[parent]["version"] != version:
                result.stale.setdefault(name, []).append(parent)
    result.tables = sorted(seen)
    result.unrecorded.sort()
    result.code_version, code_off = _odd_ones(builds, result.tables, "code_version")
    result.catalog_version, catalog_off = _odd_ones(builds, result.tables, "catalog_version")
    result.mixed = {k: v for k, v in (("code", code_off), ("catalog", catalog_off)) if v}
    off = set(result.stale) | set(result.unrecorded) | set(code_off) | set(catalog_off)
    grew = True
    while grew:  # and whatever was built from them
        more = {t for t in result.tables if t in builds and off & set(builds[t]["inputs"])} - off
        off |= more
        grew = bool(more)
    result.rebuild = sorted(off)
    return result


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


@dataclass(frozen=True)
class ExtraTable:
    """A table given to `publish` as a frame (it replaces the warehouse's copy, if any)."""

    frame: pl.DataFrame
    comment: str | None = None
    column_comments: dict[str, str] = field(default_factory=dict)


def empty_history(names: Iterable[str]) -> dict[str, ExtraTable]:
    """History tables with no rows, for a snapshot published without them (the views read
    them; a first publication says there is nothing to compare with)."""
    out = {}
    for name in names:
        comment, columns = column_docs(HISTORY_MODELS[name])
        out[name] = ExtraTable(pl.DataFrame(schema=HISTORY_SCHEMAS[name]), comment, columns)
    return out


def publish(warehouse: Path, published: Path, *, schemas: Iterable[str] = PUBLISHED_SCHEMAS,
            publication: pl.DataFrame | None = None,
            extra: dict[str, ExtraTable] | None = None) -> dict[str, int]:
    """Copy the published schemas into a fresh file, add the analyst's views
    (pipeline/views.sql) and swap it in atomically.

    Returns row counts per published table and view. `publication` (one row) is stored as
    meta.publication, describing the run and the data vintage; `extra` tables
    ("schema.table" -> frame and comments) are stored as given (the publication history).
    """
    extra = dict(extra or {})
    published.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(published)
    tmp = published.with_name(f".{published.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    counts: dict[str, int] = {}
    if not warehouse.exists():  # connecting would create an empty one
        raise duckdb.IOException(f"the warehouse {warehouse} does not exist")
    # The warehouse's own connection (the run's open database when it holds one): only the
    # new file is written.
    con = duckdb.connect(str(warehouse))
    try:
        wh = con.sql("SELECT current_database()").fetchall()[0][0]
        con.execute(f"ATTACH {_literal(str(tmp))} AS pub "
                    f"(STORAGE_VERSION {_literal(PUBLISHED_STORAGE_VERSION)})")
        # One transaction: each statement on its own commits (and syncs) the new file, and
        # its ~600 comments alone then took most of a second.
        con.execute("BEGIN TRANSACTION")
        wanted = list(schemas)
        tables = con.execute(
            "SELECT schema_name, table_name, comment FROM duckdb_tables() "
            "WHERE database_name = ? ORDER BY schema_name, table_name", [wh]).fetchall()
        columns = con.execute(
            "SELECT schema_name, table_name, column_name, comment FROM duckdb_columns() "
            "WHERE database_name = ? AND comment IS NOT NULL", [wh]).fetchall()
        for schema_name, table_name, comment in tables:
            name = f"{schema_name}.{table_name}"
            if schema_name not in wanted or name in UNPUBLISHED or name in extra:
                continue
            source = f"{_quote(wh)}.{_quote(schema_name)}.{_quote(table_name)}"
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
        present = {f"{schema}.{table}" for schema, table, _ in tables}
        if "marts.fact_indicator" in present:  # a snapshot of facts always has its history
            extra = {**empty_history(n for n in HISTORY_TABLES if n not in present), **extra}
        for name, table in sorted(extra.items()):
            schema_name, table_name = name.split(".", 1)
            target = f"pub.{_quote(schema_name)}.{_quote(table_name)}"
            con.register("_extra", table.frame)
            con.execute(f"CREATE SCHEMA IF NOT EXISTS pub.{_quote(schema_name)}")
            con.execute(f"CREATE TABLE {target} AS SELECT * FROM _extra")
            con.unregister("_extra")
            if table.comment:
                con.execute(f"COMMENT ON TABLE {target} IS {_literal(table.comment)}")
            for column, text in table.column_comments.items():
                if column in table.frame.columns:
                    con.execute(f"COMMENT ON COLUMN {target}.{_quote(column)} IS {_literal(text)}")
            counts[name] = table.frame.height
        if publication is not None:
            con.register("_publication", publication)
            con.execute("CREATE SCHEMA IF NOT EXISTS pub.meta")
            con.execute("CREATE OR REPLACE TABLE pub.meta.publication AS SELECT * FROM _publication")
            con.execute("COMMENT ON TABLE pub.meta.publication IS "
                        "'Publiceringen: körning, dataläge och tidpunkt.'")
            counts["meta.publication"] = publication.height
        counts.update(create_views(con, "pub"))
        con.execute("COMMIT")
        con.execute("DETACH pub")
    except Exception:
        try:
            con.execute("ROLLBACK")
        except duckdb.TransactionException:
            pass  # it failed before the transaction began or in its commit
        con.execute("DETACH DATABASE IF EXISTS pub")
        con.close()
        tmp.unlink(missing_ok=True)
        raise
    con.close()
    _flush(tmp)
    os.replace(tmp, published)
    return counts
