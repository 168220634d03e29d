"""Kolada API v3 client and parsers.

Wire format (research/data-sources.md §1): GET /kpi/{ids} and
/data/kpi/{ids}/year/{years} return `{"values": [...], "count": n, "next_url": ...}`;
at most 25 ids per path segment and 5000 rows per page. A data object is one
kpi × municipality × period with up to three gender values (T, K, M), each with
`count`, `status` ("" or e.g. "Privacy") and `value` (null when suppressed). With
`from_date=YYYY-MM-DD` a data route answers only what changed on or after that date.

Parsing comes in two strictnesses: `parse_values` stops at the first bad object (for a
single request), `parse_values_by_kpi` keeps going and files each problem under the KPI of
the object it was found in, so one broken series does not cost the others.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import orjson
import polars as pl
import pyarrow as pa
import pyarrow.json as pa_json

from sources.http import ApiError, Fetcher
from sources.raw_store import RawRecord

MAX_PAGES = 10_000

KPI_SCHEMA = {
    "kpi_id": pl.String,
    "title": pl.String,
    "description": pl.String,
    "is_divided_by_gender": pl.Boolean,
    "municipality_type": pl.String,
    "operating_area": pl.String,
    "publication_date": pl.String,
    "response_sha256": pl.String,
}

VALUE_SCHEMA = {
    "kpi": pl.String,
    "municipality": pl.String,
    "period": pl.Int32,
    "gender": pl.String,
    "count": pl.Int32,
    "status": pl.String,
    "value": pl.Float64,
    "isdeleted": pl.Boolean,
    "response_sha256": pl.String,
    "fetched_at": pl.String,
}


class MalformedResponse(ApiError):
    """A response parsed as JSON but is not in the expected Kolada/SCB shape. The message
    names the request and place (for the log); `reason` says what is wrong in Swedish,
    without addresses (for meta.data_quality and the site)."""

    def __init__(self, message: str, reason: str = "svaret hade inte den form källan brukar ge"):
        super().__init__(message)
        self.reason = reason


def chunked(items: Sequence, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


class Page:
    """One answer page: its objects and, where the page is regular (read_page), its rows
    already in columns; the objects are then decoded only if someone asks for them."""

    def __init__(self, values: list | None, record: RawRecord | None, label: str, *,
                 body: bytes | None = None, rows: pl.DataFrame | None = None):
        self._values, self.record, self.label, self.body, self.rows = values, record, label, body, rows

    @property
    def values(self) -> list:
        if self._values is None:
            self._values = orjson.loads(self.body)["values"]
        return self._values


# A regular data page: Arrow's JSON reader infers each field's type over the whole page and
# refuses a field whose type changes, so the types below mean every value had that type.
_OBJECT_TYPES = {"kpi": {pl.String}, "municipality": {pl.String}, "period": {pl.Int64}}
_ENTRY_TYPES = {"gender": {pl.String}, "count": {pl.Int64, pl.Null}, "status": {pl.String, pl.Null},
                "value": {pl.Float64, pl.Int64, pl.Null}, "isdeleted": {pl.Boolean, pl.Null}}
_VALUE_KEY = re.compile(rb'"value"\s*:')


def _fields(dtype: pl.DataType | None) -> dict[str, pl.DataType]:
    if isinstance(dtype, pl.List) and isinstance(dtype.inner, pl.Struct):
        return {f.name: f.dtype for f in dtype.inner.fields}
    return {}


def _regular_rows(body: bytes) -> tuple[pl.DataFrame, str | None] | None:
    """The page's rows in the careful parser's order (grouped by KPI in order of first
    appearance, then as on the page) and the next page's address, or None unless every
    object and entry has the fields the careful parser reads, of its types."""
    try:
        doc = pl.from_arrow(pa_json.read_json(io.BytesIO(body), read_options=pa_json.ReadOptions(
            block_size=len(body) + 1)))
    except (pa.ArrowException, ValueError):  # not one JSON object, or a field's type changes
        return None
    objects = _fields(doc.schema.get("values"))
    entries = _fields(objects.get("values"))
    if doc.height != 1 or "is_deleted" in entries or "gender" not in entries \
            or any(objects.get(k) not in t for k, t in _OBJECT_TYPES.items()) \
            or any(entries.get(k, pl.Null) not in t for k, t in _ENTRY_TYPES.items()):
        return None  # also Kolada v2's "is_deleted", which the careful parser reads
    flat = doc.select(pl.col("values").explode()).unnest("values").rename({"values": "entries"})
    if flat.select(pl.col("entries").list.len().min()).item() in (0, None):
        return None  # no objects, an object without entries, or no list: the careful path says
    rows = flat.explode("entries").unnest("entries")
    if rows.select(pl.any_horizontal(pl.col("kpi", "municipality", "period", "gender").is_null()).any()).item() \
            or not rows["gender"].is_in(list(GENDERS)).all() \
            or len(_VALUE_KEY.findall(body)) != rows.height:  # a missing "value" is not a null one
        return None

    def column(name: str, dtype: pl.DataType, missing: object) -> pl.Expr:
        if name not in rows.columns:
            return pl.lit(missing, dtype).alias(name)
        present = pl.col(name).cast(dtype)
        return present if missing is None else present.fill_null(missing)

    rows = (rows.with_row_index("_at")
            .with_columns(_first=pl.col("_at").min().over("kpi"))
            .sort("_first", "_at")
            .select("kpi", "municipality", pl.col("period").cast(pl.Int32), "gender",
                    column("count", pl.Int32, None), column("status", pl.String, ""),
                    column("value", pl.Float64, None), column("isdeleted", pl.Boolean, False)))
    links = [doc[c][0] for c in ("next_url", "next_page") if doc.schema.get(c) == pl.String]
    return rows, next(filter(None, links), None)


def read_page(body: bytes, record: RawRecord | None, label: str,
              decode: Callable[[bytes, str], Any]) -> tuple[Page, str | None]:
    """A data page and its next page's address. A regular page is read into columns by
    Arrow's JSON reader (six times faster than objects in Python: a large catalogue has
    millions of values); anything else is decoded and left to the careful parser, which
    names what is wrong."""
    regular = _regular_rows(body)
    if regular is not None:
        return Page(None, record, label, body=body, rows=regular[0]), regular[1]
    value = decode(body, label)
    if not isinstance(value, dict) or not isinstance(value.get("values"), list):
        keys = sorted(value) if isinstance(value, dict) else type(value).__name__
        raise MalformedResponse(f"kolada: {label}: expected an object with a 'values' list, got {keys}",
                                "svaret saknade Koladas lista med värden")
    return Page(value["values"], record, label), value.get("next_url") or value.get("next_page")


class KoladaClient:
    def __init__(self, fetcher: Fetcher, base_url: str, *, per_page: int = 5000,
                 max_ids: int = 25):
        self.fetcher = fetcher
        self.base_url = base_url.rstrip("/")
        self.per_page = per_page
        self.max_ids = max_ids

    def pages(self, path: str, extra: dict | None = None) -> Iterator[Page]:
        """Follow `next_url` (v3) or `next_page` (v2 spelling) until an empty page."""
        url: str | None = f"{self.base_url}{path}"
        params: dict | None = {"per_page": self.per_page, **(extra or {})}
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            body, record, label = self.fetcher.get(url, params=params)
            page, next_url = read_page(body, record, label, self.fetcher.decode)
            yield page
            if (page.rows is None and not page.values) or not next_url:
                return
            if next_url in seen:
                raise MalformedResponse(f"kolada: {label}: pagination loops back to {next_url}",
                                        "svarets sidor hänvisade tillbaka till en tidigare sida")
            seen.add(next_url)
            url, params = next_url, None
        raise MalformedResponse(f"kolada: {path}: more than {MAX_PAGES} pages",
                                f"svaret hade fler än {MAX_PAGES} sidor")

    def kpis(self, ids: Sequence[str]) -> pl.DataFrame:
        rows: list[dict] = []
        for chunk in chunked(sorted(set(ids)), self.max_ids):
            for page in self.pages(f"/kpi/{','.join(chunk)}"):
                rows.extend(parse_kpis(page))
        return pl.DataFrame(rows, schema=KPI_SCHEMA).unique("kpi_id", keep="first").sort("kpi_id")

    def value_pages(self, kpi_ids: Sequence[str], years: Sequence[int],
                    since: str | None = None) -> Iterator[Page]:
        """Every data page for these KPIs and years (only changes on or after `since`)."""
        extra = {"from_date": since} if since else None
        for kpi_chunk in chunked(sorted(set(kpi_ids)), self.max_ids):
            for year_chunk in chunked(sorted(set(years)), self.max_ids):
                path = (f"/data/kpi/{','.join(kpi_chunk)}"
                        f"/year/{','.join(str(y) for y in year_chunk)}")
                yield from self.pages(path, extra)

    def values(self, kpi_ids: Sequence[str], years: Sequence[int],
               known_areas: set[str] | None = None) -> pl.DataFrame:
        rows: list[tuple] = []
        for page in self.value_pages(kpi_ids, years):
            rows.extend(parse_values(page, known_areas))
        return values_frame(rows)

    def changed(self, kpi_ids: Sequence[str], years: Sequence[int], since: str | None) -> set[str]:
        """The KPIs with any value changed (or deleted) on or after `since` (YYYY-MM-DD);
        without `since`, the KPIs that have any value at all."""
        changed: set[str] = set()
        for page in self.value_pages(kpi_ids, years, since):
            changed.update(obj["kpi"] for _, obj in _objects(page) if isinstance(obj.get("kpi"), str))
        return changed


NOT_AN_OBJECT = "ett värde i svaret hade fel form"
# Kolada's field names in the Swedish reasons.
FIELD_WORDS = {"kpi": "om nyckeltal (kpi)", "municipality": "om område (municipality)",
               "period": "om år (period)", "values": "med värden (values)",
               "gender": "om kön (gender)", "value": "om värde (value)", "id": "om id",
               "title": "om titel (title)"}


def values_frame(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=VALUE_SCHEMA, orient="row")


def _field(obj: dict, key: str, types: type | tuple, where: str, *, nullable: bool = False):
    if key not in obj:
        raise MalformedResponse(f"{where}: missing field '{key}'", f"uppgiften {FIELD_WORDS.get(key, key)} saknades")
    value = obj[key]
    if value is None and nullable:
        return None
    wrong = (isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,))) \
        or not isinstance(value, types)
    if wrong:
        raise MalformedResponse(f"{where}: field '{key}': expected {types}, got {value!r}",
                                f"uppgiften {FIELD_WORDS.get(key, key)} hade fel form ({value!r:.40})")
    return value


def _objects(page: Page) -> Iterator[tuple[str, dict]]:
    """Each object of a page with its location for error messages."""
    for i, obj in enumerate(page.values):
        where = f"kolada: {page.label}: values[{i}]"
        if not isinstance(obj, dict):
            raise MalformedResponse(f"{where}: expected an object, got {obj!r}", NOT_AN_OBJECT)
        yield where, obj


def parse_kpis(page: Page) -> list[dict]:
    sha = page.record.sha256 if page.record else None
    rows = []
    for where, obj in _objects(page):
        rows.append(
            {
                "kpi_id": _field(obj, "id", str, where),
                "title": _field(obj, "title", str, where),
                "description": obj.get("description"),
                "is_divided_by_gender": bool(obj.get("is_divided_by_gender")),
                "municipality_type": obj.get("municipality_type"),
                "operating_area": obj.get("operating_area"),
                "publication_date": obj.get("publication_date"),
                "response_sha256": sha,
            }
        )
    return rows


def parse_values(page: Page, known_areas: set[str] | None = None) -> Iterable[tuple]:
    sha = page.record.sha256 if page.record else None
    fetched_at = page.record.fetched_at if page.record else None
    rows = []
    for where, obj in _objects(page):
        rows.extend(_parse_object(where, obj, known_areas, sha, fetched_at))
    return rows


def parse_values_by_kpi(page: Page, known_areas: set[str] | None = None
                        ) -> tuple[dict[str, list[tuple]], dict[str, str]]:
    """Rows and the first problem per KPI; a problem whose KPI cannot be told is filed
    under "" (it concerns the whole page)."""
    sha = page.record.sha256 if page.record else None
    fetched_at = page.record.fetched_at if page.record else None
    rows: dict[str, list[tuple]] = {}
    problems: dict[str, str] = {}
    for i, obj in enumerate(page.values):
        where = f"kolada: {page.label}: values[{i}]"
        kpi = obj.get("kpi") if isinstance(obj, dict) else None
        key = kpi if isinstance(kpi, str) else ""
        try:
            if not isinstance(obj, dict):
                raise MalformedResponse(f"{where}: expected an object, got {obj!r}", NOT_AN_OBJECT)
            parsed = _parse_object(where, obj, known_areas, sha, fetched_at)
        except MalformedResponse as err:
            problems.setdefault(key, err)
            continue
        rows.setdefault(key, []).extend(parsed)
    return rows, problems


GENDERS = frozenset(("T", "K", "M"))


class _Irregular(Exception):
    """An object the fast path does not take: the careful path names what is wrong."""


def _parse_regular(obj: dict, known_areas: set[str] | None, sha: str | None,
                   fetched_at: str | None) -> list[tuple]:
    """The common, well-formed object in one pass (the careful path is ten times slower)."""
    kpi, municipality, period, values = obj["kpi"], obj["municipality"], obj["period"], obj["values"]
    if (type(kpi) is not str or type(municipality) is not str or type(period) is not int
            or type(values) is not list or (known_areas is not None and municipality not in known_areas)):
        raise _Irregular
    rows = []
    for entry in values:
        gender, value, status = entry["gender"], entry["value"], entry.get("status") or ""
        if gender not in GENDERS or type(status) is not str or (
                value is not None and type(value) is not float and type(value) is not int):
            raise _Irregular
        count = entry.get("count")
        rows.append((kpi, municipality, period, gender, count if type(count) is int else None, status,
                     None if value is None else float(value),
                     bool(entry.get("isdeleted", entry.get("is_deleted", False))), sha, fetched_at))
    return rows


def _parse_object(where: str, obj: dict, known_areas: set[str] | None, sha: str | None,
                  fetched_at: str | None) -> list[tuple]:
    try:
        return _parse_regular(obj, known_areas, sha, fetched_at)
    except (_Irregular, KeyError, TypeError, AttributeError):
        pass
    rows = []
    kpi = _field(obj, "kpi", str, where)
    municipality = _field(obj, "municipality", str, where)
    if known_areas is not None and municipality not in known_areas:
        raise MalformedResponse(
            f"{where}: unknown municipality code {municipality!r} (kpi {kpi})",
            f"okänd kommunkod {municipality}")
    period = _field(obj, "period", (int, str), where)
    try:
        period = int(period)
    except ValueError:
        raise MalformedResponse(f"{where}: field 'period': not a year: {period!r}",
                                f"året {period!r:.20} är inte ett årtal") from None
    values = _field(obj, "values", list, where)
    for j, entry in enumerate(values):
        at = f"{where}.values[{j}]"
        if not isinstance(entry, dict):
            raise MalformedResponse(f"{at}: expected an object, got {entry!r}", NOT_AN_OBJECT)
        gender = _field(entry, "gender", str, at)
        if gender not in ("T", "K", "M"):
            raise MalformedResponse(f"{at}: field 'gender': unknown code {gender!r}",
                                    f"okänd kod för kön ({gender!r:.20})")
        value = _field(entry, "value", (int, float), at, nullable=True)
        count = entry.get("count")
        status = entry.get("status") or ""
        if not isinstance(status, str):
            raise MalformedResponse(f"{at}: field 'status': expected text, got {status!r}",
                                    "statusen var inte en text")
        deleted = entry.get("isdeleted", entry.get("is_deleted", False))
        rows.append((kpi, municipality, period, gender,
                     count if isinstance(count, int) else None, status,
                     None if value is None else float(value), bool(deleted), sha, fetched_at))
    return rows
