"""One Kolada refresh: what to fetch, what to accept, and what to keep from the last build.

Every KPI is judged on its own, so one bad series never stops the others:

* `unknown_id`   – Kolada does not know the id (retired or mistyped);
* `no_data`      – Kolada knows it but returns no values for the years asked;
* `bad_response` – its answer cannot be read (the others in the same request are re-asked
  one by one, so only the broken series is lost);
* `fetch_failed` – the request kept failing (HTTP errors after retries);
* `failed_check` – its values break the raw table's rules or cannot be of its type;
* `drift`        – a level shift against the previously published vintage;
* `unit_changed` – the unit at the end of Kolada's title changed.

A KPI with a problem keeps the values of the last published build, marked stale (`blocked`
for drift and unit changes), or is `unavailable` when it has none. A host that cannot be
reached at all stops the refresh (`SourceUnavailable`): nothing can be judged then.

Modes: `full` fetches every KPI; `incremental` asks Kolada what changed (`from_date` on the
data routes, the KPI list's metadata) and fetches only those, keeping the rest; `replay`
fetches nothing and reads the previous build's responses from the raw store.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import orjson
import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sources.catalog import CatalogError, read_yaml
from sources.http import ApiError, SourceUnavailable
from sources.kolada import (KPI_SCHEMA, KoladaClient, MalformedResponse, Page, chunked,
                            parse_kpis, parse_values_by_kpi, read_page, values_frame)
from sources.raw_store import RawStore
from transforms.vintage import level_shift, out_of_range, swedish_number, title_unit

FULL, INCREMENTAL, REPLAY = "full", "incremental", "replay"
# Problems worth asking again on a night without news: the answer may simply come through.
TRANSIENT = {"bad_response", "fetch_failed"}

VINTAGE_SCHEMA = {
    "kpi_id": pl.String,
    "indicator_ids": pl.String,
    "peer_variable": pl.Boolean,
    "state": pl.String,
    "problem": pl.String,
    "message": pl.String,
    "pages": pl.String,
    "meta_page": pl.String,
    "meta_hash": pl.String,
    "title": pl.String,
    "unit": pl.String,
    "publication_date": pl.String,
    "fetched_at": pl.String,
    "checked_at": pl.String,
}


@dataclass(frozen=True)
class Use:
    """Why a KPI is fetched: the catalogue indicators built on it, and the peer groups."""

    indicator_ids: tuple[str, ...] = ()
    peer_variable: bool = False
    value_type: str | None = None


@dataclass
class KoladaRefresh:
    kpis: pl.DataFrame      # raw.kolada_kpi
    values: pl.DataFrame    # raw.kolada_value: accepted values, kept ones included
    vintage: pl.DataFrame   # meta.kolada_vintage: one row per KPI, VINTAGE_SCHEMA
    fetched: int = 0        # KPIs whose data were asked for in this refresh
    details: dict[str, str] = field(default_factory=dict)  # KPI -> the error as the log needs it

    @property
    def problems(self) -> pl.DataFrame:
        return self.vintage.filter(pl.col("problem").is_not_null())

    @property
    def nothing_new(self) -> bool:
        """KPIs were asked for and none could be taken in."""
        return self.fetched > 0 and not (self.vintage["state"] == "fresh").any()


@dataclass
class Plan:
    """What an incremental refresh fetches, and why."""

    metadata: pl.DataFrame
    refetch: set[str]
    reasons: dict[str, str] = field(default_factory=dict)
    metadata_changed: set[str] = field(default_factory=set)

    @property
    def anything(self) -> bool:
        return bool(self.refetch or self.metadata_changed)


class Acceptance(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kpi: str = Field(pattern=r"^[NU]\d{5}$")
    accepted_on: date
    reason: str = Field(min_length=3)


def load_acceptances(path: Path) -> dict[str, str]:
    """Level shifts and unit changes a person has checked and accepted: KPI -> date.

    A missing file accepts nothing. Each entry lets the next fetch of that KPI through once
    (the vintage it is compared with was fetched on or before `accepted_on`)."""
    if not path.exists():
        return {}
    try:
        doc = read_yaml(path.read_text(encoding="utf-8")) or {}
        entries = [Acceptance.model_validate(e) for e in doc.get("accepted") or []]
    except (ValidationError, yaml.YAMLError, AttributeError, TypeError) as err:
        raise CatalogError(f"{path}: {err}") from err
    return {e.kpi: e.accepted_on.isoformat() for e in entries}


class _Stored:
    """Stands in for a raw record when a page is read back from the store."""

    def __init__(self, sha256: str):
        self.sha256, self.fetched_at = sha256, None


@dataclass
class ParsedPage:
    rows: pl.DataFrame | None     # every readable row of the page (raw.kolada_value columns);
                                  # None once handed on (PageCache.take)
    problems: dict[str, MalformedResponse]  # KPI ("" for the page) -> first problem
    kpis: frozenset[str]          # KPIs with rows or problems on the page


class PageCache:
    """Parsed data pages by hash, fetched now or read back from the raw store; kept as
    compact frames (a catalogue of hundreds of KPIs has millions of rows)."""

    def __init__(self, store: RawStore, known_areas: set[str] | None):
        self.store, self.known_areas = store, known_areas
        self._parsed: dict[str, ParsedPage] = {}
        self.fetched_at: dict[str, str | None] = {}

    def _parse(self, page: Page) -> ParsedPage:
        if page.rows is not None and (self.known_areas is None
                                      or page.rows["municipality"].is_in(list(self.known_areas)).all()):
            frame = page.rows.with_columns(
                response_sha256=pl.lit(page.record.sha256 if page.record else None, pl.String),
                fetched_at=pl.lit(page.record.fetched_at if page.record else None, pl.String))
            return ParsedPage(frame, {}, frozenset(frame["kpi"].unique()))
        rows, problems = parse_values_by_kpi(page, self.known_areas)
        frame = values_frame([row for kpi_rows in rows.values() for row in kpi_rows])
        return ParsedPage(frame, problems, frozenset(rows) | frozenset(problems))

    def add(self, page: Page) -> str:
        sha = page.record.sha256 if page.record else hashlib.sha256(
            json.dumps(page.values).encode()).hexdigest()
        if sha not in self._parsed:
            self._parsed[sha] = self._parse(page)
        self.fetched_at[sha] = page.record.fetched_at if page.record else None
        return sha

    def _load(self, sha: str) -> ParsedPage:
        page, _ = read_page(self.store.load("kolada", sha), _Stored(sha), f"raw store kolada/{sha[:12]}",
                            lambda body, _: orjson.loads(body))
        return self._parse(page)

    def get(self, sha: str) -> ParsedPage:
        if sha not in self._parsed:
            self._parsed[sha] = self._load(sha)
        return self._parsed[sha]

    def _rows_of(self, sha: str) -> pl.DataFrame:
        rows = self.get(sha).rows
        return self._load(sha).rows if rows is None else rows

    def rows(self, kpi: str, shas: Iterable[str]) -> pl.DataFrame:
        frames = [self._rows_of(sha).filter(pl.col("kpi") == kpi) for sha in shas]
        return pl.concat(frames) if frames else values_frame([])

    def take(self, kpis_on_page: dict[str, list[str]]) -> pl.DataFrame:
        """The rows of these KPIs on these pages, which the cache then lets go of (a large
        catalogue's pages weigh as much as the values themselves; a later `rows` reads a page
        back from the store)."""
        frames = []
        for sha, kpis in sorted(kpis_on_page.items()):
            frames.append(self._rows_of(sha).filter(pl.col("kpi").is_in(kpis)))
            self._parsed[sha].rows = None
        return pl.concat(frames, rechunk=False) if frames else values_frame([])


def meta_hash(row: dict) -> str:
    fields = {k: v for k, v in row.items() if k != "response_sha256"}
    return hashlib.sha256(json.dumps(fields, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def split_pages(text: str | None) -> list[str]:
    return [p for p in (text or "").split(",") if p]


def previous_rows(previous: Sequence[dict] | None) -> dict[str, dict]:
    return {row["kpi_id"]: dict(row) for row in previous or []}


def since_date(previous: dict[str, dict]) -> str | None:
    """The date everything was last checked through (Kolada's `from_date`)."""
    dates = [row["checked_at"][:10] for row in previous.values() if row.get("checked_at")]
    return min(dates) if dates else None


def no_data_yet(row: dict | None) -> bool:
    """A KPI Kolada knows but has never given values for (asked again on a slower cadence)."""
    return bool(row) and row.get("state") == "unavailable" and row.get("problem") == "no_data"


def plan_incremental(client: KoladaClient, previous: dict[str, dict], wanted: Sequence[str],
                     years: Sequence[int], refetch: Collection[str] = ()) -> Plan:
    """Ask Kolada what changed since the last published build (a handful of requests).

    A KPI that had no values is not fetched again every night: it is part of the nightly
    question what changed since the last check (values arriving are a change), and is asked
    in full only when listed in `refetch` (the probe's weekly look, or a full build)."""
    metadata = client.kpis(wanted)
    now_meta = {row["kpi_id"]: row for row in metadata.iter_rows(named=True)}
    known = set(now_meta)
    now_hash = {kpi: meta_hash(row) for kpi, row in now_meta.items()}
    plan = Plan(metadata, set())
    for kpi in wanted:
        prev = previous.get(kpi)
        if prev is None or (kpi in known) != (prev.get("meta_hash") is not None) \
                or (kpi in known and now_hash[kpi] != prev.get("meta_hash")):
            plan.metadata_changed.add(kpi)
    since = since_date(previous)
    candidates = sorted(k for k in known if k in previous
                        and (split_pages(previous[k]["pages"]) or no_data_yet(previous[k])))
    changed = client.changed(candidates, years, since) if since and candidates else set()
    for kpi in sorted(known):
        prev = previous.get(kpi)
        if no_data_yet(prev):
            if kpi in changed:
                plan.reasons[kpi] = f"har fått värden hos Kolada sedan {since}"
            elif kpi in refetch:
                plan.reasons[kpi] = "hade inga värden; frågas igen"
        elif prev is None or not split_pages(prev["pages"]):
            plan.reasons[kpi] = "inga tidigare värden"
        elif prev.get("problem") in TRANSIENT:
            plan.reasons[kpi] = "förra hämtningen misslyckades"
        elif kpi in changed:
            plan.reasons[kpi] = f"ändrat hos Kolada sedan {since}"
        elif (prev.get("publication_date") or None) != (now_meta[kpi]["publication_date"] or None):
            plan.reasons[kpi] = "nytt publiceringsdatum"
        elif prev.get("unit") != title_unit(now_meta[kpi]["title"]):
            plan.reasons[kpi] = "ny enhet i titeln"
    plan.refetch = set(plan.reasons)
    return plan


def plain_reason(err: Exception) -> str:
    """What went wrong, in Swedish and without addresses (the log keeps the full error)."""
    if isinstance(err, MalformedResponse):
        return err.reason
    text = str(err)
    if isinstance(err, SourceUnavailable):
        return "källan gick inte att nå"
    if status := re.search(r"HTTP (\d{3})", text):
        return f"källan svarade med felkoden {status[1]}, också efter flera försök"
    if "not valid JSON" in text:
        return "svaret var inte läsbar JSON"
    if "attempts" in text:
        return "källan svarade inte, inte heller efter flera försök"
    return "hämtningen misslyckades"


def fetch_values(client: KoladaClient, kpis: Sequence[str], years: Sequence[int],
                 cache: PageCache) -> tuple[dict[str, list[str]], dict[str, tuple[str, Exception]]]:
    """Data pages per KPI (by hash), and (problem, error) for KPIs that could not be had.

    A request for up to 25 KPIs that fails, or holds an object whose KPI cannot be told,
    is asked again one KPI at a time: only the broken series is lost.
    """
    pages_of: dict[str, list[str]] = {}
    failures: dict[str, tuple[str, Exception]] = {}

    def ask(batch: list[str]) -> tuple[str, Exception] | None:
        try:
            shas = [cache.add(page) for page in client.value_pages(batch, years)]
        except SourceUnavailable:
            raise
        except MalformedResponse as err:
            return "bad_response", err
        except ApiError as err:
            return "fetch_failed", err
        loose = [cache.get(sha).problems[""] for sha in shas if "" in cache.get(sha).problems]
        if loose:
            return "bad_response", loose[0]
        for kpi in batch:
            pages_of[kpi] = [sha for sha in shas if kpi in cache.get(sha).kpis]
        return None

    for batch in chunked(sorted(kpis), client.max_ids):
        if (problem := ask(batch)) is None:
            continue
        if len(batch) == 1:
            failures[batch[0]] = problem
            continue
        for kpi in batch:
            if (single := ask([kpi])) is not None:
                failures[kpi] = single
    return pages_of, failures


def _message(problem: str, kpi: str, detail: str) -> str:
    return {
        "unknown_id": f"Kolada känner inte till nyckeltalet {kpi} (det kan ha tagits bort eller bytt id).",
        "no_data": f"Kolada gav inga värden för {kpi} {detail}.",
        "bad_response": f"Koladas svar för {kpi} gick inte att läsa: {detail}.",
        "fetch_failed": f"Hämtningen av {kpi} misslyckades: {detail}.",
        "failed_check": f"Koladas värden för {kpi} klarade inte kontrollen: {detail}",
        "drift": f"Nivåskifte i {kpi}: {detail} De nya värdena används inte förrän skiftet har "
                 "granskats och godkänts.",
        "unit_changed": f"Enheten för {kpi} har ändrats hos Kolada: {detail}. De nya värdena "
                        "används inte förrän ändringen har granskats och godkänts.",
    }[problem]


def _kept_note(prev: dict | None) -> str:
    if prev and split_pages(prev.get("pages")):
        when = (prev.get("fetched_at") or "")[:10] or "okänt datum"
        return f" Senast godkända värden (hämtade {when}) visas, markerade som inaktuella."
    return " Det finns inga tidigare värden att visa."


def _accepted(kpi: str, prev: dict | None, acceptances: dict[str, str]) -> bool:
    """An accepted level shift or unit change: the baseline is older than the acceptance."""
    on = acceptances.get(kpi)
    return bool(on and prev and (prev.get("fetched_at") or "")[:10] <= on)


def judge(kpi: str, frame: pl.DataFrame, prev: dict | None, cache: PageCache, unit: str | None,
          use: Use, years: Sequence[int], failure: str | None, acceptances: dict[str, str],
          pages: list[str]) -> tuple[str, str] | None:
    """The problem (code, Swedish detail) with a fetched series (`frame`: its rows), or None
    when it is fine. `failure` is what the raw table's checks said about its rows."""
    if frame.is_empty():
        return "no_data", f"för åren {min(years)}–{max(years)}"
    if failure:
        return "failed_check", failure
    # A catalogue indicator's value outside its plausible range costs nothing here: it is
    # flagged where it shows (a share above 100 % can be real). A KPI read only for other
    # uses (the cost catalogue) is still refused when a value is impossible for its type.
    if use.value_type and not use.indicator_ids:
        bad = out_of_range(frame, use.value_type)
        if bad.height:
            first = bad.row(0, named=True)
            return "failed_check", (f"{bad.height} värden är omöjliga för typen {use.value_type}, "
                                    f"t.ex. {swedish_number(first['value'], 6)} för område "
                                    f"{first['municipality']} år {first['period']}.")
    if prev is None or _accepted(kpi, prev, acceptances):
        return None
    if prev.get("unit") and unit and prev["unit"] != unit:
        return "unit_changed", f"från '{prev['unit']}' till '{unit}'"
    old_pages = split_pages(prev.get("pages"))
    if not old_pages or old_pages == pages:  # no baseline, or the very same responses
        return None
    shift = level_shift(frame, cache.rows(kpi, old_pages))
    if shift.height and shift["shifted"].item():
        s = shift.row(0, named=True)
        return "drift", (f"de nya värdena är i median {swedish_number(s['ratio'])} gånger de förra "
                         f"publicerade för åren {s['first_year']}–{s['last_year']} "
                         f"({s['pairs']} jämförda värden).")
    return None


def refresh_kolada(client: KoladaClient | None, store: RawStore, uses: dict[str, Use],
                   previous: Sequence[dict] | None, mode: str, years: Sequence[int],
                   known_areas: set[str] | None, now: str,
                   validate: Callable[[pl.DataFrame], dict[str, str]],
                   acceptances: dict[str, str] | None = None,
                   refetch: Collection[str] = ()) -> KoladaRefresh:
    """Refresh the KPIs in `uses` against the previous build's vintage rows (`previous`).

    `validate(frame)` checks raw.kolada_value rows once for all KPIs fetched and returns
    KPI -> the first failure of its rows ("" for a failure of the whole frame). `refetch`
    (incremental) names KPIs without values to ask again in full."""
    acceptances = acceptances or {}
    prev = previous_rows(previous)
    wanted = sorted(uses)
    cache = PageCache(store, known_areas)
    if mode == REPLAY or client is None:
        return _replay(store, uses, prev, cache)
    for row in prev.values():  # a baseline whose responses are gone from the store is no baseline
        if not all(store.has("kolada", sha) for sha in split_pages(row.get("pages"))):
            row["pages"] = None
    if mode == INCREMENTAL and prev:
        plan = plan_incremental(client, prev, wanted, years, refetch)
        metadata = plan.metadata
        # A blocked series a person has just accepted is asked for again, changed or not.
        fetch = plan.refetch | {k for k in acceptances if (prev.get(k) or {}).get("state") == "blocked"
                                and k in set(metadata["kpi_id"])}
    else:
        metadata = client.kpis(wanted)
        fetch = set(metadata["kpi_id"])
    meta = {row["kpi_id"]: row for row in metadata.iter_rows(named=True)}
    pages_of, failures = fetch_values(client, sorted(fetch), years, cache)
    on_page: dict[str, list[str]] = {}
    for kpi, shas in pages_of.items():
        for sha in shas:
            on_page.setdefault(sha, []).append(kpi)
    candidates = cache.take(on_page)
    checked = validate(candidates) if candidates.height else {}
    fetched_rows = candidates.partition_by("kpi", as_dict=True)
    empty = candidates.clear()
    del candidates  # its rows live on in fetched_rows
    if "" in checked:  # nothing to blame a single series for: the frame itself is wrong
        raise ValueError(f"raw.kolada_value: {checked['']}")
    rows, details = [], {}
    for kpi in wanted:
        before = prev.get(kpi)
        use = uses[kpi]
        base = {"kpi_id": kpi, "indicator_ids": ",".join(use.indicator_ids) or None,
                "peer_variable": use.peer_variable, "checked_at": now}
        info = meta.get(kpi)
        if info is not None:
            base |= {"meta_page": info["response_sha256"], "meta_hash": meta_hash(info),
                     "title": info["title"], "unit": title_unit(info["title"]),
                     "publication_date": info["publication_date"]}
        if info is None:
            problem = ("unknown_id", "")
        elif kpi not in fetch:
            rows.append(_carry(before, base, "kept"))
            continue
        elif kpi in failures:
            problem = failures[kpi]
        else:
            kpi_problems = [cache.get(sha).problems[kpi] for sha in pages_of.get(kpi, [])
                            if kpi in cache.get(sha).problems]
            problem = (("bad_response", kpi_problems[0]) if kpi_problems else
                       judge(kpi, fetched_rows.get((kpi,), empty), before, cache,
                             base.get("unit"), use, years, checked.get(kpi), acceptances,
                             pages_of.get(kpi, [])))
        if problem is None:
            shas = pages_of.get(kpi, [])
            stamps = [cache.fetched_at.get(s) for s in shas if cache.fetched_at.get(s)]
            rows.append(base | {"state": "fresh", "pages": ",".join(shas),
                                "fetched_at": max(stamps) if stamps else now})
            continue
        code, detail = problem
        if isinstance(detail, Exception):  # the reason in Swedish; the error itself to the log
            details[kpi] = str(detail)
            detail = plain_reason(detail)
        rows.append(_failed(before, base, code, _message(code, kpi, detail)))
    vintage = pl.DataFrame(rows, schema=VINTAGE_SCHEMA).sort("kpi_id")
    kpis = metadata.filter(pl.col("kpi_id").is_in(wanted)).sort("kpi_id")
    newly_unknown = {k for k in wanted if k not in meta
                     and (prev.get(k) or {}).get("problem") != "unknown_id"}
    return KoladaRefresh(kpis, _values(vintage, cache, fetched_rows), vintage,
                         fetched=len(fetch | newly_unknown), details=details)


def _carry(before: dict | None, base: dict, state: str) -> dict:
    """A KPI not fetched now: its previous vintage, and its previous problem if it had one."""
    before = before or {}
    keep = {k: before.get(k) for k in ("pages", "fetched_at", "problem", "message")}
    if before.get("problem"):
        return base | keep | {"state": before["state"], "unit": before.get("unit")}
    return base | keep | {"state": state}


def _failed(before: dict | None, base: dict, code: str, message: str) -> dict:
    has_old = before is not None and bool(split_pages(before.get("pages")))
    state = ("blocked" if code in ("drift", "unit_changed") else "stale") if has_old else "unavailable"
    out = base | {"state": state, "problem": code, "message": message + _kept_note(before),
                  "pages": before.get("pages") if has_old else None,
                  "fetched_at": before.get("fetched_at") if has_old else None}
    if code == "unit_changed" and before:
        out["unit"] = before.get("unit")  # stays blocked until the change is accepted
    return out


def _replay(store: RawStore, uses: dict[str, Use], prev: dict[str, dict],
            cache: PageCache) -> KoladaRefresh:
    """The previous build exactly as recorded: vintage rows, metadata and values from the store."""
    rows, metas = [], []
    for kpi in sorted(uses):
        before = prev.get(kpi)
        if before is None:
            continue
        rows.append({k: before.get(k) for k in VINTAGE_SCHEMA})
        if before.get("meta_page"):
            doc = orjson.loads(store.load("kolada", before["meta_page"]))
            page = Page(doc.get("values", []), _Stored(before["meta_page"]), "raw store")
            metas.extend(r for r in parse_kpis(page) if r["kpi_id"] == kpi)
    vintage = pl.DataFrame(rows, schema=VINTAGE_SCHEMA).sort("kpi_id")
    kpis = pl.DataFrame(metas, schema=KPI_SCHEMA).unique("kpi_id", keep="first").sort("kpi_id")
    return KoladaRefresh(kpis, _values(vintage, cache), vintage)


def _values(vintage: pl.DataFrame, cache: PageCache,
            fetched: dict[tuple, pl.DataFrame] | None = None) -> pl.DataFrame:
    """raw.kolada_value from each KPI's accepted pages, stamped with its fetch time (the
    rows just fetched are taken as they are; kept ones are read back from the store)."""
    frames = []
    for row in vintage.iter_rows(named=True):
        shas = split_pages(row["pages"])
        if shas:
            fresh = row["state"] == "fresh" and fetched and (row["kpi_id"],) in fetched
            frame = fetched[(row["kpi_id"],)] if fresh else cache.rows(row["kpi_id"], shas)
            frames.append(frame.with_columns(fetched_at=pl.lit(row["fetched_at"], dtype=pl.String)))
    if not frames:
        return values_frame([])
    # Without rechunking, the concatenation only points at the parts: one copy, the sorted.
    return pl.concat(frames, rechunk=False).sort("kpi", "municipality", "period", "gender")
