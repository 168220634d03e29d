"""From the private store to the published survey cells (staging.survey_value).

Reads every stored survey file's scored respondents, resolves the cut-points per codebook
(percentiles need all files of the codebook, which is why flags are set here and not per
file), writes each file's unsuppressed kommun cells back to the private store, and returns
the län/ALLA-aggregated, disclosure-controlled cells.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from transforms.survey_codebook import MIN_RESPONDENTS, Codebook
from sources.surveys.private_store import PrivateStore
from transforms.survey import (area_cells, combine_files, empty_values, kommun_cells,
                               resolve_cuts, survey_values)


@dataclass(frozen=True)
class SurveyTables:
    values: pl.DataFrame
    cuts: pl.DataFrame
    files: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)  # stored files whose codebook is gone


def build_survey_values(store: PrivateStore, codebooks: dict[str, Codebook],
                        min_respondents: int = MIN_RESPONDENTS) -> SurveyTables:
    stored = {p.name.removesuffix(".parquet"): store.read_microdata(p) for p in store.microdata_files()}
    by_book: dict[str, dict[str, pl.DataFrame]] = {}
    orphans = []
    for name, frame in stored.items():
        book_id = frame["survey_id"][0] if frame.height else None
        if book_id not in codebooks:
            orphans.append(name)
            continue
        by_book.setdefault(book_id, {})[name] = frame
    per_file, cuts = [], []
    for book_id, files in sorted(by_book.items()):
        book = codebooks[book_id]
        book_cuts = resolve_cuts(pl.concat(files.values(), how="diagonal"), book)
        cuts.append(book_cuts)
        for name, frame in sorted(files.items()):
            cells = kommun_cells(frame, book, book_cuts).with_columns(
                source_file=pl.lit(name), fetched_at=pl.lit(frame["fetched_at"][0]))
            store.write_cells(name, cells)
            per_file.append(cells)
    if not per_file:
        return SurveyTables(empty_values(), pl.DataFrame(), [], orphans)
    all_cuts = pl.concat(cuts)
    store.write_cut_values(all_cuts)
    weighted = {b.id: b.columns.weight is not None for b in codebooks.values()}
    values = survey_values(area_cells(combine_files(per_file)), weighted, min_respondents)
    return SurveyTables(values, all_cuts, sorted(f for files in by_book.values() for f in files), orphans)
