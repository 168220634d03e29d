"""Take one survey file in: size, codebook, read, check, score, store privately.

A file with any problem is quarantined and nothing of it is stored; a good file's scored
respondent rows replace its earlier version in the private store. Nothing here touches the
warehouse.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from transforms.survey_codebook import Codebook
from sources.surveys.inbox import pair, quarantine
from sources.surveys.private_store import PrivateStore
from sources.tabular.problems import Summary, empty_problems
from sources.tabular.readers import UnreadableFile, read_table
from sources.surveys.validate import DEFAULT_MAX_BYTES, apply_codebook, size_problem
from transforms.survey import score


@dataclass(frozen=True)
class Outcome:
    file: str
    codebook: str | None
    problems: pl.DataFrame = field(default_factory=empty_problems)
    respondents: int = 0
    fetched_at: str = ""
    sha256: str | None = None
    stored: Path | None = None
    quarantined: Path | None = None
    details: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.problems.height == 0

    def summary(self) -> Summary:
        return Summary.of(self.file, self.problems)


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _check(path: Path, codebooks: dict[str, Codebook], kommun_codes: set[str],
           max_bytes: int) -> tuple[Codebook | None, pl.DataFrame, object]:
    too_large = size_problem(path, max_bytes)
    if too_large is not None:
        return None, too_large, None
    book, unpaired = pair(path, codebooks)
    if book is None:
        return None, unpaired, None
    try:
        table = read_table(path, list(book.columns.roles().values()) + book.scale_items)
    except UnreadableFile as err:
        return book, err.problems, None
    checked = apply_codebook(table, book, kommun_codes)
    return book, checked.problems, (table, checked)


def take_in(path: Path, *, inbox: Path, codebooks: dict[str, Codebook], kommun_codes: set[str],
            store: PrivateStore, max_bytes: int = DEFAULT_MAX_BYTES) -> Outcome:
    """Process one inbox file; quarantine it (and store nothing) when it has problems."""
    fetched_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: survey file not in the inbox (moved or quarantined?)")
    book, problems, read = _check(path, codebooks, kommun_codes, max_bytes)
    book_id = book.id if book else None
    if problems.height:
        moved = quarantine(path, problems, inbox)
        return Outcome(path.name, book_id, problems, fetched_at=fetched_at, quarantined=moved)
    assert book is not None and read is not None
    table, checked = read
    sha = _sha256(path)
    scores = score(checked.frame, book).with_columns(
        survey_id=pl.lit(book.id), source_file=pl.lit(path.name), fetched_at=pl.lit(fetched_at),
    ).collect()
    stored = store.write_microdata(path.name, scores)
    details = {"format": table.format, "encoding": table.encoding, "delimiter": table.delimiter,
               "kommuner": scores["kommun"].n_unique(),
               "years": sorted(scores["year"].unique().to_list()),
               "value_labels": len(table.value_labels)}
    return Outcome(path.name, book_id, respondents=scores.height, fetched_at=fetched_at,
                   sha256=sha, stored=stored, details=details)
