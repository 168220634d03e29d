"""Hälsoekonomi: what late intervention costs now, and what prevention could save.

Two numbers that are never mixed (research/next-capabilities.md §1.3):

(a) **Late-intervention cost (facts, fiscal, annual).** Kolada's cost KPIs (kr per resident,
    current prices) restated in a fixed price year,

        value_fixed = value × I(price_year) / I(year),

    with I a stated index (data/catalog/late_cost.yaml). The total is value × residents (the
    KPI's own denominator from SCB's population). Län and riket are Σ total / Σ residents
    over their kommuner with a value (never a mean of kommun values), and so are the rolling
    means: over the `rolling_years` years ending with the row's year, Σ total / Σ residents,
    given only when every one of those years has a value. A cost is set beside the reference
    cost it names (N30007 for the individual and family care): deviation = 100 × (cost −
    reference) / reference, "near" within ± `reference_band_pct`, otherwise higher or lower.
    Shares (volumes) are aggregated the same way, as Σ persons / Σ residents.

(b) **Prevention scenario (a range, never a forecast).** For a targeted programme:

        at risk      = shortfall_k × cohort_k         (shortfall from the outcome indicator)
        participants = at risk × participation
        outcomes     = participants × effect
        saving       = outcomes × V × I(P)/I(V's year) × d(ρ)     (all payers, present value)
        kommun       = saving × kommun share
        cost         = participants × c × I(P)/I(c's year)

    with d(ρ) the discount factor to the programme year (t = 0): (1 + ρ)^−delay for a price
    that is already a present value at the outcome, or the mean of (1 + ρ)^−t over
    t = delay … delay + L − 1 for a lifetime sum spread evenly over L years. Every uncertain
    input is triangular (low, mode, high); `draws` draws with a fixed seed per scenario
    (the seed and the scenario id), the same draw for every kommun (one programme, one
    price), so län and riket are sums of draws. Reported: the central value (every input at
    its mode), the interval between the (1 − interval)/2 and (1 + interval)/2 quantiles of
    the draws, and the share of draws in which the saving exceeds the cost (WSIPP's "chance
    benefits exceed costs"), for all payers and for the kommun's share alone, each read
    with three outcomes (likely, uncertain, unlikely).

Missing or suppressed is never 0: a kommun without a value has a row with the reason.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl

from transforms.harmonise import KOLADA_STATUS
from transforms.labels import CodeList

# -- codes (the marts' coded columns; labels for marts.label and the reports) ----------------
MEASURE = {"cost": "Kostnad (kronor per invånare, fast pris)",
           "reference": "Referenskostnad (visas bredvid kostnaden den gäller)",
           "volume": "Andel av invånarna (%)"}
VERIFICATION = {"verified": "Kontrollerat mot Koladas nyckeltalslista",
                "unverified": "Inte kontrollerat mot Koladas nyckeltalslista"}
ASSUMPTION_KIND = {"cited": "Med källa", "assumption": "Antagande (vad händer om …)"}
# The parameters of a scenario, in the order a reader takes them in: label, unit.
PARAMETERS = {
    "participation": ("Deltagande", "andel av riskgruppen"),
    "effect": ("Effekt", "andel av deltagarna vars utfall ändras"),
    "shadow_price": ("Skuggpris", "kronor per utfall"),
    "discount_rate": ("Diskonteringsränta", "real ränta per år"),
    "payers_public": ("Det offentligas andel", "andel av besparingen"),
    "kommun_share": ("Kommunens andel", "andel av besparingen"),
    "programme_cost": ("Programkostnad", "kronor per deltagare"),
}
AREA_TYPES = ("kommun", "lan", "riket")
COST_STATUS = {
    "ok": "Värde finns",
    "missing": "Saknas",
    "suppressed": "Dolt av sekretesskäl",
    "no_price_index": "Bara i löpande priser (prisindex saknas för året)",
}
REFERENCE_COMPARISON = {
    "higher": "Över referenskostnaden",
    "near": "Nära referenskostnaden",
    "lower": "Under referenskostnaden",
    "not_compared": "Inte jämförd",
}
BREAK_EVEN = {
    "likely": "Sannolikt större besparing än kostnad",
    "uncertain": "Osäkert",
    "unlikely": "Sannolikt mindre besparing än kostnad",
}
SCENARIO_STATUS = {
    "ok": "Beräknat",
    "no_baseline": "Kommunens utgångsläge saknas",
    "no_cohort": "Befolkningen saknas",
    "no_shadow_price": "Skuggpriset har inte kunnat kontrolleras; scenariot räknas inte.",
}
VOLUME_SCALE = 100.0  # volumes are per cent of their residents

# The code lists of the two marts, for marts.label (area types are labelled with the site's).
CODE_LISTS = [
    CodeList("cost_measure", MEASURE, ("late_cost.measure", "late_cost_kpi.measure")),
    CodeList("cost_verification", VERIFICATION, ("late_cost_kpi.verification",)),
    CodeList("assumption_kind", ASSUMPTION_KIND, ("prevention_assumption.kind",)),
    CodeList("scenario_parameter", {code: label for code, (label, _) in PARAMETERS.items()},
             ("prevention_assumption.parameter",)),
    CodeList("cost_status", COST_STATUS, ("late_cost.status",)),
    CodeList("reference_comparison", REFERENCE_COMPARISON, ("late_cost.reference_comparison",)),
    CodeList("break_even", BREAK_EVEN,
             ("prevention_scenario.break_even", "prevention_scenario.break_even_kommun")),
    CodeList("scenario_status", SCENARIO_STATUS, ("prevention_scenario.status",)),
]

# -- (a) late-intervention cost --------------------------------------------------------------


@dataclass(frozen=True)
class CostKpi:
    kpi: str
    kind: str
    label: str
    measure: Literal["cost", "reference", "volume"]
    band: str                        # the residents the value is per: "0-20" or "all"
    reference_for: str | None = None


@dataclass(frozen=True)
class CostSettings:
    kpis: tuple[CostKpi, ...]
    index: dict[int, float]          # year → index value
    price_year: int
    rolling_years: int = 3
    min_coverage: float = 0.3
    reference_band_pct: float = 5.0


def index_factor(year: pl.Expr, index: dict[int, float], price_year: int) -> pl.Expr:
    """I(price_year) / I(year); null for a year the index does not list."""
    base = index[price_year]
    factors = {int(y): base / v for y, v in index.items()}
    return year.cast(pl.Int64).replace_strict(factors, default=None, return_dtype=pl.Float64)


def _catalog_frame(settings: CostSettings) -> pl.DataFrame:
    return pl.DataFrame(
        [{"kpi": k.kpi, "cost_kind": k.kind, "cost_label": k.label, "measure": k.measure,
          "resident_band": k.band, "reference_for": k.reference_for} for k in settings.kpis],
        schema={"kpi": pl.String, "cost_kind": pl.String, "cost_label": pl.String,
                "measure": pl.String, "resident_band": pl.String, "reference_for": pl.String})


def kommun_costs(values: pl.DataFrame, population: pl.DataFrame, kommun_codes: list[str],
                 settings: CostSettings) -> pl.DataFrame:
    """One row per kommun × year × KPI of the catalogue: status, the value as published
    (current prices; null unless ok), the residents behind it and `amount_nominal`, what the
    areas add up (SEK for costs and references, persons for volumes).

    `values` is raw.kolada_value, `population` population bands (area_code, year, sex, band,
    population) with sex T among them.
    """
    catalog = _catalog_frame(settings)
    raw_status, value = pl.col("status"), pl.col("value")
    known = raw_status.is_in(list(KOLADA_STATUS))
    mapped = lambda i: raw_status.replace_strict({k: v[i] for k, v in KOLADA_STATUS.items()}, default=None)
    status = (pl.when(known & (mapped(0) == "suppressed")).then(pl.lit("suppressed"))
              .when(known | value.is_null()).then(pl.lit("missing")).otherwise(pl.lit("ok")))
    reason = (pl.when(known).then(mapped(1)).when(value.is_null()).then(pl.lit("Kolada: värde saknas"))
              .when(raw_status != "").then(pl.format("Kolada-status: {}", raw_status)))
    people = population.filter(pl.col("sex") == "T").select(
        area_code="area_code", year="year", resident_band="band", population="population")
    rows = (values.filter((pl.col("gender") == "T") & ~pl.col("isdeleted")
                          & pl.col("municipality").is_in(kommun_codes))
            .join(catalog, on="kpi", how="inner")
            .with_columns(status=status, status_reason=reason)
            .select("kpi", "cost_kind", "cost_label", "measure", "resident_band", "reference_for",
                    area_code="municipality", year=pl.col("period").cast(pl.Int32),
                    value_nominal=pl.when(pl.col("status") == "ok").then("value"),
                    status="status", status_reason="status_reason")
            .join(people, on=["area_code", "year", "resident_band"], how="left"))
    return rows.with_columns(
        amount_nominal=pl.col("value_nominal") * pl.col("population") / _scale(pl.col("measure")),
        status_reason=pl.when(pl.col("value_nominal").is_not_null() & pl.col("population").is_null())
        .then(pl.lit("SCB:s befolkning saknas för året; värdet ingår inte i län, riket och total."))
        .otherwise("status_reason"),
    )


def _scale(measure: pl.Expr) -> pl.Expr:
    """Volumes are per cent of their residents, costs kronor per resident."""
    return pl.when(measure == "volume").then(VOLUME_SCALE).otherwise(1.0)


def _area_sums(rows: pl.DataFrame, membership: pl.DataFrame, min_coverage: float) -> pl.DataFrame:
    """Län and riket as Σ amount / Σ residents over their kommuner with a value; coverage is
    the share of the area's residents (in the KPI's band) that those kommuner hold."""
    keys = ["area_code", "area_type", "kpi", "year"]
    joined = (rows.drop("area_type", "coverage", strict=False)
              .join(membership, left_on="area_code", right_on="kommun_code", how="inner")
              .drop("area_code").rename({"parent_code": "area_code", "parent_type": "area_type"}))
    with_value = pl.col("amount_nominal").is_not_null()
    sums = (joined.group_by(keys)
            .agg(pl.col("cost_kind", "cost_label", "measure", "resident_band", "reference_for").first(),
                 amount_nominal=pl.col("amount_nominal").filter(with_value).sum(),
                 population=pl.col("population").filter(with_value).sum(),
                 population_all=pl.col("population").sum(),
                 n_with=with_value.sum()))
    coverage = pl.when(pl.col("population_all") > 0).then(pl.col("population") / pl.col("population_all"))
    enough = (pl.col("n_with") > 0) & (coverage >= min_coverage)
    return sums.with_columns(
        coverage=coverage,
        amount_nominal=pl.when(enough).then("amount_nominal"),
        value_nominal=pl.when(enough).then(
            pl.col("amount_nominal") / pl.col("population") * _scale(pl.col("measure"))),
        status=pl.when(enough).then(pl.lit("ok")).otherwise(pl.lit("missing")),
        status_reason=pl.when(~enough).then(pl.format(
            "Värden finns för för få av områdets invånare ({} % av minst {} %).",
            (100 * coverage.fill_null(0)).round(0).cast(pl.Int64), pl.lit(round(100 * min_coverage)))),
    ).drop("population_all", "n_with")


def _fixed_prices(frame: pl.DataFrame, settings: CostSettings) -> pl.DataFrame:
    """`value` and `amount` in the price year (costs and references; volumes as they are);
    a cost whose year the index lacks keeps its current-price value only."""
    is_volume = pl.col("measure") == "volume"
    factor = pl.when(is_volume).then(1.0).otherwise(
        index_factor(pl.col("year"), settings.index, settings.price_year))
    no_index = ~is_volume & pl.col("value_nominal").is_not_null() & factor.is_null()
    return frame.with_columns(
        value=pl.col("value_nominal") * factor,
        amount=pl.col("amount_nominal") * factor,
        status=pl.when(no_index).then(pl.lit("no_price_index")).otherwise("status"),
        status_reason=pl.when(no_index).then(pl.format(
            "Prisindex för {} saknas i katalogen; värdet finns bara i löpande priser.", pl.col("year")))
        .otherwise("status_reason"),
    )


def _rolling(frame: pl.DataFrame, years: int) -> pl.DataFrame:
    """rolling value: Σ amount / Σ residents over the `years` years ending with each row's
    year, when all of them have an amount."""
    keys = ["area_code", "kpi"]
    usable = frame.filter(pl.col("amount").is_not_null() & pl.col("population").is_not_null())
    base = usable.select(*keys, "year", "amount", "population")
    total = frame.select(*keys, "year").with_columns(sum_amount=pl.lit(0.0), sum_pop=pl.lit(0.0),
                                                     n=pl.lit(0, dtype=pl.Int32))
    for lag in range(years):
        shifted = base.with_columns(year=pl.col("year") + lag)
        total = (total.join(shifted, on=[*keys, "year"], how="left")
                 .with_columns(sum_amount=pl.col("sum_amount") + pl.col("amount").fill_null(0.0),
                               sum_pop=pl.col("sum_pop") + pl.col("population").fill_null(0.0),
                               n=pl.col("n") + pl.col("amount").is_not_null().cast(pl.Int32))
                 .drop("amount", "population"))
    complete = pl.col("n") == years
    return total.select(*keys, "year",
                        rolling_amount=pl.when(complete).then("sum_amount"),
                        rolling_population=pl.when(complete).then("sum_pop"))


def late_cost(values: pl.DataFrame, population: pl.DataFrame, kommuner: pl.DataFrame,
              settings: CostSettings, kpi_titles: pl.DataFrame | None = None) -> pl.DataFrame:
    """marts.late_cost: per kommun, län and riket × year × cost or volume kind.

    `kommuner` has kommun_code and lan_code; `kpi_titles` (raw.kolada_kpi: kpi_id, title) adds
    Kolada's title at fetch time. See the module docstring for the arithmetic.
    """
    codes = kommuner["kommun_code"].to_list()
    kommun_rows = kommun_costs(values, population, codes, settings).with_columns(
        area_type=pl.lit("kommun"), coverage=pl.lit(None, dtype=pl.Float64))
    membership = pl.concat([
        kommuner.select("kommun_code", parent_code="lan_code", parent_type=pl.lit("lan")),
        kommuner.select("kommun_code", parent_code=pl.lit("00"), parent_type=pl.lit("riket")),
    ])
    areas = _area_sums(kommun_rows, membership, settings.min_coverage)
    columns = ["area_code", "area_type", "kpi", "cost_kind", "cost_label", "measure",
               "resident_band", "reference_for", "year", "value_nominal", "amount_nominal",
               "population", "coverage", "status", "status_reason"]
    frame = _fixed_prices(pl.concat([kommun_rows.select(columns), areas.select(columns)],
                                    how="vertical_relaxed"), settings)
    measure = pl.col("measure")
    frame = (frame.join(_rolling(frame, settings.rolling_years), on=["area_code", "kpi", "year"], how="left")
             .with_columns(rolling_value=pl.when(pl.col("rolling_population") > 0).then(
                 pl.col("rolling_amount") / pl.col("rolling_population") * _scale(measure))))
    lan_of = kommuner.select(area_code="kommun_code", lan_code="lan_code")
    frame = frame.join(lan_of, on="area_code", how="left").with_columns(
        lan_code=pl.when(pl.col("area_type") == "lan").then("area_code").otherwise("lan_code"))
    bench = frame.select("kpi", "year", "area_code", "value")
    frame = (frame.join(bench.rename({"area_code": "lan_code", "value": "lan_value"}),
                        on=["kpi", "year", "lan_code"], how="left")
             .join(bench.filter(pl.col("area_code") == "00").drop("area_code")
                   .rename({"value": "riket_value"}), on=["kpi", "year"], how="left")
             .with_columns(lan_value=pl.when(pl.col("area_type") == "kommun").then("lan_value"),
                           riket_value=pl.when(pl.col("area_type") != "riket").then("riket_value")))
    frame = _with_reference(frame, settings.reference_band_pct)
    titles = (kpi_titles.select(kpi="kpi_id", source_title="title") if kpi_titles is not None
              else pl.DataFrame(schema={"kpi": pl.String, "source_title": pl.String}))
    frame = frame.join(titles, on="kpi", how="left")
    order = {"kommun": 0, "lan": 1, "riket": 2}
    return (frame.filter(measure != "reference")
            .with_columns(source_kpi="kpi",
                          price_year=pl.when(measure == "cost").then(pl.lit(settings.price_year, dtype=pl.Int32)),
                          sek_total=pl.when(measure == "cost").then("amount"),
                          persons=pl.when(measure == "volume").then("amount"),
                          rolling_years=pl.when(pl.col("rolling_value").is_not_null())
                          .then(pl.lit(settings.rolling_years, dtype=pl.Int32)),
                          _order=pl.col("area_type").replace_strict(order, return_dtype=pl.Int8))
            .sort("_order", "area_code", "cost_kind", "year")
            .select(list(LATE_COST_COLUMNS))
            .cast(LATE_COST_COLUMNS))


def _with_reference(frame: pl.DataFrame, band_pct: float) -> pl.DataFrame:
    """The reference value of the same area and year beside the cost it is for, and the
    deviation from it in per cent with its reading (higher, near, lower, not compared)."""
    refs = frame.filter(pl.col("measure") == "reference").select(
        "area_code", "year", cost_kind="reference_for", reference_value="value",
        reference_kpi="kpi")
    out = frame.join(refs, on=["area_code", "year", "cost_kind"], how="left")
    deviation = 100 * (pl.col("value") - pl.col("reference_value")) / pl.col("reference_value")
    comparable = (pl.col("value").is_not_null() & (pl.col("reference_value") > 0)).fill_null(False)
    return out.with_columns(
        reference_deviation_pct=pl.when(comparable).then(deviation),
        reference_comparison=pl.when(~comparable).then(pl.lit("not_compared"))
        .when(deviation > band_pct).then(pl.lit("higher"))
        .when(deviation < -band_pct).then(pl.lit("lower"))
        .otherwise(pl.lit("near")),
    )


LATE_COST_COLUMNS = {
    "area_code": pl.String, "area_type": pl.String, "lan_code": pl.String, "year": pl.Int32,
    "cost_kind": pl.String, "cost_label": pl.String, "measure": pl.String, "source_kpi": pl.String,
    "source_title": pl.String, "resident_band": pl.String, "population": pl.Float64,
    "value_nominal": pl.Float64, "price_year": pl.Int32, "value": pl.Float64,
    "sek_total": pl.Float64, "persons": pl.Float64, "rolling_value": pl.Float64,
    "rolling_years": pl.Int32, "coverage": pl.Float64, "lan_value": pl.Float64,
    "riket_value": pl.Float64, "reference_kpi": pl.String, "reference_value": pl.Float64,
    "reference_deviation_pct": pl.Float64, "reference_comparison": pl.String,
    "status": pl.String, "status_reason": pl.String,
}


def memo_columns(late: pl.DataFrame, kind: str = "barn_unga_total",
                 reference_kind: str = "ifo_netto") -> pl.DataFrame:
    """Per kommun, the late-intervention cost for a memo or support view, beside need and
    never as a reason by itself: the latest year with a fixed-price value of `kind`, its
    value, rolling mean, län and riket, and the reference reading of `reference_kind`.

    Columns: area_code, late_cost_year, late_cost_sek_per_child, late_cost_rolling,
    late_cost_lan, late_cost_riket, price_year, reference_year, reference_deviation_pct,
    reference_comparison.
    """
    kommun = late.filter(pl.col("area_type") == "kommun")

    def latest(frame: pl.DataFrame) -> pl.DataFrame:
        return (frame.filter(pl.col("value").is_not_null()).sort("area_code", "year")
                .group_by("area_code", maintain_order=True).last())

    cost = latest(kommun.filter(pl.col("cost_kind") == kind)).select(
        "area_code", late_cost_year="year", late_cost_sek_per_child="value",
        late_cost_rolling="rolling_value", late_cost_lan="lan_value",
        late_cost_riket="riket_value", price_year="price_year")
    ref = latest(kommun.filter((pl.col("cost_kind") == reference_kind)
                               & pl.col("reference_deviation_pct").is_not_null())).select(
        "area_code", reference_year="year", reference_deviation_pct="reference_deviation_pct",
        reference_comparison="reference_comparison")
    codes = kommun.select("area_code").unique()
    return (codes.join(cost, on="area_code", how="left").join(ref, on="area_code", how="left")
            .with_columns(reference_comparison=pl.col("reference_comparison").fill_null("not_compared"))
            .sort("area_code"))


# -- (b) prevention scenarios ----------------------------------------------------------------


@dataclass(frozen=True)
class Triangular:
    """An uncertain number: triangular between `low` and `high` with its peak at `mode`."""

    low: float
    mode: float
    high: float

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if self.high <= self.low:  # no uncertainty: every draw is the number itself
            return np.full(n, float(self.mode))
        return rng.triangular(self.low, self.mode, self.high, n)


@dataclass(frozen=True)
class ScenarioParameters:
    """The numbers of one scenario, prices already in the common price year (factors)."""

    id: str
    title: str
    outcome_indicator: str
    cohort_band: str                     # SCB age band of the year-cohort, e.g. "16-16"
    participation: Triangular            # share of the at-risk group taking part
    effect: Triangular                   # share of participants whose outcome changes
    shadow_price: Triangular | None      # SEK per outcome in the source's prices; None: unverified
    shadow_price_factor: float           # I(P) / I(source year)
    form: Literal["lifetime_sum", "npv_at_outcome"]
    benefit_years: int | None
    delay_years: int
    discount_rate: Triangular
    kommun_share: Triangular
    cost: Triangular                     # SEK per participant in the source's prices
    cost_factor: float
    outcome: str = ""                    # Swedish: what one more outcome is
    at_risk: str = ""                    # Swedish: who is at risk


@dataclass(frozen=True)
class ScenarioSettings:
    draws: int
    seed: int
    interval: float = 0.90
    likely: float = 0.9
    unlikely: float = 0.1
    price_year: int = 2023


def discount_factor(rate: np.ndarray | float, delay: int, years: int | None,
                    form: str) -> np.ndarray:
    """Present value in the programme year (t = 0) of one krona of the shadow price.

    npv_at_outcome: (1 + ρ)^−delay. lifetime_sum: the price is spread evenly over `years`
    years starting `delay` years on, so the factor is the mean of (1 + ρ)^−t over
    t = delay … delay + years − 1 (1 at ρ = 0).
    """
    rate = np.asarray(rate, dtype=float)
    start = (1.0 + rate) ** (-delay)
    if form == "npv_at_outcome":
        return start
    if not years or years < 1:
        raise ValueError("a lifetime sum needs benefit_years ≥ 1")
    v = 1.0 / (1.0 + rate)
    with np.errstate(divide="ignore", invalid="ignore"):
        annuity = np.where(rate > 0, (1.0 - v ** years) / (1.0 - v), float(years))
    return start * annuity / years


def scenario_rng(seed: int, scenario_id: str) -> np.random.Generator:
    """One generator per scenario: adding or reordering scenarios changes no other's draws."""
    return np.random.default_rng([seed, zlib.crc32(scenario_id.encode("utf-8"))])


@dataclass
class Draws:
    """Per-draw parameters of one scenario (arrays of length `draws`)."""

    participation: np.ndarray
    effect: np.ndarray
    pv_per_outcome: np.ndarray
    kommun_share: np.ndarray
    cost: np.ndarray


def draw_parameters(p: ScenarioParameters, settings: ScenarioSettings) -> Draws:
    n = settings.draws
    rng = scenario_rng(settings.seed, p.id)
    price = p.shadow_price.draw(rng, n) * p.shadow_price_factor
    rate = p.discount_rate.draw(rng, n)
    return Draws(participation=p.participation.draw(rng, n), effect=p.effect.draw(rng, n),
                 pv_per_outcome=price * discount_factor(rate, p.delay_years, p.benefit_years, p.form),
                 kommun_share=p.kommun_share.draw(rng, n), cost=p.cost.draw(rng, n) * p.cost_factor)


def central_parameters(p: ScenarioParameters) -> Draws:
    """Every input at its mode: the scenario's central (hand-computable) value."""
    mode = lambda t: np.array([t.mode], dtype=float)
    price = p.shadow_price.mode * p.shadow_price_factor
    return Draws(participation=mode(p.participation), effect=mode(p.effect),
                 pv_per_outcome=price * discount_factor(mode(p.discount_rate), p.delay_years,
                                                        p.benefit_years, p.form),
                 kommun_share=mode(p.kommun_share), cost=mode(p.cost) * p.cost_factor)


def outcomes_of(at_risk: np.ndarray, d: Draws) -> dict[str, np.ndarray]:
    """Participants, outcomes, saving (all payers), the kommun's share and the programme
    cost: arrays (areas × draws) for `at_risk` persons per area."""
    participants = at_risk[:, None] * d.participation[None, :]
    outcomes = participants * d.effect[None, :]
    saving = outcomes * d.pv_per_outcome[None, :]
    return {"participants": participants, "outcomes": outcomes, "saving": saving,
            "kommun_saving": saving * d.kommun_share[None, :],
            "cost": participants * d.cost[None, :]}


def shortfall(value: pl.Expr, polarity: pl.Expr) -> pl.Expr:
    """The share (0–1) of the cohort at risk: 1 − p where high is good, p where low is good."""
    return (pl.when(polarity == "high_is_good").then((100.0 - value) / 100.0)
            .when(polarity == "low_is_good").then(value / 100.0))


BASELINE_ROWS = {"area_type": "kommun", "sex": "T", "breakdown": "all"}  # the facts baselines read


def baselines(facts: pl.DataFrame, catalog: pl.DataFrame, indicator_ids: list[str]) -> pl.DataFrame:
    """Per indicator and kommun: the latest year with a value (sex T, no breakdown), the
    value in per cent, its status, and the shortfall (share at risk)."""
    rows = (facts.filter(pl.col("indicator_id").is_in(indicator_ids),
                         *(pl.col(column) == value for column, value in BASELINE_ROWS.items()))
            .select("indicator_id", "area_code", "period", "value", "status"))
    latest = (rows.filter(pl.col("status") == "ok").group_by("indicator_id")
              .agg(latest=pl.col("period").max()))
    return (rows.join(latest, on="indicator_id", how="inner")
            .filter(pl.col("period") == pl.col("latest")).drop("latest")
            .join(catalog.select("indicator_id", "polarity"), on="indicator_id", how="left")
            .with_columns(shortfall=pl.when(pl.col("status") == "ok")
                          .then(shortfall(pl.col("value"), pl.col("polarity"))))
            .sort("indicator_id", "area_code"))


def prevention_scenarios(scenarios: list[ScenarioParameters], settings: ScenarioSettings,
                         baseline: pl.DataFrame, cohorts: pl.DataFrame,
                         kommuner: pl.DataFrame) -> pl.DataFrame:
    """marts.prevention_scenario: per scenario × kommun, län and riket.

    `baseline` from `baselines`, `cohorts` population bands of sex T (area_code, year, band,
    population), `kommuner` kommun_code and lan_code.
    """
    frames = []
    kommun_frame = kommuner.select("kommun_code", "lan_code").sort("kommun_code")
    for order, p in enumerate(scenarios):
        frames.append(_one_scenario(p, settings, baseline, cohorts, kommun_frame)
                      .with_columns(scenario_order=pl.lit(order, dtype=pl.Int32)))
    if not frames:
        return pl.DataFrame(schema=SCENARIO_COLUMNS)
    empty = pl.DataFrame(schema=SCENARIO_COLUMNS)
    return (pl.concat([empty, *frames], how="diagonal_relaxed")
            .select(list(SCENARIO_COLUMNS)).cast(SCENARIO_COLUMNS))


def _one_scenario(p: ScenarioParameters, settings: ScenarioSettings, baseline: pl.DataFrame,
                  cohorts: pl.DataFrame, kommuner: pl.DataFrame) -> pl.DataFrame:
    base = baseline.filter(pl.col("indicator_id") == p.outcome_indicator)
    band = cohorts.filter(pl.col("band") == p.cohort_band)
    cohort_year = band.filter(pl.col("population").is_not_null())["year"].max()
    cohort = band.filter(pl.col("year") == cohort_year).select("area_code", cohort="population")
    k = (kommuner.join(base.select(area_code="area_code", baseline_year="period",
                                   baseline_value="value", baseline_status="status",
                                   shortfall="shortfall"),
                       left_on="kommun_code", right_on="area_code", how="left")
         .join(cohort, left_on="kommun_code", right_on="area_code", how="left")
         .sort("kommun_code"))
    status = (pl.when(pl.lit(p.shadow_price is None)).then(pl.lit("no_shadow_price"))
              .when(pl.col("shortfall").is_null()).then(pl.lit("no_baseline"))
              .when(pl.col("cohort").is_null()).then(pl.lit("no_cohort"))
              .otherwise(pl.lit("ok")))
    k = k.with_columns(status=status, at_risk=pl.col("shortfall") * pl.col("cohort"))
    ok = (k["status"] == "ok").to_numpy()
    at_risk = k["at_risk"].fill_null(0.0).to_numpy() * ok
    lan_codes = k["lan_code"].to_list()
    groups = ([("kommun", c, c, np.arange(len(k)) == i) for i, c in enumerate(k["kommun_code"])]
              + [("lan", lan, lan, np.array([x == lan for x in lan_codes]))
                 for lan in sorted(set(lan_codes))]
              + [("riket", "00", None, np.ones(len(k), dtype=bool))])
    common = {"scenario_id": p.id, "scenario_title": p.title, "outcome_indicator": p.outcome_indicator,
              "outcome_text": p.outcome or None, "at_risk_text": p.at_risk or None,
              "cohort_year": cohort_year, "price_year": settings.price_year,
              "discount_rate": p.discount_rate.mode, "draws": settings.draws, "seed": settings.seed}
    if p.shadow_price is None:
        rows = [{**common, "area_type": t, "area_code": c, "lan_code": lan, "status": "no_shadow_price",
                 "status_reason": SCENARIO_STATUS["no_shadow_price"]} for t, c, lan, _ in groups]
        return _with_kommun_context(pl.DataFrame(rows, infer_schema_length=None), k)
    draws = outcomes_of(at_risk, draw_parameters(p, settings))
    central = outcomes_of(at_risk, central_parameters(p))
    lo_q, hi_q = (1 - settings.interval) / 2, (1 + settings.interval) / 2
    cohort_of, status_of = k["cohort"].fill_null(0.0).to_numpy(), k["status"].to_list()
    rows, summed = [], []  # summed: the draws' sums of the areas with a result, in row order
    for area_type, code, lan, members in groups:
        members_ok = members & ok
        row = {**common, "area_type": area_type, "area_code": code, "lan_code": lan,
               "cohort": float(cohort_of[members].sum())}
        if not members_ok.any():
            status_code = status_of[int(np.argmax(members))] if area_type == "kommun" else "no_baseline"
            rows.append(row | {"status": status_code, "status_reason": _reason(status_code, p)})
            continue
        sums = {name: arr[members_ok].sum(axis=0) for name, arr in draws.items()}
        sums["net"] = sums["saving"] - sums["cost"]
        mid = {name: float(arr[members_ok].sum()) for name, arr in central.items()}
        p_all = float(np.mean(sums["saving"] > sums["cost"]))
        p_kommun = float(np.mean(sums["kommun_saving"] > sums["cost"]))
        cohort_ok = float(cohort_of[members_ok].sum())
        row |= {
            "status": "ok", "status_reason": None,
            "at_risk": float(at_risk[members_ok].sum()),
            "coverage": cohort_ok / row["cohort"] if row["cohort"] else None,
            "participants": mid["participants"],
            "p_break_even": p_all, "break_even": _reading(p_all, settings),
            "p_break_even_kommun": p_kommun, "break_even_kommun": _reading(p_kommun, settings),
        }
        for name in ("outcomes", "saving", "kommun_saving", "cost"):
            row[f"{name}_central"] = mid[name]
        row["net_central"] = mid["saving"] - mid["cost"]
        rows.append(row)
        summed.append((row, sums))
    # The intervals of all areas at once (one quantile call per measure, row by row).
    for name in ("outcomes", "saving", "kommun_saving", "cost", "net") if summed else ():
        low, high = np.quantile(np.stack([sums[name] for _, sums in summed]), [lo_q, hi_q], axis=1)
        for (row, _), lo, hi in zip(summed, low.tolist(), high.tolist(), strict=True):
            row[f"{name}_low"], row[f"{name}_high"] = lo, hi
    return _with_kommun_context(pl.DataFrame(rows, infer_schema_length=None), k)


def _with_kommun_context(rows: pl.DataFrame, k: pl.DataFrame) -> pl.DataFrame:
    """The kommun's baseline beside its row (län and riket rows have none)."""
    context = k.select(area_code="kommun_code", baseline_year="baseline_year",
                       baseline_value="baseline_value",
                       shortfall_pct=pl.col("shortfall") * 100)
    return rows.join(context, on="area_code", how="left")


def _reason(status: str, p: ScenarioParameters) -> str:
    if status == "no_baseline":
        return (f"Kommunens värde för {p.outcome_indicator} saknas eller är dolt; utan utgångsläge "
                f"kan riskgruppen inte räknas.")
    return SCENARIO_STATUS.get(status, status)


def _reading(p: float, settings: ScenarioSettings) -> str:
    if p >= settings.likely:
        return "likely"
    if p <= settings.unlikely:
        return "unlikely"
    return "uncertain"


SCENARIO_COLUMNS = {
    "scenario_id": pl.String, "scenario_order": pl.Int32, "scenario_title": pl.String, "area_code": pl.String,
    "area_type": pl.String, "lan_code": pl.String, "outcome_indicator": pl.String,
    "outcome_text": pl.String, "at_risk_text": pl.String, "baseline_year": pl.Int32, "baseline_value": pl.Float64, "shortfall_pct": pl.Float64,
    "cohort_year": pl.Int32, "cohort": pl.Float64, "at_risk": pl.Float64, "coverage": pl.Float64,
    "participants": pl.Float64,
    "outcomes_central": pl.Float64, "outcomes_low": pl.Float64, "outcomes_high": pl.Float64,
    "saving_central": pl.Float64, "saving_low": pl.Float64, "saving_high": pl.Float64,
    "kommun_saving_central": pl.Float64, "kommun_saving_low": pl.Float64,
    "kommun_saving_high": pl.Float64,
    "cost_central": pl.Float64, "cost_low": pl.Float64, "cost_high": pl.Float64,
    "net_central": pl.Float64, "net_low": pl.Float64, "net_high": pl.Float64,
    "p_break_even": pl.Float64, "break_even": pl.String,
    "p_break_even_kommun": pl.Float64, "break_even_kommun": pl.String,
    "price_year": pl.Int32, "discount_rate": pl.Float64, "draws": pl.Int32, "seed": pl.Int64,
    "status": pl.String, "status_reason": pl.String,
}
