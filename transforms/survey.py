"""Survey scales and prevalences, from checked respondent rows to published cells.

1. `score`: per respondent and scale, the mean of the answered items after reverse coding
   (reversed = min + max − code), or null with fewer than the scale's `min_items` answers.
2. `resolve_cuts`: absolute cut-points as given; percentile cut-points from the codebook's
   reference population, named waves (per reference year the percentile among reference
   respondents with a score, unweighted; then the mean over years, as Data i Dialog does).
   The caller keeps them per codebook version, so a new wave never moves them.
3. `kommun_cells`: per indicator (scale × cut), kommun × year × grade × sex: respondents
   with a score (n), those flagged (n_flag) and the weighted sums (w, w_flag). Sex T counts
   every respondent, missing sex included; grade `all` every grade, missing included.
4. `full_grid`: every kommun × grade × sex a wave covers (kommuner and grades with any
   respondent in it), empty cells included as 0, so that which rows exist says nothing.
5. `area_cells`: the kommun cells plus län (first two digits of the kommun code) and
   `ALLA`, everyone in the files, as sums.
6. `survey_values`: numerator, denominator and value per cell, then disclosure control
   (transforms/survey_privacy.py).

Weights: the denominator is always the number of respondents with a score (n), so that the
disclosure rule rests on real respondents. With a weight column the share is the weighted
one, Σw·flag / Σw, and the numerator a *weighted count*, n × that share (so that numerator /
denominator is the weighted share; it need not be whole, and girls and boys need not add up
to the total); `effective_n`, Kish's (Σw)²/Σw², gives the share's interval its sample size
(transforms/intervals.py::wilson_weighted). Without weights the numerator is the count flagged.
"""

from __future__ import annotations

import polars as pl

from transforms.survey_codebook import Codebook, Cut
from transforms.survey_privacy import Protected, Protection, protect

SCORE = "score__"
CELL_KEYS = ["survey_id", "indicator_id", "scale", "period", "area_code", "sex", "breakdown"]
SUMS = ["n", "n_flag", "w", "w_flag", "w2"]
OUTPUT_SCHEMA = {
    "indicator_id": pl.String,
    "area_code": pl.String,
    "area_type": pl.String,
    "period": pl.Int32,
    "sex": pl.String,
    "breakdown": pl.String,
    "numerator": pl.Float64,
    "denominator": pl.Float64,
    "value": pl.Float64,
    "effective_n": pl.Float64,
    "status": pl.String,
    "status_reason": pl.String,
    "survey_id": pl.String,
    "source_title": pl.String,
    "fetched_at": pl.String,
}
TOTAL_AREA = "ALLA"
# A float sum depends on the order its parts are added in, and polars' threads change that
# order from run to run: a replayed build would differ in the last bit. Sums are taken as
# integers in units of 2^-60 (exact for every weight ≥ 2^-7, order-free) and rounded to a
# float once, so every run gives the same bytes.
FIXED_POINT = float(2**60)


def exact_sum(expr: pl.Expr) -> pl.Expr:
    return (expr * FIXED_POINT).cast(pl.Int128).sum().cast(pl.Float64) / FIXED_POINT


def _sums() -> list[pl.Expr]:
    return [exact_sum(pl.col(c)).alias(c) for c in SUMS]


class SurveyReferenceError(ValueError):
    """A percentile cut-point has no reference population to come from."""


def score(frame: pl.DataFrame | pl.LazyFrame, book: Codebook) -> pl.LazyFrame:
    """Respondent rows with one `score__<scale>` column per scale (items dropped)."""
    exprs = []
    for name, scale in book.scales.items():
        spec = book.item(scale.items[0])
        values = [(spec.low + spec.high - pl.col(i)) if i in scale.reverse else pl.col(i)
                  for i in scale.items]
        answered = pl.sum_horizontal([pl.col(i).is_not_null() for i in scale.items])
        mean = pl.sum_horizontal(values) / answered
        exprs.append(pl.when(answered >= scale.min_items).then(mean).alias(SCORE + name))
    return frame.lazy().select("respondent_id", "kommun", "year", "grade", "sex", "weight", *exprs)


def _flag(score_col: pl.Expr, cut: Cut, threshold: float) -> pl.Expr:
    return {">": score_col > threshold, ">=": score_col >= threshold,
            "<": score_col < threshold, "<=": score_col <= threshold}[cut.op]


def resolve_cuts(scores: pl.DataFrame, book: Codebook) -> pl.DataFrame:
    """One row per scale × cut: the threshold used and where it comes from.

    `scores` are all scored respondents of this codebook (every file and year).
    """
    rows = []
    for name, scale in book.scales.items():
        for cut_id, cut in scale.cuts.items():
            row = {"survey_id": book.id, "indicator_id": book.indicator_id(name, cut_id),
                   "scale": name, "cut": cut_id, "op": cut.op, "percentile": cut.percentile,
                   "threshold": cut.value, "reference_n": None, "reference_years": None}
            if cut.percentile is not None:
                row.update(_percentile(scores, book, name, cut.percentile))
            rows.append(row)
    return pl.DataFrame(rows, schema={
        "survey_id": pl.String, "indicator_id": pl.String, "scale": pl.String, "cut": pl.String,
        "op": pl.String, "percentile": pl.Float64, "threshold": pl.Float64,
        "reference_n": pl.Int64, "reference_years": pl.String})


def _percentile(scores: pl.DataFrame, book: Codebook, scale: str, percentile: float) -> dict:
    ref = book.reference
    assert ref is not None  # the codebook model requires it for percentile cuts
    rows = scores.lazy().filter(pl.col(SCORE + scale).is_not_null(), pl.col("year").is_in(ref.years))
    if ref.municipalities:
        rows = rows.filter(pl.col("kommun").is_in(ref.municipalities))
    yearly = (rows.group_by("year")
              .agg(q=pl.col(SCORE + scale).quantile(percentile / 100, "linear"), n=pl.len())
              .sort("year").collect())
    absent = sorted(set(ref.years) - set(yearly["year"].to_list()))
    if absent:
        where = (f"kommunerna {', '.join(ref.municipalities)}" if ref.municipalities else "alla kommuner")
        raise SurveyReferenceError(
            f"kodboken {book.id}: skalan {scale!r}: referensåren {', '.join(map(str, absent))} "
            f"({where}) finns inte bland de inlästa filerna, så percentilgränserna kan inte "
            "räknas; lägg in referensårens filer (gränserna räknas en gång per kodboksversion)")
    return {"threshold": float(yearly["q"].mean()), "reference_n": int(yearly["n"].sum()),
            "reference_years": ",".join(str(y) for y in yearly["year"].to_list())}


def _rollup(cells: pl.LazyFrame, column: str, total: str) -> pl.LazyFrame:
    keys = [c for c in ["indicator_id", "scale", "kommun", "year", "grade", "sex"] if c != column]
    summed = cells.group_by(keys).agg(_sums()).with_columns(pl.lit(total).alias(column))
    return pl.concat([cells.filter(pl.col(column).is_not_null()), summed.select(cells.collect_schema().names())])


def kommun_cells(scores: pl.DataFrame | pl.LazyFrame, book: Codebook,
                 cuts: pl.DataFrame) -> pl.DataFrame:
    """Unsuppressed cell sums per indicator × kommun × year × grade × sex (private)."""
    frames = []
    scores = scores.lazy()
    for name, scale in book.scales.items():
        col = pl.col(SCORE + name)
        valid = col.is_not_null()
        for cut_id, cut in scale.cuts.items():
            threshold = cuts.filter(pl.col("indicator_id") == book.indicator_id(name, cut_id))["threshold"][0]
            flag = _flag(col, cut, threshold) & valid
            frames.append(scores.group_by("kommun", "year", "grade", "sex").agg(
                n=valid.sum().cast(pl.Float64),
                n_flag=flag.sum().cast(pl.Float64),
                w=exact_sum(pl.col("weight").filter(valid)),
                w_flag=exact_sum(pl.col("weight").filter(flag)),
                w2=exact_sum((pl.col("weight") * pl.col("weight")).filter(valid)),
            ).with_columns(indicator_id=pl.lit(book.indicator_id(name, cut_id)), scale=pl.lit(name)))
    base = pl.concat(frames)
    cells = _rollup(_rollup(base, "sex", "T"), "grade", "all")
    return (cells.filter(pl.col("n") > 0)
            .select(survey_id=pl.lit(book.id), indicator_id="indicator_id", scale="scale",
                    period=pl.col("year").cast(pl.Int32), area_code="kommun", sex="sex",
                    breakdown="grade", n="n", n_flag="n_flag", w="w", w_flag="w_flag", w2="w2")
            .collect().sort(CELL_KEYS))


def full_grid(cells: pl.DataFrame) -> pl.DataFrame:
    """Kommun cells on the full grid of each wave: every kommun × grade × sex it covers.

    A wave (survey × year) covers the kommuner and grades with any respondent in it; a
    missing combination is an empty cell (n = 0), so it is published, hidden, like any
    small one."""
    wave = ["survey_id", "period"]
    if cells.height == 0:
        return cells
    kommuner = cells.select(*wave, "area_code").unique()
    grades = cells.select(*wave, "breakdown").unique()
    indicators = cells.select(*wave, "indicator_id", "scale").unique()
    sexes = pl.DataFrame({"sex": ["K", "M", "T"]})
    grid = (indicators.join(kommuner, on=wave).join(grades, on=wave).join(sexes, how="cross"))
    filled = grid.join(cells, on=CELL_KEYS, how="left", nulls_equal=True).with_columns(
        [pl.col(c).fill_null(0.0) for c in SUMS],
        fetched_at=pl.col("fetched_at").fill_null(pl.col("fetched_at").max().over(wave)))
    return filled.select(cells.columns).sort(CELL_KEYS)


def area_cells(kommun: pl.DataFrame) -> pl.DataFrame:
    """Kommun cells with their län and ALLA sums; `area_type` and `parent` added."""
    keys = ["survey_id", "indicator_id", "scale", "period", "sex", "breakdown"]
    kommun = kommun.with_columns(area_type=pl.lit("kommun"), parent=pl.col("area_code").str.slice(0, 2))
    lan = (kommun.group_by(*keys, "parent").agg(*_sums(), pl.col("fetched_at").max())
           .with_columns(area_code="parent", area_type=pl.lit("lan"), parent=pl.lit(TOTAL_AREA)))
    total = (kommun.group_by(keys).agg(*_sums(), pl.col("fetched_at").max())
             .with_columns(area_code=pl.lit(TOTAL_AREA), area_type=pl.lit("total"),
                           parent=pl.lit(None, pl.String)))
    columns = kommun.columns
    return pl.concat([kommun, lan.select(columns), total.select(columns)]).sort(CELL_KEYS)


def combine_files(per_file: list[pl.DataFrame]) -> pl.DataFrame:
    """Sum kommun cells of several files of one codebook (e.g. two deliveries for a year)."""
    cells = pl.concat(per_file)
    return cells.group_by(CELL_KEYS).agg(*_sums(), pl.col("fetched_at").max()).sort(CELL_KEYS)


def survey_values(cells: pl.DataFrame, weighted: dict[str, bool],
                  protection: Protection | int = Protection(),
                  history: dict[tuple[str, int], list[pl.DataFrame]] | None = None,
                  titles: dict[tuple[str, int], str] | None = None) -> Protected:
    """The published contract (OUTPUT_SCHEMA) as `cells`: values per cell, disclosure
    applied; the private reasons of the hidden cells; and per block the audit.

    `history` holds earlier released versions of each wave (see protect); `titles` the
    published source of each (survey_id, period), the survey and wave (never a file name)."""
    if isinstance(protection, int):
        protection = Protection(min_respondents=protection)
    is_weighted = pl.col("survey_id").replace_strict(weighted, default=False, return_dtype=pl.Boolean)
    valued = cells.with_columns(
        numerator=pl.when(is_weighted).then(pl.col("n") * pl.col("w_flag") / pl.col("w"))
        .otherwise(pl.col("n_flag")),
        denominator=pl.col("n"),
        # Kish's effective sample size, for the weighted share's interval (fact table).
        effective_n=pl.when(is_weighted & (pl.col("w2") > 0)).then(pl.col("w") * pl.col("w") / pl.col("w2")),
    ).with_columns(value=pl.when(pl.col("n") > 0).then(100 * pl.col("numerator") / pl.col("denominator")))
    protected = protect(valued, protection, history)
    titles = titles or {}
    title = pl.struct("survey_id", "period").map_elements(
        lambda r: titles.get((r["survey_id"], int(r["period"])), f"{r['survey_id']} {r['period']}"),
        return_dtype=pl.String)
    hidden = pl.col("status") == "suppressed"
    values = (protected.cells.with_columns([pl.when(~hidden).then(pl.col(c)).alias(c)
                                            for c in ("numerator", "denominator", "value", "effective_n")],
                                           source_title=title)
              .select([pl.col(c).cast(t) for c, t in OUTPUT_SCHEMA.items()])
              .sort("indicator_id", "period", "area_type", "area_code", "sex", "breakdown"))
    return Protected(values, protected.reasons, protected.audit)


def empty_values() -> pl.DataFrame:
    return pl.DataFrame(schema=OUTPUT_SCHEMA)
