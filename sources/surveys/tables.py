"""From the private store to the published survey cells (staging.survey_value).

Reads every stored survey file's scored respondents, takes each codebook's cut-points
(percentiles are computed once per codebook version from the named reference waves and kept
in the private store, so a new wave never moves them), writes each file's unsuppressed
kommun cells back to the private store, and returns the full grid of län/ALLA-aggregated,
disclosure-controlled cells.

A wave (survey × year) is released in versions: the true cells and what was shown of every
version are kept privately (`released/`). When the stored files of a wave change (a
supplement, a replacement, a withdrawal), the new version is audited against every earlier
one as well (transforms/survey_privacy.py); an unchanged wave keeps its pattern as it was.
A codebook that cannot be used (its reference waves are missing, its reference changed
without a new version) is left out with the reason; the others go on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import polars as pl

from sources.geography import load_kommuner
from sources.surveys.private_store import CUTS, RELEASED, PrivateStore
from sources.surveys.releases import (AUDIT_SCHEMA, all_recorded, describe_change, number,
                                      public_releases, record, recorded, summary_lines)
from transforms.survey import (area_cells, combine_files, empty_values, full_grid, kommun_cells,
                               resolve_cuts, survey_values, SurveyReferenceError)
from transforms.survey_codebook import Codebook
from transforms.survey_privacy import PATTERN_KEYS, Protection

RELEASE_KEYS = [*PATTERN_KEYS, "indicator_id"]
# A new version of a wave that shows this much less than the version before is warned about.
SHOWN_WARNING = 0.10


def all_recorded_empty() -> pl.DataFrame:
    return pl.DataFrame(schema=AUDIT_SCHEMA)


@dataclass(frozen=True)
class SurveyTables:
    values: pl.DataFrame
    cuts: pl.DataFrame
    files: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)  # stored files whose codebook is gone
    left_out: dict[str, str] = field(default_factory=dict)  # codebook → why it is not published
    versions: dict[str, int] = field(default_factory=dict)  # "<survey> <year>" → released version
    withdrawn: list[str] = field(default_factory=list)  # stored files withdrawn by deleting them
    releases: pl.DataFrame = field(default_factory=lambda: public_releases(all_recorded_empty(), {}))
    changes: list[str] = field(default_factory=list)  # Swedish lines: waves released anew this build
    revised: list[str] = field(default_factory=list)  # … of which new versions of released waves
    shrunk: list[str] = field(default_factory=list)  # waves that show much less than before


class CutPointError(ValueError):
    """A codebook's reference changed but its version did not."""


def _reference_spec(book: Codebook) -> str:
    cuts = {f"{s}.{c}": cut.model_dump() for s, scale in book.scales.items()
            for c, cut in scale.cuts.items() if cut.percentile is not None}
    ref = book.reference.model_dump() if book.reference else None
    return json.dumps({"reference": ref, "cuts": cuts,
                       "scales": {s: sc.model_dump(include={"items", "reverse", "min_items"})
                                  for s, sc in book.scales.items()}}, sort_keys=True, ensure_ascii=False)


def cut_points(store: PrivateStore, book: Codebook, scores: pl.DataFrame) -> pl.DataFrame:
    """The codebook version's cut-points: computed once from its reference, then kept."""
    path = store.root / CUTS / f"{book.id}-v{book.version}.parquet"
    spec = _reference_spec(book)
    if path.exists():
        kept = pl.read_parquet(path)
        if kept["spec"][0] != spec:
            raise CutPointError(
                f"kodboken {book.id} har ändrad referens, skalor eller percentilgränser men "
                f"samma version ({book.version}); gränserna räknades med den gamla. Höj "
                "'version' i kodboken, så räknas nya gränser och visas som en ny version")
        return kept.drop("spec")
    cuts = resolve_cuts(scores, book)
    store.write_frame(cuts.with_columns(spec=pl.lit(spec)), path)
    return cuts


def _released(store: PrivateStore, survey: str, period: int) -> pl.DataFrame | None:
    path = store.root / RELEASED / f"{survey}-{period}.parquet"
    return pl.read_parquet(path) if path.exists() else None


def build_survey_values(store: PrivateStore, codebooks: dict[str, Codebook],
                        protection: Protection | int = Protection()) -> SurveyTables:
    if isinstance(protection, int):
        protection = Protection(min_respondents=protection)
    withdrawn = store.stale_files()
    for name in withdrawn:  # the raw file was deleted by hand: withdraw the rest too
        store.remove_file(name)
    stored = {p.name.removesuffix(".parquet"): store.read_microdata(p) for p in store.microdata_files()}
    by_book: dict[str, dict[str, pl.DataFrame]] = {}
    orphans = []
    for name, frame in stored.items():
        book_id = frame["survey_id"][0] if frame.height else None
        if book_id not in codebooks:
            orphans.append(name)
            continue
        by_book.setdefault(book_id, {})[name] = frame
    per_file, cuts, left_out = [], [], {}
    for book_id, files in sorted(by_book.items()):
        book = codebooks[book_id]
        try:
            book_cuts = cut_points(store, book, pl.concat(files.values(), how="diagonal"))
        except (SurveyReferenceError, CutPointError) as err:
            left_out[book_id] = str(err)
            continue
        cuts.append(book_cuts)
        for name, frame in sorted(files.items()):
            cells = kommun_cells(frame, book, book_cuts).with_columns(
                fetched_at=pl.lit(frame["fetched_at"][0]))
            store.write_cells(name, cells)
            per_file.append(cells)
    used = sorted(f for b, files in by_book.items() if b not in left_out for f in files)
    if not per_file:
        return SurveyTables(empty_values(), pl.concat(cuts) if cuts else pl.DataFrame(), used,
                            orphans, left_out, {}, withdrawn)
    all_cuts = pl.concat(cuts)
    store.write_cut_values(all_cuts)
    cells = area_cells(full_grid(combine_files(per_file)))
    waves = sorted(cells.select("survey_id", "period").unique().iter_rows())
    history, versions = {}, {}
    for survey, period in waves:
        released = _released(store, survey, int(period))
        if released is not None:
            history[(survey, int(period))] = [v.drop("version") for v in
                                              released.partition_by("version", maintain_order=True)]
    weighted = {b.id: b.columns.weight is not None for b in codebooks.values()}
    # An unchanged wave keeps its latest pattern; a changed or new one is protected anew.
    protected = survey_values(cells, weighted, protection, history, titles=None)
    values, reasons = protected.cells, protected.reasons
    shown = values.select(*[k for k in RELEASE_KEYS if k not in ("scale", "parent")],
                          shown=pl.col("status") == "ok")
    truth = (cells.select(*RELEASE_KEYS, "n", "n_flag")
             .join(shown, on=[k for k in RELEASE_KEYS if k not in ("scale", "parent")], how="left")
             .join(reasons, on=PATTERN_KEYS, how="left", nulls_equal=True))
    titles, current, changes, revised, shrunk = {}, {}, [], [], []
    names = _kommun_names()
    for survey, period in waves:
        wave = truth.filter(pl.col("survey_id") == survey, pl.col("period") == period).sort(RELEASE_KEYS, nulls_last=True)
        earlier = history.get((survey, int(period)), [])
        version = len(earlier)
        new_version = not earlier or not _same_cells(earlier[-1], wave)
        if new_version:
            version += 1
            _record(store, survey, int(period), earlier, wave, version)
        versions[f"{survey} {period}"] = version
        current[(survey, int(period))] = version
        book = codebooks[survey]
        titles[(survey, int(period))] = (f"{book.name}, omgång {period}"
                                         + (f", version {version}" if version > 1 else "")
                                         + (f" (kodbok version {book.version})" if book.version > 1 else ""))
        kept = recorded(store, survey, int(period))
        if new_version or version not in kept["version"].to_list():
            before = earlier[-1] if new_version and earlier else (earlier[-2] if len(earlier) > 1 else None)
            kind, text = describe_change(before, wave, names, {s: sc.title for s, sc in book.scales.items()})
            rows = _audit_rows(protected.audit, wave, survey, int(period), version, kind, text)
            record(store, survey, int(period), rows)
            if new_version:
                changes += summary_lines(rows, titles)
                revised += summary_lines(rows, titles) if version > 1 else []
                previous = kept.filter(pl.col("version") == version - 1)["cells_shown"].sum()
                now = rows["cells_shown"].sum()
                if previous and now < (1 - SHOWN_WARNING) * previous:
                    shrunk.append(f"{titles[(survey, int(period))]} visar {number(now)} celler mot "
                                  f"{number(previous)} i version {version - 1} "
                                  f"({100 * (now - previous) / previous:.0f} %)".replace("-", "−"))
    values = values.with_columns(source_title=pl.struct("survey_id", "period").map_elements(
        lambda r: titles[(r["survey_id"], int(r["period"]))], return_dtype=pl.String))
    store.write_frame(reasons, store.root / "suppression.parquet")
    return SurveyTables(values, all_cuts, used, orphans, left_out, versions, withdrawn,
                        public_releases(all_recorded(store), current), changes, revised, shrunk)


def _kommun_names() -> dict[str, str]:
    kommuner = load_kommuner()
    return dict(zip(kommuner["kommun_code"].to_list(), kommuner["kommun_name"].to_list(), strict=True))


def _audit_rows(audit: pl.DataFrame, wave: pl.DataFrame, survey: str, period: int, version: int,
                kind: str, text: str) -> pl.DataFrame:
    """A release's audit per scale, with the respondents in kommuner whose total is shown."""
    totals = (wave.filter(pl.col("area_type") == "kommun", pl.col("sex") == "T", pl.col("breakdown") == "all",
                          pl.col("shown"))
              .group_by("scale", "indicator_id").agg(pl.col("n").sum())
              .sort("scale", "indicator_id").group_by("scale", maintain_order=True).first()
              .select("scale", pupils_covered=pl.col("n").cast(pl.Int64)))
    return (audit.filter(pl.col("survey_id") == survey, pl.col("period") == period)
            .join(totals, on="scale", how="left")
            .select(survey_id=pl.lit(survey), period=pl.lit(period, pl.Int32), version=pl.lit(version, pl.Int32),
                    scale="scale", change=pl.lit(kind), change_text=pl.lit(text), cells="cells",
                    cells_shown="shown", cells_publishable="publishable",
                    pupils_covered=pl.col("pupils_covered").fill_null(0), pinned="pinned",
                    narrowed="narrowed"))


def _same_cells(old: pl.DataFrame, new: pl.DataFrame) -> bool:
    cols = [*RELEASE_KEYS, "n", "n_flag"]
    a = old.select(cols).sort(RELEASE_KEYS, nulls_last=True)
    b = new.select(cols).sort(RELEASE_KEYS, nulls_last=True)
    return a.equals(b)


def _record(store: PrivateStore, survey: str, period: int, earlier: list[pl.DataFrame],
            wave: pl.DataFrame, version: int) -> None:
    frames = [v.with_columns(version=pl.lit(i + 1)) for i, v in enumerate(earlier)]
    frames.append(wave.with_columns(version=pl.lit(version)))
    store.write_frame(pl.concat(frames, how="diagonal_relaxed"),
                      store.root / RELEASED / f"{survey}-{period}.parquet")
