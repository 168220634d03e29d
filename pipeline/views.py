"""The analyst's views (pipeline/views.sql), created inside a snapshot before it is published.

Every view column gets a Swedish comment: its own entry in COLUMN_COMMENTS, else the comment
of the column it comes from (same name in INHERIT_FROM; coded columns thereby list their
codes), else, for a `<code>_label` column, a note that it is the Swedish text of `<code>`.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipeline.sql_text import literal as _literal
from pipeline.sql_text import quote as _quote

VIEWS_SQL = Path(__file__).with_name("views.sql")

# The tables the views read; without any of them (a partial warehouse) no view is made.
# (The publication history they read too is always there: publish() adds it with the facts.)
VIEW_TABLES = ("marts.fact_indicator", "marts.indicator", "marts.area", "marts.label",
               "marts.peer_group")

INHERIT_FROM = ("marts.fact_indicator", "marts.indicator", "marts.area", "marts.peer_group",
                "meta.publication_change")

COLUMN_COMMENTS = {
    "area_code": "Områdeskod: kommun fyra siffror, län två, riket 00, delregion län-kod, "
                 "ALLA = alla svarande i en enkät",
    "area_name": "Områdets namn",
    "kommun_code": "Kommunkod, fyra siffror (t.ex. 0580)",
    "kommun_name": "Kommunens namn",
    "lan_code": "Länskod, två siffror (tomt för riket och alla svarande)",
    "lan_name": "Länets namn",
    "title": "Indikatorns titel",
    "short_title": "Indikatorns korta titel",
    "lan_value": "Länets värde samma år (totalt, utan nedbrytning)",
    "riket_value": "Rikets värde samma år; för enkätindikatorer värdet för alla svarande i enkäten",
    "riket_name": "Jämförelseområdet för riket: Riket, eller Alla svarande i enkäten",
    "period": "År",
    "peer_code": "Den liknande kommunens kod",
    "peer_name": "Den liknande kommunens namn",
    "peer_lan_code": "Den liknande kommunens län",
    "change_label": "Vad som ändrats, i klartext (nytt, borttaget, reviderat värde, ny status, "
                    "jämförelse eller trend)",
    "difference": "Nytt värde minus gammalt",
    "previous_run_id": "Publiceringen ändringen räknas mot",
}


def _present(con: duckdb.DuckDBPyConnection, catalog: str) -> set[str]:
    rows = con.sql("SELECT schema_name || '.' || table_name FROM duckdb_tables() "
                   f"WHERE database_name = {_literal(catalog)}").fetchall()
    return {name for (name,) in rows}


def column_comment(column: str, inherited: dict[str, str]) -> str | None:
    if column in COLUMN_COMMENTS:
        return COLUMN_COMMENTS[column]
    if column in inherited:
        return inherited[column]
    if column.endswith("_label"):
        return f"Svensk text för koden i {column.removesuffix('_label')} (ur marts.label)"
    return None


def create_views(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, int]:
    """Create the views in attached database `catalog` and comment their columns.

    Returns the row count of each view, which also proves that each one runs. A catalog
    with none of VIEW_TABLES gets no views; one with only some of them is an error.
    """
    present = _present(con, catalog)
    missing = [t for t in VIEW_TABLES if t not in present]
    if len(missing) == len(VIEW_TABLES):
        return {}
    if missing:
        raise RuntimeError(f"cannot create the views: {', '.join(missing)} missing from the snapshot")
    current = con.sql("SELECT current_database()").fetchall()[0][0]
    # Unqualified names inside the views resolve against the file they live in.
    con.execute(f"USE {_quote(catalog)}")
    try:
        for statement in con.extract_statements(VIEWS_SQL.read_text(encoding="utf-8")):
            try:
                con.execute(statement)
            except duckdb.Error as err:
                raise RuntimeError(f"{VIEWS_SQL.name}: {err}\n{statement.query.strip()[:300]}") from err
        views = [name for (name,) in con.sql(
            "SELECT schema_name || '.' || view_name FROM duckdb_views() "
            f"WHERE database_name = {_literal(catalog)} AND NOT internal ORDER BY 1").fetchall()]
        _comment_columns(con, catalog, views)
        return {view: con.sql(f"SELECT count(*) FROM {view}").fetchall()[0][0] for view in views}
    finally:
        con.execute(f"USE {_quote(current)}")


def _comment_columns(con: duckdb.DuckDBPyConnection, catalog: str, views: list[str]) -> None:
    comments = con.sql(
        "SELECT schema_name || '.' || table_name, column_name, comment FROM duckdb_columns() "
        f"WHERE database_name = {_literal(catalog)} AND comment IS NOT NULL").fetchall()
    by_table: dict[str, dict[str, str]] = {}
    for table, column, text in comments:
        by_table.setdefault(table, {})[column] = text
    inherited: dict[str, str] = {}
    for table in reversed(INHERIT_FROM):  # the first table listed wins
        inherited.update(by_table.get(table, {}))
    for view in views:
        for (column,) in con.sql(
                "SELECT column_name FROM duckdb_columns() WHERE database_name = "
                f"{_literal(catalog)} AND schema_name || '.' || table_name = {_literal(view)} "
                "ORDER BY column_index").fetchall():
            text = column_comment(column, inherited)
            if text:
                con.execute(f"COMMENT ON COLUMN {view}.{_quote(column)} IS {_literal(text)}")
