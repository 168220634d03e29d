"""What the site reads (`Marts`) and the shared work done once before any page is drawn.

`SiteData` turns the long fact table into plain dicts keyed for the pages: the latest
row per indicator × area × sex × breakdown, each area's series, the spread of all
kommuner per indicator (spine charts), names and files. Everything is sorted explicitly so
the same marts give the same site. Pages are then built from dicts, not from queries.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property

import polars as pl

from reports.charts.spine import Spread
from reports.charts.trend import shared_domain
from transforms import watch as watch_rule
from reports.labels import (FACTOR_ORDER, STATUS, breakdown_label, interval, number,
                            reader_text, slug, unit_phrase)

NATIONAL = ("riket", "total")   # survey indicators compare with all respondents (area total)
SPINE_MIN_COVERAGE = 0.75       # Fingertips blanks a spine when 25 % or more are missing
ID_TOKEN = re.compile(r"\b[A-Za-z][A-Za-z0-9_]*\d*[_\d][A-Za-z0-9_]*\b")  # N15508, lupp_skola_…
KOMMUN_TOKEN = re.compile(r"\bkommun (\d{4})\b")
BREAKDOWN_TOKEN = re.compile(r"\b(?:ak|gy)\d\b")
LARGE_SHARE = 0.2               # a kommun above this share of its län is compared with the rest

LATEST_COLUMNS = [
    "indicator_id", "area_code", "area_type", "period", "sex", "breakdown", "numerator",
    "denominator", "value", "lower_95", "upper_95", "status", "status_reason",
    "compared_to_lan", "compared_to_riket", "compared_to_rest_of_lan", "compared_to_peers",
    "rank_band", "quintile", "trend", "red_red", "source_title",
]
OPTIONAL_COLUMNS = ["stale", "value_note",  # data quality (issue 9), when present
                    "ci_approximate", "source_id"]  # a weighted survey's count is weighted
SITE_FACT_COLUMNS = LATEST_COLUMNS + OPTIONAL_COLUMNS
WATCH_FACT_COLUMNS = ["indicator_id", "area_code", "area_type", "period", "sex", "breakdown",
                      "status", "compared_to_riket", "trend", "red_red"]
SERIES_AREAS = ["kommun", "lan", *NATIONAL]  # the areas whose series (sex T, all) are drawn


@dataclass(frozen=True)
class Marts:
    """The published tables the site is built from; the optional ones may be None.

    Coordination marts (need index, readiness, support, goals, selection) follow the
    contract in the coordination brief; `data_quality` is `meta.data_quality`. A section
    whose table is None says so in Swedish on the page.
    """

    facts: pl.DataFrame
    indicators: pl.DataFrame
    areas: pl.DataFrame
    peers: pl.DataFrame | None = None
    funnels: pl.DataFrame | None = None
    methods: pl.DataFrame | None = None
    shapes: pl.DataFrame | None = None   # area_code, area_type (kommun | lan), geometry (WKB)
    need_index: pl.DataFrame | None = None
    need_sensitivity: pl.DataFrame | None = None
    need_contribution: pl.DataFrame | None = None
    readiness: pl.DataFrame | None = None
    readiness_stage: pl.DataFrame | None = None
    support_need: pl.DataFrame | None = None
    goal_progress: pl.DataFrame | None = None
    selection: pl.DataFrame | None = None
    data_quality: pl.DataFrame | None = None
    watch_list: pl.DataFrame | None = None   # marts.watch_list; computed from facts when None
    # publication history (CONTRACT-changes.md): meta.publication_history, .publication_change,
    # .decision_history; "Vad har ändrats" says so when they are not there
    publication_history: pl.DataFrame | None = None
    publication_change: pl.DataFrame | None = None
    decision_history: pl.DataFrame | None = None
    late_cost: pl.DataFrame | None = None               # hälsoekonomi (reports/health_economics.py)
    late_cost_kpi: pl.DataFrame | None = None
    prevention_scenario: pl.DataFrame | None = None
    prevention_assumption: pl.DataFrame | None = None


def county_file(code: str, name: str) -> str:
    return f"lan-{code}-{slug(name)}.html"


def kommun_file(code: str, name: str) -> str:
    return f"kommun-{code}-{slug(name)}.html"


# The county's own views besides its page: file stem and the heading each page carries.
COUNTY_VIEWS = {"andringar": "Vad har ändrats", "jamfor": "Jämför kommuner",
                "kon": "Flickor och pojkar", "lansoversikt": "Länsöversikt",
                "samtal": "Samtalsunderlag"}


def county_view_file(view: str, code: str, name: str) -> str:
    return f"{view}-{code}-{slug(name)}.html"


def indicator_file(indicator_id: str) -> str:
    return f"indikator-{slug(indicator_id)}.html"


class Notes:
    """Footnotes of one page: each distinct text gets one number, in order of first use."""

    def __init__(self):
        self.texts: list[str] = []

    def mark(self, text: str | None) -> int | None:
        if not text:
            return None
        if text not in self.texts:
            self.texts.append(text)
        return self.texts.index(text) + 1


STALE_NOTE = ("Värdet är från den senaste godkända leveransen; nyare uppgifter kunde inte "
              "användas (se Datakvalitet).")


WEIGHTED_NOTE = ("Vägt antal: enkäten har vikter, så antalet är den vägda andelen × antalet "
                 "svarande och behöver varken vara ett heltal eller summera över kön och årskurser. "
                 "Antalet svarande är ovägt; konfidensintervallet bygger på det effektiva antalet "
                 "svarande (Kish).")


def weighted_survey(row: dict) -> bool:
    """A weighted survey share: its count is weighted, its interval rests on Kish's n."""
    return bool(row.get("ci_approximate")) and str(row.get("source_id") or "").startswith("survey:")


def row_notes(row: dict) -> list[str]:
    """The footnote texts a row needs: why it has no value, that it is stale, its caveat."""
    texts = [reader_text(row.get("status_reason")) if row["status"] != "ok" else None,
             STALE_NOTE if row.get("stale") else None, row.get("value_note"),
             WEIGHTED_NOTE if row["status"] == "ok" and weighted_survey(row) else None]
    return [t for t in texts if t]


def value_cell(row: dict | None, unit: str, notes: Notes | None = None, count: bool = True,
               said: frozenset[str] = frozenset()) -> dict:
    """A value as a page shows it: text, interval, count and footnote markers.

    `count` False hides the numerator (for means, where it is a sum of points, not a count);
    `said` are notes the page states once for all its rows, so no row repeats them.
    """
    if row is None:
        return {"text": "–", "ci": "–", "n": "", "ok": False, "notes": []}
    marks = []
    if notes is not None:
        marks = [notes.mark(text) for text in row_notes(row) if text not in said]
    ok = row["status"] == "ok" and row["value"] is not None
    return {
        "text": number(row["value"], unit) if ok else STATUS.get(row["status"], row["status"]),
        "ci": interval(row["lower_95"], row["upper_95"], unit) if ok else "–",
        "n": (number(row["numerator"], "antal") + (" (vägt)" if weighted_survey(row) else "")
              if count and ok and row["numerator"] is not None else ""),
        "ok": ok,
        "notes": [m for m in marks if m is not None],
    }


def source_text(indicator: dict, national_row: dict | None) -> str:
    """The source in words: Kolada and its id, or the survey's name and wave.

    A survey's `source_title` is shown as the catalogue gives it ("LUPP (liknande upplägg),
    omgång 2023"), but never a file name: a bracket that holds one is left out.
    """
    if indicator["source"] == "kolada":
        return f"Kolada, nyckeltal {indicator['source_id']}"
    title = (national_row or {}).get("source_title") or ""
    title = re.sub(r"\s*\([^()]*[./_][^()]*\)", "", title)
    title = re.sub(r"\s+([,.])", r"\1", " ".join(title.split())).strip(" ,")
    return f"Elevenkät: {title or indicator['source_id'].split(':')[0]}"


def survey_heading(source: str, period: int | None) -> str:
    """'Elevenkät: LUPP, omgång 2023', with the year only when the title lacks it."""
    return source if period is None or str(period) in source else f"{source}, {period}"


class Row(Mapping):
    """A fact row as the pages read it (`row["value"]`, `row.get("stale")`, `row.value` in a
    template), read-only. Its values live in an instance dict, whose keys all rows share:
    a third of a plain dict's memory, for the few hundred thousand rows kept for the render."""

    __slots__ = ("__dict__",)

    def __getitem__(self, key: str):
        try:
            return self.__dict__[key]
        except KeyError:
            raise KeyError(key) from None

    def __iter__(self):
        return iter(self.__dict__)

    def __len__(self) -> int:
        return len(self.__dict__)

    def __eq__(self, other) -> bool:  # as a dict's, without Mapping's copies
        return self.__dict__ == (other.__dict__ if isinstance(other, Row) else other)

    __hash__ = None

    def __repr__(self) -> str:
        return f"Row({self.__dict__!r})"


def texts(column: pl.Series) -> list[str | None]:
    """A text column's values with one Python string per distinct text (`to_list` makes one
    per row: the codes, statuses and comparisons that repeat on every row would be most of
    the rows' memory, and the copies let go leave the heap in holes)."""
    words = [None, *column.drop_nulls().unique().sort().to_list()]
    return [words[i] for i in column.rank("dense").fill_null(0).to_list()]


def fact_rows(frame: pl.DataFrame) -> list[Row]:
    """The frame's rows as Rows, each distinct text one shared object (`texts`)."""
    columns = [texts(frame[name]) if dtype == pl.String else frame[name].to_list()
               for name, dtype in frame.schema.items()]
    names, new, out = frame.columns, Row.__new__, []
    for values in zip(*columns):
        row = new(Row)
        row.__dict__.update(zip(names, values))
        out.append(row)
    return out


def latest_periods(facts: pl.DataFrame) -> dict[str, int]:
    """Per indicator, the latest year with a national value (riket or all respondents). A
    survey's all-respondents row counts hidden too: a new version of a wave may hide it
    (a late delivery's pupils would show in its difference), not the wave's other cells.
    Reads only the national rows."""
    frame = (facts.filter(pl.col("area_type").is_in(NATIONAL)
                          & ((pl.col("status") == "ok") | (pl.col("area_type") == "total"))
                          & (pl.col("sex") == "T") & (pl.col("breakdown") == "all"))
             .group_by("indicator_id").agg(pl.col("period").max()).sort("indicator_id"))
    return dict(frame.iter_rows())


class SiteData:
    """Shared, precomputed views of the marts (built once per site).

    Of the fact table it reads only `SITE_FACT_COLUMNS` of the national rows, of every row
    of sex T without breakdown for kommuner and län (`SERIES_AREAS`), and of every row of an
    indicator's latest year (`latest_periods`): a caller with a large table hands it only
    those (the publication, pipeline/publication_work.py). The downloads read every row,
    an area at a time (reports/downloads.py).
    """

    def __init__(self, marts: Marts):
        self.m = marts
        areas = marts.areas.sort("area_code")
        self.names: dict[str, str] = dict(zip(areas["area_code"], areas["area_name"], strict=True))
        self.area_type: dict[str, str] = dict(zip(areas["area_code"], areas["area_type"], strict=True))
        self.lan_of: dict[str, str | None] = dict(zip(areas["area_code"], areas["lan_code"], strict=True))
        self.lans = [(c, n) for c, n, t in areas.select("area_code", "area_name", "area_type").iter_rows()
                     if t == "lan"]
        by_type: dict[tuple[str, str], list[str]] = defaultdict(list)
        for code, kind, lan in areas.select("area_code", "area_type", "lan_code").iter_rows():
            if lan is not None:
                by_type[(kind, lan)].append(code)
        self.kommuner_of = {lan: by_type[("kommun", lan)] for lan, _ in self.lans}
        self.subregions_of = {lan: by_type[("subregion", lan)] for lan, _ in self.lans}
        self.kommuner = sorted(c for c, t in self.area_type.items() if t == "kommun")
        self.indicators = self._indicators()
        self.by_id = {i["indicator_id"]: i for i in self.indicators}

    # -- files and names -------------------------------------------------------------------
    def county_file(self, lan: str) -> str:
        return county_file(lan, self.names[lan])

    def kommun_file(self, code: str) -> str:
        return kommun_file(code, self.names[code])

    def view_file(self, view: str, lan: str) -> str:
        return county_view_file(view, lan, self.names[lan])

    def county_views(self, lan: str) -> list[dict]:
        """The county's own pages (what changed, compare, girls and boys, memo, dialogue)."""
        return [{"view": v, "title": t, "file": self.view_file(v, lan)} for v, t in COUNTY_VIEWS.items()]

    def _indicators(self) -> list[dict]:
        rank = {f: i for i, f in enumerate([*FACTOR_ORDER, "none"])}
        rows = self.m.indicators.to_dicts()
        for row in rows:
            row["file"] = indicator_file(row["indicator_id"])
            row["unit_phrase"] = unit_phrase(row["unit"])
            row["context"] = row["factor"] == "context"
        return sorted(rows, key=lambda r: (rank.get(r["strategic_factor"], 99), r["context"],
                                           r["source"] != "kolada", r["factor"] != "protective",
                                           r["short_title"], r["indicator_id"]))

    # -- the latest values -------------------------------------------------------------------
    def _watch_facts(self) -> pl.DataFrame:
        """The fact columns the watch rule reads (transforms/watch.py): its filters and joins
        then copy only these."""
        return self.m.facts.select(WATCH_FACT_COLUMNS)

    @cached_property
    def latest_period(self) -> dict[str, int]:
        return latest_periods(self.m.facts)

    @cached_property
    def national_code(self) -> dict[str, str]:
        frame = (self.m.facts.filter(pl.col("area_type").is_in(NATIONAL))
                 .select("indicator_id", "area_code").unique().sort("indicator_id", "area_code"))
        return dict(frame.iter_rows())

    @cached_property
    def latest(self) -> dict[tuple[str, str, str, str], dict]:
        """(indicator, area, sex, breakdown) → the row of the indicator's latest year."""
        periods = pl.DataFrame({"indicator_id": list(self.latest_period),
                                "period": list(self.latest_period.values())},
                               schema={"indicator_id": pl.String, "period": pl.Int32})
        columns = LATEST_COLUMNS + [c for c in OPTIONAL_COLUMNS if c in self.m.facts.columns]
        frame = (self.m.facts.select(columns)
                 .join(periods, on=["indicator_id", "period"], how="inner")
                 .sort("indicator_id", "area_code", "sex", "breakdown"))
        return {(r["indicator_id"], r["area_code"], r["sex"], r["breakdown"]): r
                for r in fact_rows(frame)}

    @cached_property
    def previous(self) -> dict[tuple[str, str], dict]:
        """(indicator, area) → the row (sex T, no breakdown) of the national year before the
        latest one: what "since last year" compares with."""
        facts = self._watch_facts()
        periods = watch_rule.previous_periods(facts, watch_rule.latest_periods(facts))
        columns = LATEST_COLUMNS + [c for c in OPTIONAL_COLUMNS if c in self.m.facts.columns]
        frame = (self.m.facts.lazy()
                 .filter((pl.col("sex") == "T") & (pl.col("breakdown") == "all")
                         & pl.col("area_type").is_in(["kommun", "lan"]))
                 .select(columns)
                 .join(periods.lazy().with_columns(pl.col("period").cast(self.m.facts.schema["period"])),
                       on=["indicator_id", "period"], how="inner")
                 .sort("indicator_id", "area_code").collect())
        return {(r["indicator_id"], r["area_code"]): r for r in fact_rows(frame)}

    @cached_property
    def watch_last_year(self) -> dict[str, list[dict]]:
        """län → the watch list as it was on the year before's values (same rule)."""
        facts = self._watch_facts()
        periods = watch_rule.previous_periods(facts, watch_rule.latest_periods(facts))
        out: dict[str, list[dict]] = defaultdict(list)
        for row in watch_rule.watch_list(facts, self.m.indicators, self.m.areas, periods).to_dicts():
            out[row["lan_code"]].append(row)
        return dict(out)

    def row(self, indicator_id: str, area: str, sex: str = "T", breakdown: str = "all") -> dict | None:
        return self.latest.get((indicator_id, area, sex, breakdown))

    def national_row(self, indicator_id: str) -> dict | None:
        code = self.national_code.get(indicator_id)
        return self.row(indicator_id, code) if code else None

    def national_name(self, indicator_id: str) -> str:
        return self.names.get(self.national_code.get(indicator_id, "00"), "Riket")

    @cached_property
    def breakdowns(self) -> dict[tuple[str, str], list[tuple[str, str]]]:
        """(indicator, area) → its (breakdown, sex) cells of the latest year beyond T/all."""
        out: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
        for (ind, area, sex, breakdown) in self.latest:
            if not breakdown.startswith("pooled") and (breakdown, sex) != ("all", "T"):
                out[(ind, area)].append((breakdown, sex))
        return dict(out)

    # -- series ---------------------------------------------------------------------------
    @cached_property
    def series(self) -> dict[tuple[str, str], list[tuple]]:
        """(indicator, area) → [(period, value, lower_95, upper_95)] of sex T, every year.

        A hidden or missing year has value None, so a line breaks there rather than
        bridging the gap.
        """
        frame = (self.m.facts.lazy()
                 .filter((pl.col("sex") == "T") & (pl.col("breakdown") == "all")
                         & pl.col("area_type").is_in(SERIES_AREAS))
                 .select("indicator_id", "area_code", "period", "value", "lower_95", "upper_95",
                         "status")
                 .sort("indicator_id", "area_code", "period").collect())
        out: dict[tuple[str, str], list[tuple]] = defaultdict(list)
        columns = [texts(frame["indicator_id"]), texts(frame["area_code"]),
                   *(frame[c].to_list() for c in ("period", "value", "lower_95", "upper_95")),
                   (frame["status"] == "ok").to_list()]
        for ind, area, period, value, lo, hi, ok in zip(*columns):
            out[(ind, area)].append((period, value if ok else None, lo if ok else None,
                                     hi if ok else None))
        return dict(out)

    @cached_property
    def periods(self) -> dict[str, list[int]]:
        """Per indicator, the years any kommun, län or national series covers."""
        out: dict[str, set[int]] = defaultdict(set)
        for (ind, _), points in self.series.items():
            out[ind].update(p[0] for p in points)
        return {ind: sorted(years) for ind, years in out.items()}

    @cached_property
    def trend_domain(self) -> dict[str, tuple[float, float]]:
        """Per indicator, the y axis all its trend panels share (charts/trend.shared_domain),
        over all years; intervals are cut at the axis ends."""
        kommuner: dict[str, list[float]] = defaultdict(list)
        benchmarks: dict[str, list[float]] = defaultdict(list)
        for (ind, area), points in self.series.items():
            target = kommuner if self.area_type.get(area) == "kommun" else benchmarks
            target[ind] += [p[1] for p in points if p[1] is not None]
        return {ind: shared_domain(kommuner[ind], benchmarks[ind])
                for ind in sorted(set(kommuner) | set(benchmarks))}

    # -- spreads for the spine charts ------------------------------------------------------
    @cached_property
    def spreads(self) -> dict[str, Spread]:
        """Per indicator, percentiles 0/25/75/100 of all kommuner's latest values.

        Quantiles are linear (R type 7, as ScotPHO's `quantile()`); an indicator where 25 %
        or more of the kommuner lack a value has no spread (the spine is left blank).
        """
        out = {}
        groups: dict[str, list[float | None]] = defaultdict(list)
        for (ind, area, sex, breakdown), row in self.latest.items():
            if sex == "T" and breakdown == "all" and row["area_type"] == "kommun":
                groups[ind].append(row["value"] if row["status"] == "ok" else None)
        for ind, values in sorted(groups.items()):
            ok = [v for v in values if v is not None]
            if not ok or len(ok) < SPINE_MIN_COVERAGE * len(values):
                continue
            series = pl.Series(ok, dtype=pl.Float64)
            q = [series.quantile(p, interpolation="linear") for p in (0.0, 0.25, 0.75, 1.0)]
            out[ind] = Spread(*q, n_values=len(ok), n_kommuner=len(values))
        return out

    # -- the watch list and the per-factor counts (transforms/watch.py) -------------------
    @cached_property
    def watch(self) -> dict[str, list[dict]]:
        """län → its rows of marts.watch_list (or of the same rule applied here)."""
        frame = self.m.watch_list
        if frame is None:
            frame = watch_rule.watch_list(self._watch_facts(), self.m.indicators, self.m.areas)
        out: dict[str, list[dict]] = defaultdict(list)
        for row in frame.to_dicts():
            out[row["lan_code"]].append(row)
        return dict(out)

    @cached_property
    def counts(self) -> dict[str, list[dict]]:
        """kommun → per strategic factor, its comparisons with riket (latest year)."""
        rows = watch_rule.latest_rows(self._watch_facts(), self.m.indicators, self.m.areas)
        out: dict[str, list[dict]] = defaultdict(list)
        for row in watch_rule.factor_counts(rows).to_dicts():
            out[row["area_code"]].append(row)
        return dict(out)

    # -- small helpers shared by the pages -------------------------------------------------
    def lan_benchmark(self, row: dict, lan: str) -> dict:
        """What a kommun is compared with in its län: the län, or — for a kommun above
        `LARGE_SHARE` of the län's denominator — the rest of the län (its own numbers left
        out), with that benchmark's value so the page shows what the comparison is against."""
        lan_row = self.row(row["indicator_id"], lan, row["sex"], row["breakdown"])
        lan_ok = lan_row is not None and lan_row["status"] == "ok"
        whole = {"rest": False, "value": lan_row["value"] if lan_ok else None,
                 "comparison": row.get("compared_to_lan") or "not_compared"}
        if not (lan_ok and row["denominator"] and lan_row["denominator"]
                and row["denominator"] / lan_row["denominator"] > LARGE_SHARE
                and row.get("compared_to_rest_of_lan")):
            return whole
        rest_den = lan_row["denominator"] - row["denominator"]
        multiplier = self.by_id[row["indicator_id"]].get("multiplier") or 1.0
        value = ((lan_row["numerator"] - row["numerator"]) / rest_den * multiplier
                 if rest_den > 0 and lan_row["numerator"] is not None and row["numerator"] is not None
                 else None)
        return {"rest": True, "value": value, "comparison": row["compared_to_rest_of_lan"]}

    def readable(self, text: str | None) -> str | None:
        """A message from a mart made readable: indicator ids become titles, kommun codes
        names and breakdown codes words ("lupp_… … kommun 0305, totalt, ak9" → titles)."""
        if not text:
            return text
        text = ID_TOKEN.sub(lambda m: f"”{self.by_id[m.group(0)]['short_title']}”"
                            if m.group(0) in self.by_id else m.group(0), text)
        text = KOMMUN_TOKEN.sub(lambda m: self.names.get(m.group(1), m.group(0)), text)
        return BREAKDOWN_TOKEN.sub(lambda m: breakdown_label(m.group(0)), reader_text(text))

    def breakdown_heads(self, cells: list[tuple[str, str]]) -> list[tuple[str, str]]:
        order = {"K": 0, "M": 1, "T": 2}
        return sorted(set(cells), key=lambda c: (c[0] == "all", c[0], order.get(c[1], 9)))

    def breakdown_title(self, breakdown: str, sex: str) -> str:
        sex_word = {"K": "flickor", "M": "pojkar", "T": "alla"}[sex]
        return f"{breakdown_label(breakdown).capitalize()}, {sex_word}"

    def methods(self) -> list[dict]:
        return [] if self.m.methods is None else self.m.methods.to_dicts()

    # -- optional tables, partitioned once so pages never query ----------------------------
    def _partition(self, frame: pl.DataFrame | None, key: str, order: list[str]) -> dict | None:
        if frame is None:
            return None
        out: dict[str, list[dict]] = defaultdict(list)
        for row in frame.sort(order).to_dicts():
            out[row[key]].append(row)
        return dict(out)

    def _latest_limits(self) -> pl.DataFrame | None:
        """The funnel limits a page draws: its indicator's latest year, sex T, all (the
        table has every year and cell)."""
        if self.m.funnels is None:
            return None
        latest = pl.col("indicator_id").replace_strict(self.latest_period, default=None,
                                                       return_dtype=pl.Int64)
        return self.m.funnels.filter((pl.col("sex") == "T") & (pl.col("breakdown") == "all")
                                     & (pl.col("period") == latest))

    @cached_property
    def tables(self) -> dict[str, dict[str, list[dict]] | None]:
        """Each optional table as {area_code (or indicator_id): [row dicts]}, None when absent."""
        m = self.m
        return {
            "need_index": self._partition(m.need_index, "area_code", ["area_code", "factor", "period"]),
            "readiness": self._partition(m.readiness, "area_code", ["area_code", "assessment_id", "dimension"]),
            "readiness_stage": self._partition(m.readiness_stage, "area_code",
                                               ["area_code", "issue", "assessed_on", "assessment_id"]),
            "support_need": self._partition(m.support_need, "area_code",
                                            ["area_code", "factor", "period_end"]),
            "goal_progress": self._partition(m.goal_progress, "area_code", ["area_code", "goal_id", "year"]),
            "selection": self._partition(m.selection, "area_code", ["area_code", "call_id"]),
            "data_quality": self._partition(m.data_quality, "indicator_id",
                                            ["indicator_id", "source_id", "problem"]),
            "funnels": self._partition(self._latest_limits(), "indicator_id",
                                       ["indicator_id", "period", "sex", "breakdown", "denominator"]),
            "peers": self._partition(m.peers, "kommun_code", ["kommun_code", "rank"]),
            "need_sensitivity": self._partition(m.need_sensitivity, "factor", ["factor", "rank_of_effect"]),
            "need_contribution": self._partition(m.need_contribution, "area_code",
                                                 ["area_code", "factor", "rank_of_contribution"]),
            "late_cost": self._partition(m.late_cost, "area_code", ["area_code", "cost_kind", "year"]),
            "late_cost_kpi": self._partition(m.late_cost_kpi, "cost_kind", ["sort_order"]),
            "prevention_scenario": self._partition(m.prevention_scenario, "area_code",
                                                   ["area_code", "scenario_order"]),
            "prevention_assumption": self._partition(m.prevention_assumption, "scenario_id",
                                                     ["scenario_id", "sort_order"]),
        }

    def rows_for(self, table: str, keys: list[str]) -> list[dict] | None:
        """The rows of an optional table for the given areas (or indicators), in order."""
        parts = self.tables[table]
        if parts is None:
            return None
        return [row for key in keys for row in parts.get(key, [])]

    def prepare(self, keep_facts: bool = True) -> "SiteData":
        """Compute every shared view now (before pages are rendered in parallel). Without
        `keep_facts`, the fact rows are let go once the views are made (`m.facts` is then
        empty): no page reads them, and a caller that holds no other reference gets their
        memory back for the rest of the render."""
        # The views that polars computes in large frames first, while few of the rows kept as
        # Python objects exist: the peak is then the larger of the two, not their sum.
        for name in ("watch_last_year", "counts", "watch", "latest_period", "national_code",
                     "previous", "latest", "breakdowns", "spreads", "series", "periods",
                     "trend_domain", "tables"):
            getattr(self, name)
        if not keep_facts:
            self.m = replace(self.m, facts=self.m.facts.clear())
        return self
