"""Downloads per county and per kommun: CSV for any tool, XLSX for Excel, the same rows.

One row per area × indicator × sex × breakdown: the latest year's value with its interval,
counts, status and reason, the län's and riket's values and the comparisons in Swedish, and
then the whole series as one column per year. Column names, indicator titles and every code
are Swedish (labels from `reports/labels.py`). CSV is semicolon-separated with decimal comma
in UTF-8 with BOM, as Swedish Excel opens it. A cell that starts like a formula (`=`, `+`,
`-`, `@`, tab, CR) gets a leading apostrophe, and the XLSX writer stores every string as
text, never a formula, so a downloaded file never runs anything.

The wide table is computed once for all areas, and each row's XML once (`reports/xlsx.py`);
each file is a cut of them. The workbooks are zipped in threads (zlib and polars work outside
the interpreter's lock), and a file whose rows did not change is not rewritten.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl

from reports.labels import (AREA_TYPE, COMPARISON, FACTOR, RANK_BAND, SEX, SOURCE_STATUS_WORDS,
                            STATUS, STRATEGIC_FACTORS, TREND, breakdown_label)
from reports.model import SiteData
from reports.xlsx import Sheet, row_xml, workbook_bytes

FOLDER = "nedladdning"
MANIFEST = ".manifest.json"
FORMULA_START = r"^[=+\-@\t\r]"
AREA_ORDER = {"riket": 0, "total": 1, "lan": 2, "subregion": 3, "kommun": 4}
SEX_ORDER = {"T": 0, "K": 1, "M": 2}

COLUMNS = {  # internal name → Swedish column name, in file order
    "area_name": "Område", "area_code": "Områdeskod", "area_type": "Områdestyp",
    "title": "Indikator", "indicator_id": "Indikatorns id", "strategic_factor": "Strategisk faktor",
    "factor": "Risk- eller skyddsfaktor", "unit": "Enhet", "sex": "Kön", "breakdown": "Nedbrytning",
    "period": "År", "value": "Värde", "lower_95": "Nedre gräns 95 %", "upper_95": "Övre gräns 95 %",
    "numerator": "Täljare", "denominator": "Nämnare", "status": "Status", "status_reason": "Orsak",
    "lan_value": "Länets värde", "national_value": "Rikets värde (enkäter: alla svarande)",
    "compared_to_lan": "Jämfört med länet", "compared_to_riket": "Jämfört med riket",
    "compared_to_peers": "Jämfört med liknande kommuner", "trend": "Trend (fem senaste åren)",
    "rank_band": "Relativ position bland kommunerna", "source": "Källa",
}


# The fact table's columns a file shows (the area's and indicator's own come from their tables).
FACT_COLUMNS = ["area_code", "indicator_id", "sex", "breakdown", "period", "value", "lower_95",
                "upper_95", "numerator", "denominator", "status", "status_reason", "compared_to_lan",
                "compared_to_riket", "compared_to_peers", "trend", "rank_band"]


def neutralise(frame: pl.DataFrame) -> pl.DataFrame:
    """Prefix an apostrophe to every text cell that a spreadsheet could read as a formula."""
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(FORMULA_START)).then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c)).alias(c)
        for c, dtype in frame.schema.items() if dtype == pl.String)


@dataclass(frozen=True)
class AreaFacts:
    """Every row of the fact table, an area set at a time (`of(codes)`), and every year the
    table has: a file's year columns are the same whichever areas it holds."""
    years: list[int]
    of: Callable[[list[str]], pl.DataFrame]


def all_facts(facts: pl.DataFrame) -> AreaFacts:
    """AreaFacts of a fact table in memory."""
    return AreaFacts(sorted(facts["period"].unique().to_list()),
                     lambda codes: facts.filter(pl.col("area_code").is_in(codes)))


def wide_table(data: SiteData, facts: pl.DataFrame | None = None,
               years: list[int] | None = None) -> pl.DataFrame:
    """The areas' rows, Swedish columns, in display order (before any filtering): of every
    area in `data.m.facts`, or of the fact rows given (which hold the rows of the län and the
    national areas their areas are compared with), with a column for each of `years`."""
    facts = data.m.facts if facts is None else facts
    periods = pl.DataFrame({"indicator_id": list(data.latest_period),
                            "period": list(data.latest_period.values())},
                           schema={"indicator_id": pl.String, "period": pl.Int32})
    keys = ["area_code", "indicator_id", "sex", "breakdown"]
    series = (facts.select(*keys, "period", "value").sort("period")
              .with_columns(pl.col("value").round(4))
              .pivot(on="period", index=keys, values="value", sort_columns=True))
    years = [c for c in series.columns if c not in keys] if years is None else [str(y) for y in years]
    series = series.with_columns(pl.lit(None, pl.Float64).alias(y) for y in years if y not in series.columns)
    latest = facts.select(FACT_COLUMNS).join(periods, on=["indicator_id", "period"], how="inner")
    bench = latest.filter(pl.col("status") == "ok").select(
        "indicator_id", "sex", "breakdown", bench_code="area_code", bench_value="value")
    areas = data.m.areas.select("area_code", "area_type", "area_name", "lan_code")
    national = pl.DataFrame({"indicator_id": list(data.national_code),
                             "national_code": list(data.national_code.values())},
                            schema={"indicator_id": pl.String, "national_code": pl.String})
    ind = data.m.indicators.select("indicator_id", "title", "strategic_factor", "factor", "unit",
                                   "source", "source_id")
    order = {i["indicator_id"]: n for n, i in enumerate(data.indicators)}
    # an area with earlier years but no row for the latest year: that year, "Saknas" and why
    absent = pl.col("status").is_null()
    frame = (series.join(latest, on=keys, how="left")
             .join(periods.rename({"period": "latest_period"}), on="indicator_id", how="left")
             .with_columns(period=pl.coalesce("period", "latest_period"),
                           status_reason=pl.when(absent).then(pl.lit("Källan har inget värde för året"))
                           .otherwise(pl.col("status_reason").str.replace_all(SOURCE_STATUS_WORDS.pattern, "")),
                           status=pl.when(absent).then(pl.lit("missing")).otherwise("status"))
             .join(areas, on="area_code", how="left")
             .join(national, on="indicator_id", how="left")
             .join(ind, on="indicator_id", how="left")
             .join(bench.rename({"bench_code": "lan_code", "bench_value": "lan_value"}),
                   on=["indicator_id", "sex", "breakdown", "lan_code"], how="left")
             .join(bench.rename({"bench_code": "national_code", "bench_value": "national_value"}),
                   on=["indicator_id", "sex", "breakdown", "national_code"], how="left")
             .with_columns(
                 _a=pl.col("area_type").replace_strict(AREA_ORDER, default=9, return_dtype=pl.Int8),
                 _i=pl.col("indicator_id").replace_strict(order, default=10**6, return_dtype=pl.Int32),
                 _s=pl.col("sex").replace_strict(SEX_ORDER, default=9, return_dtype=pl.Int8))
             .sort("_a", "area_code", "_i", "_s", "breakdown"))
    breakdowns = {b: breakdown_label(b) for b in frame["breakdown"].unique().sort().to_list()}
    frame = frame.with_columns(
        pl.col("area_type").replace(AREA_TYPE),
        pl.col("strategic_factor").replace(STRATEGIC_FACTORS),
        pl.col("factor").replace(FACTOR),
        pl.col("sex").replace(SEX),
        pl.col("breakdown").replace(breakdowns),
        pl.col("status").replace({**STATUS, "ok": "Redovisas"}),
        *(pl.col(c).replace(COMPARISON) for c in ("compared_to_lan", "compared_to_riket",
                                                  "compared_to_peers")),
        pl.col("trend").replace(TREND),
        pl.col("rank_band").replace(RANK_BAND),
        *(pl.col(c).round(4) for c in ("value", "lower_95", "upper_95", "lan_value", "national_value")),
        source=pl.when(pl.col("source") == "kolada")
        .then(pl.format("Kolada, nyckeltal {}", pl.col("source_id")))
        .otherwise(pl.lit("Elevenkät")),
    )
    out = frame.select(*(pl.col(c).alias(name) for c, name in COLUMNS.items()),
                       *(pl.col(y).alias(f"Värde {y}") for y in years))
    return neutralise(out)


def csv_bytes(frame: pl.DataFrame, header: bool = True) -> bytes:
    """The frame as CSV; without `header` only its rows, which a file's rows are joined from."""
    text = frame.write_csv(separator=";", decimal_comma=True, null_value="", include_header=header)
    return (("\ufeff" if header else "") + text).encode("utf-8")


ABOUT = [
    ("Innehåll", "En rad per område, indikator, kön och nedbrytning: senaste årets värde med "
                 "95 % konfidensintervall, täljare och nämnare, status och orsak, länets och "
                 "rikets värden, jämförelser och trend, och sedan värdet för varje år."),
    ("Jämförelser", "Bättre eller sämre betyder att jämförelsevärdet ligger utanför områdets "
                    "95 % konfidensintervall (mycket bättre eller sämre: utanför 99,8 %)."),
    ("Dolda värden", "Dolda och saknade värden är tomma, aldrig 0. Orsaken står i kolumnen Orsak."),
    ("Tecken", "En cell som börjar med = + - eller @ har fått en apostrof först, så att den "
               "aldrig tolkas som en formel."),
]


def about_frame(title: str, label: str, vintage: str) -> pl.DataFrame:
    return pl.DataFrame({"Rubrik": ["Fil", "Data", *[a for a, _ in ABOUT]],
                         "Förklaring": [title, f"{label}. Data hämtade {vintage}.",
                                        *[b for _, b in ABOUT]]})


def xlsx_bytes(frame: pl.DataFrame, title: str, label: str, vintage: str,
               rows: tuple[pl.Series, pl.Series] | None = None) -> bytes:
    """An Excel workbook: the data as a table, and a sheet that explains the columns. `rows`
    is both sheets' `row_xml` when made beforehand."""
    widths = {name: 14 for name in frame.columns}
    widths.update({"Område": 22, "Indikator": 40, "Orsak": 30, "Strategisk faktor": 28,
                   "Enhet": 18, "Källa": 22})
    data_rows, about_rows = rows or (None, None)
    # A fixed creation date (the data vintage) keeps the file identical for the same data.
    created = datetime.strptime(vintage, "%Y-%m-%d") if len(vintage) == 10 else datetime(2000, 1, 1)
    return workbook_bytes([Sheet("Data", frame, widths, table=True, freeze=(1, 1), rows=data_rows),
                           Sheet("Om filen", about_frame(title, label, vintage),
                                 {"Rubrik": 16, "Förklaring": 110}, table=False, rows=about_rows)],
                          title=title, subject=label, author="uppvaxt", created=created, decimals=3)


def download_sets(data: SiteData) -> list[tuple[str, str, list[str]]]:
    """(file stem, title, area codes) for each county and each kommun."""
    sets = []
    national = sorted(set(data.national_code.values()))
    for lan, name in data.lans:
        codes = national + [lan] + data.subregions_of[lan] + data.kommuner_of[lan]
        sets.append((data.county_file(lan)[:-5], f"{name}: kommuner, delregioner, länet och riket", codes))
    for code in data.kommuner:
        sets.append((data.kommun_file(code)[:-5], f"{data.names[code]} ({data.names[data.lan_of[code]]})",
                     [code]))
    return sets


def write_downloads(data: SiteData, out_dir: Path, label: str, vintage: str,
                    write, workers: int | None = None, facts: AreaFacts | None = None) -> list[Path]:
    """Write every county's and kommun's CSV and XLSX under `out_dir/nedladdning/`.

    `write(path, bytes)` stores a file atomically. Files whose content did not change are
    left as they are (the manifest keeps the hash each XLSX was made from). A county and its
    kommuner are made together from their own rows (`facts`, by default `data.m.facts`), so
    no step holds every area's rows at once.
    """
    folder = out_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    manifest_path = folder / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    facts = facts if facts is not None else all_facts(data.m.facts)
    code_column = COLUMNS["area_code"]
    groups: dict[str, list[tuple[str, str, list[str]]]] = {}
    for stem, title, codes in download_sets(data):
        groups.setdefault(data.lan_of.get(codes[-1]) or codes[-1], []).append((stem, title, codes))

    def county(sets: list[tuple[str, str, list[str]]]) -> tuple[dict[str, str], list[tuple[Path, bytes]]]:
        """One county's files and its kommuners' (whose rows are in the county's file too):
        the manifest's digests and the files whose content may have changed."""
        table = wide_table(data, facts.of(list(dict.fromkeys(c for _, _, codes in sets for c in codes))),
                           facts.years)
        parts = {code: frame for (code,), frame in table.partition_by(code_column, as_dict=True,
                                                                       maintain_order=True).items()}
        # Each area's CSV rows and XML once, for every file it is in.
        head = csv_bytes(table.clear())
        rows = {code: csv_bytes(frame, header=False) for code, frame in parts.items()}
        digests, out, jobs = {}, [], []
        for stem, title, codes in sets:
            present = [c for c in codes if c in parts]
            csv = head + b"".join(rows[c] for c in present)
            digests[stem] = hashlib.sha256(csv + label.encode() + vintage.encode()).hexdigest()
            csv_path, xlsx_path = folder / f"{stem}.csv", folder / f"{stem}.xlsx"
            if not csv_path.exists() or csv_path.read_bytes() != csv:
                out.append((csv_path, csv))
            if manifest.get(stem) != digests[stem] or not xlsx_path.exists():
                jobs.append((xlsx_path, title, present))
        del rows
        if jobs:
            # Each workbook only numbers its rows and compresses them.
            codes = list(dict.fromkeys(c for _, _, present in jobs for c in present))
            frame = pl.concat([parts[c] for c in codes] or [table.clear()])
            xml = {code: f["xml"] for (code,), f in frame.select(code_column).with_columns(row_xml(frame))
                   .partition_by(code_column, as_dict=True, maintain_order=True).items()}
            about = row_xml(pl.concat([about_frame(title, label, vintage) for _, title, _ in jobs]))
            size = about.len() // len(jobs)
            for n, (path, title, present) in enumerate(jobs):
                data_rows = pl.concat([xml[c] for c in present]) if present else pl.Series("xml", [], pl.String)
                out.append((path, xlsx_bytes(pl.concat([parts[c] for c in present] or [table.clear()]), title,
                                             label, vintage, rows=(data_rows, about.slice(n * size, size)))))
        return digests, out

    # Threads: polars and zlib do the work and let go of the interpreter meanwhile.
    workers = workers if workers is not None else min(len(groups), os.cpu_count() or 1)
    new_manifest = {}
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for digests, made in pool.map(county, groups.values()):
            new_manifest.update(digests)
            for path, content in made:
                write(path, content)
    write(manifest_path, json.dumps(new_manifest, indent=0, sort_keys=True).encode("utf-8"))
    return [folder / f"{stem}.{kind}" for stem, _, _ in download_sets(data) for kind in ("csv", "xlsx")]
