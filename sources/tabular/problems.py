"""Problems found in a delivered file (a survey extract or a local register), each naming
the file, the row and the column.

Rows are numbered as the person who fixes the file sees them: in CSV and XLSX the header is
row 1 and the first data row 2 (an XLSX title row above the header shifts both); in an SPSS
file, row N is case N in the Data View.
The messages are in Swedish: they are read by the people who deliver the files.
Problems are kept as a polars frame so that a file with a bad code in every one of its
300,000 rows is summarised as fast as a file with one.
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
    "impossible_value": "omöjligt värde",
    "duplicate_id": "dubblerat svars-id",
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
}

SCHEMA = {"file": pl.String, "row": pl.Int64, "column": pl.String, "kind": pl.String,
          "value": pl.String, "message": pl.String}
SAMPLE = 20
REPORT_LINES = 200


def problem(file: str, kind: str, message: str, *, row: int | None = None,
            column: str | None = None, value: str | None = None) -> pl.DataFrame:
    """One problem as a one-row frame."""
    if kind not in KINDS:
        raise ValueError(f"unknown problem kind {kind!r}")
    return pl.DataFrame([{"file": file, "row": row, "column": column, "kind": kind,
                          "value": value, "message": message}], schema=SCHEMA)


def empty_problems() -> pl.DataFrame:
    return pl.DataFrame(schema=SCHEMA)


def combine(frames: list[pl.DataFrame]) -> pl.DataFrame:
    frames = [f for f in frames if f.height]
    if not frames:
        return empty_problems()
    return pl.concat(frames, how="vertical").sort("row", "column", "kind", nulls_last=False)


def describe(frame: pl.DataFrame, limit: int | None = None) -> list[str]:
    """Problems as lines: '<fil>, rad <n>, kolumn <c>: <meddelande>'."""
    rows = frame if limit is None else frame.head(limit)
    return [format_line(r) for r in rows.iter_rows(named=True)]


def format_line(r: dict) -> str:
    where = [r["file"]]
    where.append(f"rad {r['row']}" if r["row"] is not None else "rad – (hela filen)")
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
        by_kind = dict(sorted(frame.group_by("kind").len().iter_rows()))
        # One sample row per kind first, so a rare kind is not hidden behind a common one.
        firsts = frame.group_by("kind", maintain_order=True).head(1).select(frame.columns)
        sample = pl.concat([firsts, frame]).unique(maintain_order=True).head(SAMPLE)
        return cls(file, frame.height, by_kind, sample.to_dicts(), describe(sample))

    def headline(self) -> str:
        kinds = ", ".join(f"{KINDS[k]} ({n})" for k, n in self.by_kind.items())
        return f"{self.file}: {self.failure_count} problem – {kinds}"


def write_report(directory: Path, file: str, problems: pl.DataFrame, *, advice: str) -> None:
    """The quarantine report next to a set-aside file: `<file>.problems.md` in Swedish for
    the person who fixes it and `<file>.problems.json` for tools. `advice` says what to do."""
    summary = Summary.of(file, problems)
    lines = [f"# Karantän: {file}", "",
             f"Filen flyttades hit {time.strftime('%Y-%m-%d %H:%M:%S')} eftersom den har "
             f"{summary.failure_count} problem. {advice}", "",
             "| typ | antal |", "|---|---|"]
    lines += [f"| {KINDS[k]} | {n} |" for k, n in summary.by_kind.items()]
    lines += ["", "## Problem (fil, rad, kolumn)", ""]
    lines += [f"- {line}" for line in describe(problems, REPORT_LINES)]
    if problems.height > REPORT_LINES:
        lines.append(f"- … och {problems.height - REPORT_LINES} till (se .problems.json)")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{file}.problems.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (directory / f"{file}.problems.json").write_text(
        json.dumps({"file": file, "failure_count": summary.failure_count,
                    "by_kind": summary.by_kind, "problems": problems.to_dicts()},
                   ensure_ascii=False, indent=1), encoding="utf-8")
