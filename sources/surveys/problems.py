"""Problems found in a survey file, each naming the file, the row and the column.

Rows are numbered as the person who fixes the file sees them: in CSV and XLSX the header is
row 1 and the first respondent row 2; in an SPSS file, row N is case N in the Data View.
The messages are in Swedish: they are read by the people who deliver the files.
Problems are kept as a polars frame so that a file with a bad code in every one of its
300,000 rows is summarised as fast as a file with one.
"""

from __future__ import annotations

from dataclasses import dataclass

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
}

SCHEMA = {"file": pl.String, "row": pl.Int64, "column": pl.String, "kind": pl.String,
          "value": pl.String, "message": pl.String}
SAMPLE = 20


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
