"""Problems found in a delivered file (a survey extract or a local register), each naming
the file, the row and the column.

Rows are numbered as the person who fixes the file sees them: in CSV and XLSX the header is
row 1 and the first data row 2 (or the row the header was found on, plus one); in an SPSS
file, row N is case N in the Data View. The messages are in Swedish: they are read by
the people who deliver the files.

What a problem may show: the row, the column and the rule broken, and the value only of the
columns the vendor sets for the survey's design (kommun, grade, year, weight). Never a
respondent id, the sex or an answer: problem reports reach Dagster's run history and the
inbox, which are not the private store.

Problems are kept as a polars frame. A file with a bad code in every one of its 300,000 rows
keeps a count per column and kind of problem and only the first `EXAMPLES` rows as
examples; `n` says how many problems a row stands for (1 for an example, the rest of the
count for the row that closes a column's examples).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl

KINDS = {
    "too_large": "för stor fil",
    "empty": "tom fil",
    "unreadable": "filen går inte att läsa",
    "encoding": "fel teckenkodning",
    "delimiter": "fel avgränsare",
    "no_codebook": "kodbok saknas",
    "missing_column": "kolumn saknas",
    "unknown_code": "kod som inte finns i kodboken",
    "label_conflict": "kod och etikett säger olika",
    "impossible_value": "omöjligt värde",
    "duplicate_id": "dubblerat svars-id",
    "redelivery": "redan levererad",
    "row_count": "fel antal svarsrader",
    "not_allowed": "inte tillåten i inkorgen",
    "internal": "internt fel vid kontrollen",
    "personal_number": "personnummer i filen",
    # Local registers (sources/registers/).
    "unknown_register": "okänt register",
    "missing_value": "obligatoriskt värde saknas",
    "bad_value": "värdet går inte att tolka",
    "unknown_kommun": "okänd kommunkod",
    "unknown_indicator": "okänd indikator",
    "out_of_range": "värde utanför tillåtet intervall",
    "date_order": "slutdatum före startdatum",
    "inconsistent": "motstridiga uppgifter",
    "duplicate_row": "dubblerad rad",
    "conflict": "krockar med en godkänd fil",
    # Warnings about register files (the file is still accepted).
    "exact_duplicate": "exakt dubblett (räknas en gång)",
    "old_layout": "äldre kolumnlayout",
    "dropped_kommun": "kommuner saknas i den nya versionen",
    "similar_actor": "liknande aktörsnamn",
    "baseline_mismatch": "basvärdet skiljer sig från data",
}

SCHEMA = {"file": pl.String, "row": pl.Int64, "column": pl.String, "kind": pl.String,
          "message": pl.String, "n": pl.Int64}
SAMPLE = 20
EXAMPLES = 20  # example rows kept per column and kind; the rest are counted
REPORT_LINES = 200


def sizes(size: int, limit: int) -> tuple[str, str]:
    """A file's size and its limit in Swedish, precise enough to tell them apart: "100,1 MB"
    and "100 MB", or bytes ("104 857 608 byte" and "104 857 600 byte") when even tenths
    of a thousandth of a megabyte agree."""
    mib = 1024**2
    for decimals in range(4):
        a, b = (f"{v / mib:,.{decimals}f}".replace(",", " ").replace(".", ",") for v in (size, limit))
        if a != b:
            return f"{a} MB", f"{b} MB"
    return (f"{size:,} byte".replace(",", " "), f"{limit:,} byte".replace(",", " "))


def problem(file: str, kind: str, message: str, *, row: int | None = None,
            column: str | None = None, n: int = 1) -> pl.DataFrame:
    """One problem as a one-row frame."""
    if kind not in KINDS:
        raise ValueError(f"unknown problem kind {kind!r}")
    return pl.DataFrame([{"file": file, "row": row, "column": column, "kind": kind,
                          "message": message, "n": n}], schema=SCHEMA)


def empty_problems() -> pl.DataFrame:
    return pl.DataFrame(schema=SCHEMA)


def combine(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """Problems in reading order: whole-file problems, then by row, then what was counted."""
    frames = [f for f in frames if f.height]
    if not frames:
        return empty_problems()
    whole = pl.col("row").is_null() & pl.col("column").is_null()
    rank = pl.when(whole).then(0).when(pl.col("row").is_not_null()).then(1).otherwise(2)
    return (pl.concat(frames, how="vertical").with_columns(_rank=rank)
            .sort("_rank", "row", "column", "kind", "message", nulls_last=False).drop("_rank"))


def count(frame: pl.DataFrame) -> int:
    """How many problems the frame stands for (examples and what was only counted)."""
    return int(frame["n"].sum()) if frame.height else 0


def describe(frame: pl.DataFrame, limit: int | None = None) -> list[str]:
    """Problems as lines: '<fil>, rad <n>, kolumn <c>: <meddelande>'."""
    rows = frame if limit is None else frame.head(limit)
    return [format_line(r) for r in rows.iter_rows(named=True)]


def format_line(r: dict) -> str:
    where = [r["file"]]
    if r["row"] is not None:
        where.append(f"rad {r['row']}")
    elif r["column"] is not None and r["n"] > 1:
        where.append("fler rader")
    else:
        where.append("rad – (hela filen)")
    where.append(f"kolumn {r['column']}" if r["column"] is not None else "kolumn – (alla)")
    return f"{', '.join(where)}: {r['message']}"


@dataclass(frozen=True)
class Summary:
    """Counts and a sample, for asset-check metadata and the quarantine report."""

    file: str
    failure_count: int
    by_kind: dict[str, int]
    sample: list[dict]
    lines: list[str]

    @classmethod
    def of(cls, file: str, frame: pl.DataFrame) -> Summary:
        by_kind = {k: int(n) for k, n in frame.group_by("kind").agg(pl.col("n").sum()).sort("kind").iter_rows()}
        # One sample row per kind first, so a rare kind is not hidden behind a common one.
        firsts = frame.group_by("kind", maintain_order=True).head(1).select(frame.columns)
        sample = pl.concat([firsts, frame]).unique(maintain_order=True).head(SAMPLE)
        sample = combine([sample])
        return cls(file, count(frame), by_kind, sample.to_dicts(), describe(sample))

    def headline(self) -> str:
        kinds = ", ".join(f"{KINDS[k]} ({n})" for k, n in self.by_kind.items())
        return f"{self.file}: {self.failure_count} problem – {kinds}"


def write_report(directory: Path, file: str, problems: pl.DataFrame, *, advice: str) -> Path:
    """The quarantine report for a set-aside file: `<file>.problems.md` in Swedish for the
    person who fixes it and `<file>.problems.json` for tools. `advice` says what to do."""
    summary = Summary.of(file, problems)
    lines = [f"# Karantän: {file}", "",
             f"Filen togs inte in {time.strftime('%Y-%m-%d %H:%M:%S')} eftersom den har "
             f"{summary.failure_count} problem. {advice}", "",
             "| typ | antal |", "|---|---|"]
    lines += [f"| {KINDS[k]} | {n} |" for k, n in summary.by_kind.items()]
    lines += ["", "## Problem (fil, rad, kolumn)", ""]
    lines += [f"- {line}" for line in describe(problems, REPORT_LINES)]
    if problems.height > REPORT_LINES:
        lines.append(f"- … och {problems.height - REPORT_LINES} rader till i rapporten (se .problems.json)")
    directory.mkdir(parents=True, exist_ok=True)
    report = directory / f"{file}.problems.md"
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (directory / f"{file}.problems.json").write_text(
        json.dumps({"file": file, "failure_count": summary.failure_count,
                    "by_kind": summary.by_kind, "problems": problems.to_dicts()},
                   ensure_ascii=False, indent=1), encoding="utf-8")
    return report
