"""The publication's own work, in a process of its own (pipeline/own_process.py; the step in
pipeline/assets/reports.py decides whether to publish and starts it).

Plain functions, no Dagster, so the process starts quickly: read the marts, append this
publication to the history tables, fill a new publication folder — the snapshot, the site and
the downloads, unchanged files hardlinked from the current publication — make it current with
one atomic swap, and keep the history in the warehouse too.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields
from pathlib import Path

import polars as pl

from checks.publication_models import HISTORY_MODELS
from checks.validate import column_docs, validate
from pipeline.layout import DataLayout
from pipeline.publication import discard_release, finish_release, save_record, start_release
from pipeline.sql_text import literal, quote
from pipeline.warehouse import (HISTORY_TABLES, ExtraTable, hold, publish, published_run, query,
                                read_published, read_table, release, write_table)
from reports.downloads import FACT_COLUMNS as DOWNLOAD_COLUMNS
from reports.downloads import AreaFacts
from reports.model import NATIONAL, SERIES_AREAS, SITE_FACT_COLUMNS, Marts, latest_periods
from reports.render import ReportContext, render_downloads, render_site
from sources.geography import boundaries
from transforms.changes import (KEY, TRACKED, append, decision_states, history_row, kpi_states,
                                value_changes)

FACTS = "marts.fact_indicator"
# Marts fields read from tables of another name; the others are read by their own name
# from marts.* or meta.* (a field the site adds is filled without a change here).
MARTS_TABLES = {"facts": FACTS, "indicators": "marts.indicator",
                "areas": "marts.area", "peers": "marts.peer_group",
                "funnels": "marts.funnel_limit", "methods": "marts.method"}


def _in(values: list[str]) -> str:
    return f"({', '.join(literal(v) for v in values)})"


def fetched_at(paths: DataLayout) -> pl.DataFrame:
    """Per indicator, the newest fetched_at of its facts (kpi_states, fetch_dates and
    fetched_date give the same answer as on the whole fact table)."""
    return query(paths.warehouse, f"SELECT indicator_id, max(fetched_at) AS fetched_at FROM {FACTS} "
                                  "GROUP BY indicator_id ORDER BY indicator_id")


def site_facts(paths: DataLayout) -> pl.DataFrame:
    """The fact rows and columns the site reads (reports/model.py SiteData): the national
    rows, the series of kommuner and län (sex T, all) and every row of an indicator's latest
    year; about a third of the rows and two thirds of the columns. In no particular order
    (SiteData sorts what it reads): an ORDER BY would make DuckDB hold the whole result."""
    columns = f"COLUMNS(lambda c: c IN {_in(SITE_FACT_COLUMNS)})"
    national = query(paths.warehouse, f"SELECT {columns} FROM {FACTS} WHERE area_type IN {_in(NATIONAL)}")
    latest = pl.DataFrame(list(latest_periods(national).items()), orient="row",
                          schema={"indicator_id": pl.String, "period": pl.Int64})
    del national
    return query(paths.warehouse, f"""
        SELECT {columns} FROM {FACTS}
        WHERE area_type IN {_in(NATIONAL)}
           OR (sex = 'T' AND breakdown = 'all' AND area_type IN {_in(SERIES_AREAS)})
           OR (indicator_id, period) IN (SELECT (indicator_id, period) FROM _latest)""",
                 frames={"_latest": latest})


def area_facts(paths: DataLayout) -> AreaFacts:
    """Every fact row, an area set at a time, for the downloads (in the table's order)."""
    years = query(paths.warehouse, f"SELECT DISTINCT period FROM {FACTS} ORDER BY period")
    columns = ", ".join(quote(c) for c in DOWNLOAD_COLUMNS)
    return AreaFacts(years["period"].to_list(), lambda codes: query(
        paths.warehouse, f"SELECT {columns} FROM {FACTS} WHERE list_contains(?, area_code) ORDER BY rowid",
        [codes]))


def changed_facts(paths: DataLayout) -> tuple[pl.DataFrame | None, pl.DataFrame | None]:
    """The published and the new fact rows (key and tracked columns) of every key whose
    tracked columns differ, or that is in one table only: the only rows `value_changes` can
    flag. DuckDB compares the two tables by a 64-bit hash of each row's key and of its
    tracked values (two rows that differ but hash alike, about once in 10^19, would go
    unseen; keys that hash alike only bring along rows that turn out unchanged), so only
    those rows reach this process, and the comparison stays within DuckDB's memory limit.
    None for both when the published snapshot has no fact table (nothing to compare with)."""
    present = query(paths.warehouse, "SELECT count(*) AS n FROM duckdb_tables() WHERE database_name = "
                    "'published' AND schema_name = 'marts' AND table_name = 'fact_indicator'",
                    attach={"published": paths.published})["n"][0]
    if not present:
        return None, None
    keys = ", ".join(quote(c) for c in KEY)
    tracked = ", ".join(quote(c) for c in KEY + TRACKED)
    changed = query(paths.warehouse, f"""
        WITH old AS (SELECT hash({keys}) AS k, hash({tracked}) AS h FROM published.{FACTS}),
             new AS (SELECT hash({keys}) AS k, hash({tracked}) AS h FROM {FACTS})
        SELECT k FROM (FROM old EXCEPT ALL FROM new) UNION SELECT k FROM (FROM new EXCEPT ALL FROM old)""",
                    attach={"published": paths.published})
    where = f"hash({keys}) IN (SELECT k FROM _changed)" if changed.height else "false"
    rows = lambda table: query(  # noqa: E731
        paths.warehouse, f"SELECT {tracked} FROM {table} WHERE {where} ORDER BY rowid",
        frames={"_changed": changed}, attach={"published": paths.published})
    return rows(f"published.{FACTS}"), rows(FACTS)


def fetched_date(facts: pl.DataFrame) -> str:
    latest = facts["fetched_at"].drop_nulls().max()
    return str(latest)[:10] if latest else "okänt"


def _table(paths: DataLayout, name: str) -> pl.DataFrame | None:
    schema, table = name.split(".", 1)
    try:
        return read_table(paths.warehouse, schema, table)
    except Exception:  # noqa: BLE001 - a part without its table says so on the page
        return None


def site_marts(paths: DataLayout, history: dict[str, pl.DataFrame]) -> Marts:
    """The marts the site reads, from the warehouse, except those given in `history` (this
    publication's history tables, and any table already read) by their schema.table name."""
    values = {}
    for spec in fields(Marts):
        if spec.name == "shapes":
            values[spec.name] = boundaries()
            continue
        names = [MARTS_TABLES[spec.name]] if spec.name in MARTS_TABLES else \
            [f"meta.{spec.name}", f"marts.{spec.name}"]
        found = next((history[n] for n in names if n in history), None)
        if found is None:
            found = next((f for f in (_table(paths, n) for n in names) if f is not None), None)
        values[spec.name] = found
    return Marts(**values)


def history_tables(paths: DataLayout, run_id: str, publication: dict, fetched: pl.DataFrame,
                   marts: dict[str, pl.DataFrame | None]) -> dict[str, pl.DataFrame]:
    """The three history tables with this publication appended. The kept history is the
    current publication's (exactly the publications readers have seen); the warehouse's copy
    serves when there is no published one. The facts are the warehouse's, compared in DuckDB
    with the published ones; `fetched`: rows with indicator_id and fetched_at (`fetched_at`,
    or the fact table itself)."""
    current = published_run(paths.published) or {}
    previous_run = current.get("run_id")
    kept = {}
    for name in HISTORY_TABLES:
        schema, table = name.split(".", 1)
        kept[name] = read_published(paths.published, schema, table) if previous_run else None
        if kept[name] is None and not previous_run:
            kept[name] = _table(paths, name)
    old_facts, new_facts = changed_facts(paths) if previous_run else (None, None)
    changes = value_changes(old_facts, new_facts, run_id, previous_run)
    decisions = decision_states(run_id, marts.get("goal_progress"), marts.get("need_index"),
                                marts.get("watch_list"))
    states = kpi_states(marts["indicator"], marts.get("data_quality"), fetched)
    n_values = query(paths.warehouse, f"SELECT count(*) AS n FROM {FACTS}")["n"][0]
    row = history_row(publication, previous_run, n_values, changes, states)
    return {"meta.publication_history": append(kept["meta.publication_history"], row, run_id),
            "meta.publication_change": append(kept["meta.publication_change"], changes, run_id),
            "meta.decision_history": append(kept["meta.decision_history"], decisions, run_id)}


def documented(tables: dict[str, pl.DataFrame], label: str) -> dict[str, ExtraTable]:
    out = {}
    for name, frame in tables.items():
        model = HISTORY_MODELS[name]
        result = validate(frame, model)
        if not result.passed:
            raise ValueError(result.message(name))
        comment, columns = column_docs(model)
        out[name] = ExtraTable(frame, f"{label}. {comment}" if label else comment, columns)
    return out

def write_publication(data_dir: str, label: str, is_demo: bool, run_id: str,
                      publication_row: dict) -> dict:
    """The publication's work, in a process of its own (pipeline/own_process.py): the history,
    the snapshot, the site and the downloads in a new publication folder made current, then
    the history kept in the warehouse. Returns what the step reports."""
    paths = DataLayout(Path(data_dir))
    hold(paths.warehouse)
    try:
        fetched = fetched_at(paths)
        marts = {name: _table(paths, f"marts.{name}") for name in
                 ("indicator", "goal_progress", "need_index", "watch_list")}
        marts["data_quality"] = _table(paths, "meta.data_quality")
        history = history_tables(paths, run_id, publication_row, fetched, marts)
        staging = start_release(paths.data, run_id)
        try:
            save_record(paths.raw, paths.warehouse, publication_row)
            # The snapshot is DuckDB's work (outside the interpreter's lock) while this thread
            # prepares the site; the downloads are written while the workers render the pages.
            with ThreadPoolExecutor(max_workers=1) as snapshot_thread:
                snapshot = snapshot_thread.submit(
                    publish, paths.warehouse, staging.database,
                    publication=pl.DataFrame([publication_row]),
                    extra=documented(history, label if is_demo else ""))
                # Only the fact rows the pages read; the downloads read theirs a county at a
                # time (the whole table would be gigabytes at a few hundred indicators).
                # The marts are handed over (no reference kept here), so the site lets go of
                # the facts once its data are prepared.
                ctx = ReportContext(run_id=run_id, data_label=label, is_demo=is_demo,
                                    fetched=fetched_date(fetched))
                rewritten_downloads: list = []
                site = render_site(site_marts(paths, {**history, FACTS: site_facts(paths)}),
                                   staging.site, ctx, fetched_at=fetched, keep_facts=False,
                                   alongside=lambda data: render_downloads(
                                       data.m, staging.site, ctx, rewritten=rewritten_downloads,
                                       data=data, facts=area_facts(paths)))
                download_files = site.alongside
                counts = snapshot.result()
            largest = {kind: max(site.bytes_of(kind)) for kind in site.pages}  # before the move
            finish_release(paths.data, staging, {k: publication_row[k] for k in
                                                 ("run_id", "published_at", "fingerprint",
                                                  "data_label", "data_mode")})
        except BaseException:
            discard_release(staging)
            raise
        # The warehouse keeps the history too (the next publication reads the published copy).
        for name, frame in history.items():
            schema, table = name.split(".", 1)
            comment, columns = column_docs(HISTORY_MODELS[name])
            write_table(paths.warehouse, schema, table, frame, comment=comment, column_comments=columns)
    finally:
        release(paths.warehouse)
    changed = history["meta.publication_history"].row(-1, named=True)
    return {"counts": counts, "pages": sum(len(v) for v in site.pages.values()),
            "rewritten_pages": len(site.rewritten),
            "seconds": {k: round(v, 2) for k, v in site.seconds.items()},
            "largest": largest,
            "files": len(download_files), "rewritten_files": len(rewritten_downloads),
            "changes": {k: v for k, v in changed.items() if k.startswith("n_") or k == "previous_run_id"}}
