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

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import polars as pl

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


@dataclass
class Page:
    values: list
    record: RawRecord | None
    label: str


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
            doc, record, label = self.fetcher.get_json(url, params=params)
            if not isinstance(doc, dict) or not isinstance(doc.get("values"), list):
                keys = sorted(doc) if isinstance(doc, dict) else type(doc).__name__
                raise MalformedResponse(
                    f"kolada: {label}: expected an object with a 'values' list, got {keys}",
                    "svaret saknade Koladas lista med värden")
            yield Page(doc["values"], record, label)
            next_url = doc.get("next_url") or doc.get("next_page")
            if not doc["values"] or not next_url:
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
