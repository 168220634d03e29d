"""SCB PxWebApi 2.0 client, json-stat2 decoder and the population fetch.

Wire format (research/data-sources.md §2.2–2.4): GET /config gives the cell limit and call
budget; GET /tables/{id}/metadata describes the variables in json-stat2; POST
/tables/{id}/data with `{"selection": [{"variableCode", "valueCodes"}]}` answers json-stat2
whose `value` array is row-major over `id` (last dimension fastest). Positions come from
`category.index`, never from JSON key order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import polars as pl

from sources.catalog import AgeBand, PopulationTable
from sources.http import Fetcher
from sources.raw_store import RawRecord
from sources.kolada import MalformedResponse

POPULATION_SCHEMA = {
    "table_id": pl.String,
    "region": pl.String,
    "age_code": pl.String,
    "sex_code": pl.String,
    "year": pl.Int32,
    "population": pl.Float64,
    "perturbed": pl.Boolean,
    "response_sha256": pl.String,
    "fetched_at": pl.String,
}


def category_codes(doc: dict, dim: str, label: str) -> list[str]:
    """Codes of one dimension in index order."""
    try:
        index = doc["dimension"][dim]["category"]["index"]
    except (KeyError, TypeError):
        raise MalformedResponse(f"scb: {label}: dimension {dim!r} has no category.index") from None
    if isinstance(index, list):
        return [str(c) for c in index]
    if not isinstance(index, dict):
        raise MalformedResponse(f"scb: {label}: dimension {dim!r}: bad category.index")
    ordered = sorted(index.items(), key=lambda kv: kv[1])
    if [pos for _, pos in ordered] != list(range(len(ordered))):
        raise MalformedResponse(f"scb: {label}: dimension {dim!r}: index positions have gaps")
    return [str(code) for code, _ in ordered]


def decode_jsonstat2(doc: dict, label: str) -> pl.DataFrame:
    """A json-stat2 dataset as a long frame: one column per dimension plus `value`, `status`."""
    if not isinstance(doc, dict) or doc.get("class") != "dataset":
        raise MalformedResponse(f"scb: {label}: not a json-stat2 dataset")
    try:
        ids, sizes = list(doc["id"]), [int(s) for s in doc["size"]]
    except (KeyError, TypeError, ValueError):
        raise MalformedResponse(f"scb: {label}: missing or bad 'id'/'size'") from None
    if len(ids) != len(sizes):
        raise MalformedResponse(f"scb: {label}: 'id' and 'size' differ in length")
    codes = [category_codes(doc, dim, label) for dim in ids]
    for dim, dim_codes, size in zip(ids, codes, sizes, strict=True):
        if len(dim_codes) != size:
            raise MalformedResponse(
                f"scb: {label}: dimension {dim!r} has {len(dim_codes)} codes, size says {size}"
            )
    total = math.prod(sizes)
    raw_values = doc.get("value")
    if isinstance(raw_values, dict):  # sparse form: {"position": value}
        dense: list = [None] * total
        for pos, v in raw_values.items():
            dense[int(pos)] = v
        raw_values = dense
    if not isinstance(raw_values, list) or len(raw_values) != total:
        got = len(raw_values) if isinstance(raw_values, list) else type(raw_values).__name__
        raise MalformedResponse(f"scb: {label}: expected {total} values, got {got}")
    kinds = set(map(type, raw_values))  # one pass; positions only when something is off
    if not kinds <= {int, float, type(None)}:
        pos, v = next((i, v) for i, v in enumerate(raw_values) if type(v) not in (int, float, type(None)))
        raise MalformedResponse(f"scb: {label}: value[{pos}] is not a number: {v!r}")
    status = doc.get("status") or {}
    if isinstance(status, list):
        status = {i: s for i, s in enumerate(status) if s}
    status_col = [None] * total
    for pos, symbol in dict(status).items():
        status_col[int(pos)] = str(symbol)

    columns: dict[str, np.ndarray] = {}
    repeat = total
    tile = 1
    for dim, dim_codes, size in zip(ids, codes, sizes, strict=True):
        repeat //= size
        columns[dim] = np.tile(np.repeat(np.array(dim_codes, dtype=object), repeat), tile)
        tile *= size
    frame = pl.DataFrame({dim: pl.Series(dim, col, dtype=pl.String) for dim, col in columns.items()})
    return frame.with_columns(
        value=pl.Series(raw_values, dtype=pl.Float64),
        status=pl.Series(status_col, dtype=pl.String),
    )


def cell_count(selection: dict[str, Sequence[str]]) -> int:
    return math.prod(len(v) for v in selection.values())


def split_selection(selection: dict[str, list[str]], max_cells: int,
                    order: Sequence[str] = ("Region", "Tid", "Alder")) -> list[dict[str, list[str]]]:
    """Split a selection into parts of at most `max_cells` cells, cutting the largest of `order`."""
    if cell_count(selection) <= max_cells:
        return [selection]
    candidates = [d for d in order if d in selection and len(selection[d]) > 1]
    if not candidates:
        raise ValueError(f"cannot split selection of {cell_count(selection)} cells under {max_cells}")
    dim = max(candidates, key=lambda d: len(selection[d]))
    others = cell_count(selection) // len(selection[dim])
    per_part = max(1, max_cells // others)
    parts = []
    for start in range(0, len(selection[dim]), per_part):
        part = {**selection, dim: selection[dim][start:start + per_part]}
        parts.extend(split_selection(part, max_cells, order))
    return parts


class ScbClient:
    def __init__(self, fetcher: Fetcher, base_url: str, *, lang: str = "sv"):
        self.fetcher = fetcher
        self.base_url = base_url.rstrip("/")
        self.lang = lang

    def config(self) -> dict:
        doc, _, label = self.fetcher.get_json(f"{self.base_url}/config")
        if not isinstance(doc, dict) or "maxDataCells" not in doc:
            raise MalformedResponse(f"scb: {label}: no 'maxDataCells' in /config")
        return doc

    def metadata(self, table: str) -> dict:
        doc, _, label = self.fetcher.get_json(
            f"{self.base_url}/tables/{table}/metadata", params={"lang": self.lang}
        )
        if not isinstance(doc, dict) or "dimension" not in doc:
            raise MalformedResponse(f"scb: {label}: metadata without 'dimension'")
        return doc

    def table_updated(self, table: str) -> str | None:
        """The table's `updated` stamp (GET /tables/{id}): it moves when SCB publishes."""
        doc, _, label = self.fetcher.get_json(f"{self.base_url}/tables/{table}",
                                              params={"lang": self.lang})
        if not isinstance(doc, dict):
            raise MalformedResponse(f"scb: {label}: expected a table description")
        updated = doc.get("updated")
        return str(updated) if updated is not None else None

    def data_docs(self, table: str, selection: dict[str, list[str]],
                  max_cells: int) -> list[tuple[dict, RawRecord | None, str]]:
        """Fetch a selection, split under the cell limit: (json-stat2 document, record, label)."""
        out = []
        for part in split_selection(selection, max_cells):
            body = {"selection": [{"variableCode": k, "valueCodes": v} for k, v in part.items()]}
            out.append(self.fetcher.get_json(
                f"{self.base_url}/tables/{table}/data",
                params={"lang": self.lang, "outputFormat": "json-stat2"},
                json_body=body, method="POST",
            ))
        return out

    def data(self, table: str, selection: dict[str, list[str]], max_cells: int) -> list[tuple[pl.DataFrame, object]]:
        """Fetch and decode a selection, split under the cell limit. Returns (frame, record) pairs."""
        return [(decode_jsonstat2(doc, label), record)
                for doc, record, label in self.data_docs(table, selection, max_cells)]

    def limits(self) -> int:
        """Read /config: keep to its call budget; returns the cell limit per call."""
        config = self.config()
        calls, window = config.get("maxCallsPerTimeWindow"), config.get("timeWindow")
        limiter = self.fetcher.limiter
        if limiter and isinstance(calls, int) and isinstance(window, (int, float)) and calls > 0:
            limiter.max_calls = min(limiter.max_calls, calls)
            limiter.period = max(limiter.period, float(window))
        return int(config["maxDataCells"])


def fetch_table(client: ScbClient, table: PopulationTable, years: Sequence[int],
                kommun_codes: Sequence[str], ages: AgeBand,
                max_cells: int) -> list[tuple[dict, RawRecord | None, str]]:
    """The json-stat2 answers with one population table's years (none if it has none of
    them yet). Variables outside region/age/sex/contents/time are selected as configured."""
    wanted = [y for y in years if table.covers(y)]
    if not wanted:
        return []
    meta = client.metadata(table.table)
    label = f"scb metadata {table.table}"
    dims = meta["dimension"]
    available = {
        "Region": set(category_codes(meta, "Region", label)),
        "Alder": set(category_codes(meta, "Alder", label)),
        "Tid": set(category_codes(meta, "Tid", label)),
    }
    age_codes = age_selection(table, ages)
    missing_ages = [a for a in age_codes if a not in available["Alder"]]
    if missing_ages:
        raise MalformedResponse(f"scb: {table.table}: age codes not in metadata: {missing_ages}")
    missing_regions = [r for r in kommun_codes if r not in available["Region"]]
    if missing_regions:
        raise MalformedResponse(
            f"scb: {table.table}: kommun codes not in metadata: {missing_regions[:10]}"
        )
    year_codes = [str(y) for y in wanted if str(y) in available["Tid"]]
    if not year_codes:
        return []
    selection = {
        "Region": list(kommun_codes),
        "Alder": age_codes,
        "Kon": ["1", "2"],
        "ContentsCode": [table.contents],
        "Tid": year_codes,
        **{k: list(v) for k, v in table.other.items()},
    }
    for dim, spec in dims.items():
        elimination = (spec.get("extension") or {}).get("elimination", True)
        if dim not in selection and not elimination:
            raise MalformedResponse(
                f"scb: {table.table}: variable {dim!r} cannot be eliminated; "
                f"configure its codes under 'other' in sources.yaml"
            )
    return client.data_docs(table.table, selection, max_cells)


def age_selection(table: PopulationTable, ages: AgeBand) -> list[str]:
    return [str(a) for a in range(ages.from_age, ages.to_age + 1)] + [table.total_age]


def population_rows(table: PopulationTable, doc: dict, label: str, sha: str | None,
                    fetched_at: str | None) -> pl.DataFrame:
    """One json-stat2 answer as population rows: civil status (and other variables) summed."""
    frame = decode_jsonstat2(doc, label)
    return (
        frame.group_by("Region", "Alder", "Kon", "Tid")
        .agg(population=pl.col("value").sum(), n_null=pl.col("value").null_count())
        .select(
            table_id=pl.lit(table.table),
            region="Region",
            age_code="Alder",
            sex_code="Kon",
            year=pl.col("Tid").cast(pl.Int32),
            population=pl.when(pl.col("n_null") == 0).then("population"),
            perturbed=pl.lit(table.perturbed),
            response_sha256=pl.lit(sha, dtype=pl.String),
            fetched_at=pl.lit(fetched_at, dtype=pl.String),
        )
    )


def population_frame(frames: list[pl.DataFrame]) -> pl.DataFrame:
    if not frames:
        return pl.DataFrame(schema=POPULATION_SCHEMA)
    return pl.concat(frames).cast(POPULATION_SCHEMA).sort("year", "region", "age_code", "sex_code")


def fetch_population(client: ScbClient, tables: Sequence[PopulationTable], years: Sequence[int],
                     kommun_codes: Sequence[str], ages: AgeBand) -> pl.DataFrame:
    """Population 31 Dec by kommun, single-year age (plus the all-ages total) and sex.

    Each year is taken from the table that covers it; years a table does not (yet) have are
    skipped.
    """
    max_cells = client.limits()
    frames = []
    for table in tables:
        for doc, record, label in fetch_table(client, table, years, kommun_codes, ages, max_cells):
            frames.append(population_rows(table, doc, label, record.sha256 if record else None,
                                          record.fetched_at if record else None))
    return population_frame(frames)
