"""One SCB refresh of the population tables: fetch what SCB has updated, keep the rest.

Each table's vintage is its `updated` stamp and the stored json-stat2 answers its rows were
read from. `incremental` asks `/tables/{id}` for the stamp and fetches the table only when
it moved; `full` fetches every table; `replay` decodes the previous build's answers from the
raw store. A table that cannot be fetched keeps its previous answers (state `stale`) when it
has some; the first build without them fails, naming the request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import orjson
import polars as pl

from sources.catalog import AgeBand, PopulationTable
from sources.http import ApiError
from sources.kolada_refresh import INCREMENTAL, REPLAY, split_pages
from sources.raw_store import RawStore
from sources.scb import ScbClient, fetch_table, population_frame, population_rows

SCB_VINTAGE_SCHEMA = {
    "table_id": pl.String,
    "state": pl.String,
    "problem": pl.String,
    "message": pl.String,
    "updated": pl.String,
    "pages": pl.String,
    "fetched_at": pl.String,
    "checked_at": pl.String,
}

@dataclass
class PopulationRefresh:
    population: pl.DataFrame  # raw.scb_population
    vintage: pl.DataFrame     # meta.scb_vintage


def _stored(store: RawStore, table: PopulationTable, row: dict) -> list[pl.DataFrame]:
    frames = []
    for sha in split_pages(row.get("pages")):
        doc = orjson.loads(store.load("scb", sha))
        frames.append(population_rows(table, doc, f"raw store scb/{sha[:12]}", sha,
                                      row.get("fetched_at")))
    return frames


def tables_changed(client: ScbClient, tables: Sequence[PopulationTable],
                   previous: dict[str, dict]) -> dict[str, str | None]:
    """Tables whose `updated` stamp differs from the previous build's, or whose stored answers
    are lost (pages None): table -> stamp now. A table that had none of the build's years
    (pages "", SCB not yet so far) waits for its stamp to change, not every night."""
    changed = {}
    for table in tables:
        stamp = client.table_updated(table.table)
        before = previous.get(table.table)
        if before is None or before.get("pages") is None or before.get("updated") != stamp:
            changed[table.table] = stamp
    return changed


def refresh_population(client: ScbClient | None, store: RawStore,
                       tables: Sequence[PopulationTable], years: Sequence[int],
                       kommun_codes: Sequence[str], ages: AgeBand,
                       previous: Sequence[dict] | None, mode: str, now: str) -> PopulationRefresh:
    prev = {row["table_id"]: dict(row) for row in previous or []}
    used = [t for t in tables if any(t.covers(y) for y in years)]
    if mode != REPLAY and client is not None:
        for row in prev.values():
            if not all(store.has("scb", sha) for sha in split_pages(row.get("pages"))):
                row["pages"] = None
    frames, rows = [], []
    max_cells: int | None = None
    stamps: dict[str, str | None] = {}
    if mode == INCREMENTAL and client is not None and prev:
        stamps = tables_changed(client, used, prev)
    for table in used:
        before = prev.get(table.table)
        if mode == REPLAY or client is None:
            if before is None:
                continue
            frames.extend(_stored(store, table, before))
            rows.append({k: before.get(k) for k in SCB_VINTAGE_SCHEMA})
            continue
        if mode == INCREMENTAL and before is not None and table.table not in stamps:
            frames.extend(_stored(store, table, before))
            rows.append(before | {"state": "kept", "problem": None, "message": None,
                                  "checked_at": now})
            continue
        try:
            if max_cells is None:
                max_cells = client.limits()
            docs = fetch_table(client, table, years, kommun_codes, ages, max_cells)
        except ApiError as err:
            if before is None or not split_pages(before.get("pages")):
                raise
            frames.extend(_stored(store, table, before))
            rows.append(before | {"state": "stale", "problem": "fetch_failed", "checked_at": now,
                                  "message": f"SCB-tabellen {table.table} kunde inte hämtas: {err} "
                                             f"Befolkningen från förra publiceringen används."})
            continue
        shas = [record.sha256 for _, record, _ in docs if record]
        fetched = max((record.fetched_at for _, record, _ in docs if record), default=now)
        for doc, record, label in docs:
            frames.append(population_rows(table, doc, label, record.sha256 if record else None,
                                          fetched))
        updated = stamps.get(table.table) or next(
            (str(doc["updated"]) for doc, _, _ in docs if doc.get("updated")), None)
        if updated is None:  # none of the years yet: the table's own stamp (else the next
            try:             # night would take the stamp it sees for an update)
                updated = client.table_updated(table.table)
            except ApiError:
                pass
        rows.append({"table_id": table.table, "state": "fresh", "problem": None, "message": None,
                     "updated": updated, "pages": ",".join(shas), "fetched_at": fetched,
                     "checked_at": now})
    vintage = pl.DataFrame(rows, schema=SCB_VINTAGE_SCHEMA).sort("table_id")
    return PopulationRefresh(population_frame(frames), vintage)
