"""Community Readiness scoring (Tri-Ethnic Center's Community Readiness Model).

Each interview is scored independently by two scorers per dimension (A–F); they then agree
a consensus score. From the consensus scores:

- dimension score = mean of the consensus scores over the interviews that have one;
- overall score = mean of the six dimension scores (over those that have a score, with a
  warning when one is missing);
- stage = the integer part of the overall score (4.89 → stage 4; never rounded up). The
  score is first rounded to 9 decimals so that a mean that is exactly 5 in decimal
  arithmetic (e.g. 4.5 and 5.5) is not truncated to 4 by binary floating point.

Inter-rater agreement before consensus, per dimension (and over all dimensions in the
stage table), over the interviews where both scorers gave a score:

- share within one point: the share of interviews with |scorer 1 − scorer 2| ≤ 1;
- quadratic weighted kappa, κ_w = 2·s₁₂ / (s₁² + s₂² + (x̄₁ − x̄₂)²), with s₁₂, s₁², s₂²
  the covariance and variances computed with divisor n. With the scores as categories
  this is exactly Cohen's (1968) weighted kappa with quadratic weights (Fleiss & Cohen
  1973; Schuster 2004, Educ. Psychol. Meas. 64:243–253, show the identity; it is also Lin's
  concordance correlation). It accepts the half points the anchored scales allow. Null
  with fewer than two pairs or when both scorers give every interview the same score.

Interviews belong to an assessment by its id (`assessment_id`, one kommun's assessment of
one issue); they may be dated differently, and the assessment's date is its latest
interview's.

Warnings (Swedish): fewer than four interviews (the model asks for 4–6), a dimension
without scores, a dimension scored in fewer interviews than the assessment has, and a
consensus score outside the two scorers' range by more than `margin` (a consensus of 8
where both scorers gave 3 is more likely a typing error than an agreement). Change since
the previous assessment: the same kommun's latest earlier assessment of the same issue
(compared case- and space-insensitively).

Stage strategies: each stage has a goal for the work that suits it (Plested, Edwards &
Jumper-Thurman 2006, *Community Readiness: A handbook for successful change*, pp. 25–26,
"stage-appropriate strategies"); `STAGE_GOALS` holds them in Swedish, and the selection
names the kinds of support whose stages (coordination.yaml) include a kommun's stage.
"""

from __future__ import annotations

import math

import polars as pl

STAGES = {
    1: "Ingen medvetenhet",
    2: "Förnekelse eller motstånd",
    3: "Vag medvetenhet",
    4: "Förplanering",
    5: "Förberedelse",
    6: "Igångsättning",
    7: "Stabilisering",
    8: "Bekräftelse och utvidgning",
    9: "Hög grad av ägarskap i samhället",
}
DIMENSIONS = {
    "A": "Insatser",
    "B": "Kännedom om insatserna",
    "C": "Ledarskap",
    "D": "Klimat",
    "E": "Kunskap om frågan",
    "F": "Resurser",
}
# The handbook's goal for each stage (Plested et al. 2006, pp. 25–26), in Swedish.
STAGE_GOALS = {
    1: "höja medvetenheten om frågan",
    2: "höja medvetenheten om att problemet finns här",
    3: "höja medvetenheten om att man lokalt kan göra något",
    4: "höja medvetenheten med konkreta idéer om vad som kan göras",
    5: "samla befintlig kunskap för att planera insatser",
    6: "ta fram lokal kunskap och starta insatser",
    7: "stabilisera insatserna",
    8: "bredda och fördjupa insatserna",
    9: "hålla uppe takten och fortsätta utveckla arbetet",
}
MIN_INTERVIEWS = 4
DECIMALS = 9
CONSENSUS_MARGIN = 0.5


def stage_of(score: float | None) -> int | None:
    """The readiness stage: the integer part of the score, never rounded up."""
    if score is None or math.isnan(score):
        return None
    return int(math.floor(round(score, DECIMALS)))


def _kappa(x: pl.Expr, y: pl.Expr) -> pl.Expr:
    """Quadratic weighted kappa of paired scores (see the module text)."""
    both = x.is_not_null() & y.is_not_null()
    x, y = x.filter(both), y.filter(both)
    mx, my = x.mean(), y.mean()
    cov = ((x - mx) * (y - my)).mean()
    den = ((x - mx) ** 2).mean() + ((y - my) ** 2).mean() + (mx - my) ** 2
    return pl.when((both.sum() >= 2) & (den > 0)).then(2 * cov / den)


def _within_one(x: pl.Expr, y: pl.Expr) -> pl.Expr:
    both = x.is_not_null() & y.is_not_null()
    return pl.when(both.sum() > 0).then(((x - y).abs() <= 1 + 1e-9).filter(both).mean())


def stage_strategy(stage: int, suitable: dict[str, list[int]], kinds: dict[str, str]) -> str:
    """What suits a stage, in Swedish: the handbook's goal and the kinds of support whose
    configured stages include it (e.g. 'stadium 4 (förplanering): arbetet bör … ; passar:
    kunskapsstöd, processtöd')."""
    fits = [kinds.get(k, k).lower() for k, stages in suitable.items() if stage in stages]
    text = f"stadium {stage} ({STAGES[stage].lower()}): arbetet bör {STAGE_GOALS[stage]}"
    return text + (f"; passar: {', '.join(fits)}" if fits else "")


def _with_assessment_dates(interviews: pl.DataFrame) -> pl.DataFrame:
    """An assessment's date is its latest interview's (interviews may be dated differently)."""
    return interviews.with_columns(assessed_on=pl.col("assessed_on").max().over("area_code", "assessment_id"))


def _outside(margin: float) -> pl.Expr:
    """The consensus lies beyond the scorers' range by more than `margin`."""
    low = pl.min_horizontal("scorer_1", "scorer_2")
    high = pl.max_horizontal("scorer_1", "scorer_2")
    return ((pl.col("consensus") < low - margin - 1e-9) | (pl.col("consensus") > high + margin + 1e-9)).fill_null(False)


def _outside_text(margin: float, with_dimension: bool) -> pl.Expr:
    """'konsensus utanför bedömarnas poäng: intervju 3 (3 och 3, konsensus 8); …'."""
    def number(c: str) -> pl.Expr:
        return pl.col(c).round(2).cast(pl.String).str.replace(r"\.0$", "").str.replace(".", ",", literal=True)
    scorers = pl.concat_str([number("scorer_1"), number("scorer_2")], separator=" och ", ignore_nulls=True)
    where = (pl.format("intervju {} dimension {}", pl.col("interview_id"), pl.col("dimension"))
             if with_dimension else pl.format("intervju {}", pl.col("interview_id")))
    case = pl.format("{} ({}, konsensus {})", where, scorers, number("consensus"))
    return case.filter(_outside(margin)).sort().str.join("; ")


def _issue_key() -> pl.Expr:
    return pl.col("issue").str.to_lowercase().str.replace_all(r"\s+", " ").str.strip_chars()


def _previous(frame: pl.DataFrame, keys: list[str], columns: list[str]) -> pl.DataFrame:
    """Each row's values from the same kommun's previous assessment of the same issue."""
    order = ["area_code", "issue_key", *keys[1:], "assessed_on", "assessment_id"]
    ordered = frame.with_columns(issue_key=_issue_key()).sort(order)
    group = ["area_code", "issue_key", *keys[1:]]
    return ordered.with_columns(
        [pl.col(c).shift(1).over(group).alias(f"previous_{c}") for c in columns]).drop("issue_key")


READINESS_SCHEMA = {
    "area_code": pl.String, "assessment_id": pl.String, "assessed_on": pl.Date, "issue": pl.String,
    "dimension": pl.String, "dimension_label": pl.String, "score": pl.Float64,
    "n_interviews": pl.Int32, "agreement_within_one": pl.Float64, "weighted_kappa": pl.Float64,
    "previous_score": pl.Float64, "change": pl.Float64, "warning": pl.String,
}


def dimension_scores(interviews: pl.DataFrame, margin: float = CONSENSUS_MARGIN) -> pl.DataFrame:
    """marts.readiness: one row per kommun × assessment × dimension.

    `interviews`: area_code, assessment_id, assessed_on (the interview's date), issue,
    interview_id, dimension, scorer_1, scorer_2, consensus (one row per interview and
    dimension). `margin`: how far a consensus may lie outside the scorers' range unwarned.
    """
    interviews = _with_assessment_dates(interviews)
    keys = ["area_code", "assessment_id", "assessed_on", "issue"]
    totals = interviews.group_by(keys).agg(total=pl.col("interview_id").n_unique())
    grid = totals.join(pl.DataFrame({"dimension": list(DIMENSIONS)}), how="cross")
    scored = interviews.group_by([*keys, "dimension"]).agg(
        score=pl.col("consensus").mean(),
        n_interviews=pl.col("consensus").is_not_null().sum().cast(pl.Int32),
        agreement_within_one=_within_one(pl.col("scorer_1"), pl.col("scorer_2")),
        weighted_kappa=_kappa(pl.col("scorer_1"), pl.col("scorer_2")),
        outside=_outside_text(margin, with_dimension=False),
    )
    frame = grid.join(scored, on=[*keys, "dimension"], how="left").with_columns(
        n_interviews=pl.col("n_interviews").fill_null(0))
    warning = (
        pl.when(pl.col("n_interviews") == 0)
        .then(pl.format("dimension {} saknar poäng", pl.col("dimension")))
        .when(pl.col("n_interviews") < pl.col("total"))
        .then(pl.format("poäng finns bara för {} av {} intervjuer", pl.col("n_interviews"),
                        pl.col("total"))))
    few = pl.when(pl.col("total") < MIN_INTERVIEWS).then(
        pl.format("bara {} intervjuer (modellen kräver 4–6)", pl.col("total")))
    outside = pl.when(pl.col("outside") != "").then(
        pl.format("konsensus utanför bedömarnas poäng: {}", pl.col("outside")))
    frame = frame.with_columns(warning=pl.concat_str([few, warning, outside], separator="; ", ignore_nulls=True))
    frame = _previous(frame, [*keys[:1], "dimension"], ["score"]).with_columns(
        change=pl.col("score") - pl.col("previous_score"),
        dimension_label=pl.col("dimension").replace_strict(DIMENSIONS),
        warning=pl.when(pl.col("warning") != "").then("warning"))
    return frame.select(list(READINESS_SCHEMA)).cast(READINESS_SCHEMA).sort(
        "area_code", "assessed_on", "assessment_id", "dimension")


STAGE_SCHEMA = {
    "area_code": pl.String, "assessment_id": pl.String, "assessed_on": pl.Date, "issue": pl.String,
    "score": pl.Float64, "stage": pl.Int8, "stage_label": pl.String, "lowest_dimension": pl.String,
    "lowest_dimension_label": pl.String, "n_interviews": pl.Int32,
    "n_dimensions": pl.Int32, "agreement_within_one": pl.Float64, "weighted_kappa": pl.Float64,
    "previous_stage": pl.Int8, "previous_score": pl.Float64, "change": pl.Float64,
    "prevention_star": pl.String, "warning": pl.String,
}


def stages(interviews: pl.DataFrame, dimensions: pl.DataFrame,
           margin: float = CONSENSUS_MARGIN) -> pl.DataFrame:
    """marts.readiness_stage: one row per kommun × assessment, from `dimension_scores`.

    An optional `prevention_star` column of the interviews (codes, comma-separated) says
    which points of the Preventionsstjärnan the assessment's issue concerns.
    """
    interviews = _with_assessment_dates(interviews)
    if "prevention_star" not in interviews.columns:
        interviews = interviews.with_columns(prevention_star=pl.lit(None, dtype=pl.String))
    keys = ["area_code", "assessment_id", "assessed_on", "issue"]
    agreement = interviews.group_by(keys).agg(
        n_interviews=pl.col("interview_id").n_unique().cast(pl.Int32),
        agreement_within_one=_within_one(pl.col("scorer_1"), pl.col("scorer_2")),
        weighted_kappa=_kappa(pl.col("scorer_1"), pl.col("scorer_2")),
        outside=_outside_text(margin, with_dimension=True),
        prevention_star=pl.col("prevention_star").drop_nulls().str.split(",").list.explode()
        .unique().sort().str.join(","))
    scored = dimensions.filter(pl.col("score").is_not_null())
    lowest = (scored.sort([*keys, "score", "dimension"]).group_by(keys, maintain_order=True)
              .agg(lowest_dimension=pl.col("dimension").first()))
    unscored = pl.col("dimension").filter(pl.col("score").is_null()).sort().str.join(", ")
    overall = dimensions.group_by(keys).agg(
        score=pl.col("score").mean(), n_dimensions=pl.col("score").is_not_null().sum().cast(pl.Int32),
        unscored=unscored)
    frame = (overall.join(agreement, on=keys, how="left").join(lowest, on=keys, how="left")
             .with_columns(stage=pl.col("score").map_elements(stage_of, return_dtype=pl.Int8)))
    few = pl.when(pl.col("n_interviews") < MIN_INTERVIEWS).then(
        pl.format("bara {} intervjuer (modellen kräver 4–6)", pl.col("n_interviews")))
    gaps = pl.when(pl.col("unscored") != "").then(
        pl.format("dimension {} saknar poäng; stadiet bygger på {} av 6 dimensioner",
                  pl.col("unscored"), pl.col("n_dimensions")))
    outside = pl.when(pl.col("outside") != "").then(
        pl.format("konsensus utanför bedömarnas poäng: {}", pl.col("outside")))
    frame = frame.with_columns(
        warning=pl.concat_str([few, gaps, outside], separator="; ", ignore_nulls=True),
        prevention_star=pl.when(pl.col("prevention_star") != "").then("prevention_star"))
    frame = _previous(frame, keys[:1], ["stage", "score"]).with_columns(
        change=pl.col("score") - pl.col("previous_score"),
        stage_label=pl.col("stage").replace_strict(STAGES, default=None, return_dtype=pl.String),
        lowest_dimension_label=pl.col("lowest_dimension").replace_strict(DIMENSIONS, default=None),
        warning=pl.when(pl.col("warning") != "").then("warning"))
    return frame.select(list(STAGE_SCHEMA)).cast(STAGE_SCHEMA).sort(
        "area_code", "assessed_on", "assessment_id")
