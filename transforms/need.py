"""The need index (behovsindex): per kommun and strategic factor, with honest uncertainty.

Recipe (research/coordination.md §3.2, after COI 2.0, the OECD/JRC Handbook and COINr):

1. Inputs: each indicator of a factor (data/catalog/need_index.yaml) at its latest year
   with kommun values (sex T, breakdown all). Suppressed or missing is missing, never 0.
2. Coverage: a kommun keeps a factor when at least `coverage_min` (½) of the factor's
   indicators have a value; otherwise it gets no score, rank or probability for it.
3. Winsorise each indicator at the p-th and (1 − p)-th percentile over kommuner
   (linear interpolation between order statistics; nominal p = 0.01).
4. Normalise against the fixed reference year: z = s · (x − μ_ref) / σ_ref, with μ_ref and
   σ_ref the mean and standard deviation over kommuner of the (winsorised) values in the
   reference year (or the nearest year with data), and s = +1 where a high value means
   more need, −1 where it means less. The alternative is rank-normal scores,
   z = s · Φ⁻¹(rank / (n + 1)) (SIMD).
5. Factor score: weighted mean of the available z (weights from the catalogue,
   renormalised over each kommun's available indicators). The alternative is the weighted
   geometric mean on the scale of need: each input's aligned z shifted so that the kommun
   with the least need gets 1 (x = z − min z + 1, in standard deviations), so that no
   input's low end can run off to −∞ in the logarithm. (The earlier alternative, the
   geometric mean of Φ(z), let a kommun's lowest-need input dominate: Φ(z) near 0 has a
   logarithm near −∞, and the nominal rank could sit at the edge of its own interval.)
6. Overall: weighted mean of the factor scores (the same mean as in step 5), over kommuner
   with at least half their factors scored.
7. Rank 1 = highest need; score = national percentile ⌈100·(n − rank + 1)/n⌉ (1–100);
   level = quintile ⌈5·(n − rank + 1)/n⌉ (5 = highest need).

Monte Carlo (`draws`, fixed `seed`): every draw samples each input from its sampling
distribution, a split normal through its 95 % interval (x = v + e·(upper − v)/1.96 for
e > 0, v + e·(v − lower)/1.96 otherwise, e ~ N(0, 1); inputs without an interval stay as
they are), and the method choices: the winsorising limit, the normalisation, the weights
(each × U(0.75, 1.25)) and the aggregation. Per kommun and factor: median rank, the 5th and
95th percentile ranks, and the probability of being in the highest-need fifth
(rank ≤ ⌈n/5⌉). The same draws ranked within the county (and within the sub-region): each
kommun's rank among the county's kommuner with its interval and the probability of being in
the county's highest-need third (rank ≤ ⌈n_län/3⌉, `county_top_share`); a county with fewer
than `county_min` ranked kommuner gets ranks but no probability. Rankability (Lingsma et
al. 2009; transforms/rankability.py) per factor and area set: in the country and within
each county. Län and sub-regions: the score is the mean of their kommuner's percentile
scores weighted by the population 0–19, in every draw; län are ranked among län,
sub-regions within their län.

Sensitivity: the mean absolute rank change from the nominal ranks when only one element
varies (each method choice in turn; the input sampling), and when one indicator is left
out (COINr's `remove_elements`).

All arrays are (draws, kommuner, inputs) and vectorised with numpy; no loops over kommuner.
"""

from __future__ import annotations

import hashlib
import json
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field, model_validator

from transforms.rankability import rankability

FACTORS = {
    "skola": "Måluppfyllelse i skolan",
    "foraldraskap": "Föräldraskap och familjens villkor",
    "fritid": "Meningsfull fritid",
    "narsamhalle": "Tryggt närsamhälle",
    "overall": "Samlat behov (alla fyra faktorer)",
}
OVERALL = "overall"
INPUT_STATUS = {"ok": "Värde finns", "missing": "Saknas", "suppressed": "Dolt (röjandeskydd)"}
NEED_STATUS = {"ok": "Beräknat", "missing": "Kan inte beräknas (för lite data)"}
AREA_TYPES = {"kommun": "Kommun", "subregion": "Delregion", "lan": "Län"}
METHOD_INPUTS = {
    "sampling": "Osäkerhet i indata (statistisk felmarginal)",
    "winsorising": "Gräns för winsorisering",
    "normalisation": "Normalisering (z mot referensår eller rangnormal)",
    "weights": "Vikter (±25 %)",
    "aggregation": "Aggregering (aritmetiskt eller geometriskt medel på behovets skala)",
}
SENSITIVITY_KIND = {"indicator": "Indikator", "method": "Metodval"}
DIRECTION = {"1": "Högt värde betyder större behov", "-1": "Lågt värde betyder större behov"}
Z95 = 1.959963984540054
CHUNK = 125
THREADS = 2  # chunks computed at once
NORMALISATIONS = ("z_reference", "rank_normal")
AGGREGATIONS = ("arithmetic", "geometric")


class FactorSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    weight: float = Field(default=1.0, gt=0)
    indicators: dict[str, float] = Field(min_length=1)

    @model_validator(mode="after")
    def _positive(self) -> FactorSpec:
        bad = [i for i, w in self.indicators.items() if not w > 0]
        if bad:
            raise ValueError(f"indicator weights must be positive: {bad}")
        return self


class Choices(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    nominal: float | str
    alternatives: list[float | str] = Field(min_length=1)


class NeedConfig(BaseModel):
    """data/catalog/need_index.yaml: the index definition."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    reference_year: int = Field(ge=1990, le=2100)
    draws: int = Field(default=1000, ge=10)
    seed: int = 20250601
    coverage_min: float = Field(default=0.5, gt=0, le=1)
    top_share: float = Field(default=0.2, gt=0, lt=1)
    county_top_share: float = Field(default=1 / 3, gt=0, lt=1)
    county_min: int = Field(default=3, ge=2)
    weight_noise: float = Field(default=0.25, ge=0, lt=1)
    winsorising: Choices = Choices(nominal=0.01, alternatives=[0.01, 0.025, 0.05])
    normalisation: Choices = Choices(nominal="z_reference", alternatives=list(NORMALISATIONS))
    aggregation: Choices = Choices(nominal="arithmetic", alternatives=list(AGGREGATIONS))
    sampling: bool = True
    sensitivity_draws: int = Field(default=200, ge=10)
    factors: dict[Literal["skola", "foraldraskap", "fritid", "narsamhalle"], FactorSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _choices(self) -> NeedConfig:
        for name, allowed in (("normalisation", NORMALISATIONS), ("aggregation", AGGREGATIONS)):
            choice: Choices = getattr(self, name)
            for value in [choice.nominal, *choice.alternatives]:
                if value not in allowed:
                    raise ValueError(f"{name}: {value!r} is not one of {list(allowed)}")
        for value in [self.winsorising.nominal, *self.winsorising.alternatives]:
            if not isinstance(value, float | int) or not 0 <= value < 0.5:
                raise ValueError(f"winsorising: {value!r} must be a share in [0, 0.5)")
        return self

    @property
    def fingerprint(self) -> str:
        """Version plus a hash of the definition: the index_version of every row."""
        body = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return f"{self.version}+{hashlib.sha256(body.encode()).hexdigest()[:8]}"

    def inputs(self) -> list[tuple[str, str, float]]:
        return [(f, i, w) for f, spec in self.factors.items() for i, w in spec.indicators.items()]


# --- inputs ---------------------------------------------------------------------------------

INPUT_SCHEMA = {
    "area_code": pl.String, "factor": pl.String, "indicator_id": pl.String, "period": pl.Int32,
    "value": pl.Float64, "lower_95": pl.Float64, "upper_95": pl.Float64, "aligned_z": pl.Float64,
    "weight": pl.Float64, "status": pl.String, "status_reason": pl.String,
    "direction": pl.Int8, "reference_period": pl.Int32, "reference_mean": pl.Float64,
    "reference_sd": pl.Float64, "base_weight": pl.Float64,
}


def _winsor_limits(values: np.ndarray, share: float) -> tuple[float, float]:
    present = values[~np.isnan(values)]
    if present.size == 0:
        return (math.nan, math.nan)
    return (float(np.quantile(present, share)), float(np.quantile(present, 1 - share)))


# What prepare_inputs reads of the fact table: these columns of these rows.
FACT_COLUMNS = ["indicator_id", "area_code", "area_type", "period", "sex", "breakdown", "value",
                "lower_95", "upper_95", "status", "status_reason"]
FACT_ROWS = {"area_type": "kommun", "sex": "T", "breakdown": "all"}


def prepare_inputs(facts: pl.DataFrame, indicators: pl.DataFrame, kommuner: list[str],
                   config: NeedConfig) -> pl.DataFrame:
    """One row per kommun × factor × indicator: the value used, its interval, its
    nominal aligned z and renormalised weight, or why it is missing.

    `facts` needs indicator_id, area_code, area_type, period, sex, breakdown, value,
    lower_95, upper_95, status, status_reason; `indicators` indicator_id and polarity.
    """
    polarity = dict(indicators.select("indicator_id", "polarity").iter_rows())
    unknown = [i for _, i, _ in config.inputs() if i not in polarity]
    if unknown:
        raise ValueError(f"need index: indicators not in the catalogue: {unknown}")
    neutral = [i for _, i, _ in config.inputs() if polarity[i] == "no_judgement"]
    if neutral:
        raise ValueError(f"need index: indicators without a direction cannot measure need: {neutral}")
    rows = facts.filter(*(pl.col(c) == v for c, v in FACT_ROWS.items()),
                        pl.col("indicator_id").is_in([i for _, i, _ in config.inputs()]))
    grid = pl.DataFrame({"area_code": sorted(kommuner)})
    share = float(config.winsorising.nominal)
    frames = []
    for factor, indicator, weight in config.inputs():
        mine = rows.filter(pl.col("indicator_id") == indicator)
        has_value = mine.filter(pl.col("value").is_not_null())
        years = sorted(set(has_value["period"].to_list()))
        period = years[-1] if years else None
        reference = min(years, key=lambda y: (abs(y - config.reference_year), y)) if years else None
        this_year = (pl.col("period") == period) if period is not None else pl.lit(False)
        current = grid.join(mine.filter(this_year), on="area_code", how="left")
        # sorted: the mean and sd then add in one order, the same bits every run
        ref_values = (np.sort(has_value.filter(pl.col("period") == reference)["value"].to_numpy())
                      if reference is not None else np.array([]))
        lo, hi = _winsor_limits(ref_values, share)
        ref = np.clip(ref_values, lo, hi) if ref_values.size else ref_values
        mean = float(ref.mean()) if ref.size else math.nan
        sd = float(ref.std(ddof=1)) if ref.size > 1 else math.nan
        direction = 1 if polarity[indicator] == "low_is_good" else -1
        lo, hi = _winsor_limits(current["value"].to_numpy(), share)
        reason = (pl.when(pl.col("status").is_null())
                  .then(pl.lit(f"ingen uppgift för {period}" if period else "indikatorn saknar värden"))
                  .otherwise(pl.col("status_reason")))
        frames.append(current.select(
            "area_code",
            factor=pl.lit(factor), indicator_id=pl.lit(indicator),
            period=pl.lit(period, dtype=pl.Int32),
            value="value", lower_95="lower_95", upper_95="upper_95",
            aligned_z=direction * (pl.col("value").clip(lo, hi) - mean) / sd if sd and sd > 0 else pl.lit(None),
            status=pl.when(pl.col("value").is_not_null()).then(pl.lit("ok"))
            .when(pl.col("status") == "suppressed").then(pl.lit("suppressed"))
            .otherwise(pl.lit("missing")),
            status_reason=pl.when(pl.col("value").is_not_null()).then(pl.lit(None)).otherwise(reason),
            direction=pl.lit(direction, dtype=pl.Int8),
            reference_period=pl.lit(reference, dtype=pl.Int32),
            reference_mean=pl.lit(mean if not math.isnan(mean) else None, dtype=pl.Float64),
            reference_sd=pl.lit(sd if not math.isnan(sd) else None, dtype=pl.Float64),
            base_weight=pl.lit(weight, dtype=pl.Float64),
        ))
    out = pl.concat(frames, how="vertical").with_columns(
        status=pl.when(pl.col("aligned_z").is_null() & (pl.col("status") == "ok"))
        .then(pl.lit("missing")).otherwise("status"),
        status_reason=pl.when(pl.col("aligned_z").is_null() & (pl.col("status") == "ok"))
        .then(pl.lit("referensårets spridning saknas")).otherwise("status_reason"))
    used = pl.col("status") == "ok"
    out = out.with_columns(
        weight=pl.when(used).then(pl.col("base_weight")
                                  / pl.col("base_weight").filter(used).sum().over("area_code", "factor")))
    return out.select(list(INPUT_SCHEMA)).cast(INPUT_SCHEMA).sort("factor", "indicator_id", "area_code")


# --- arrays ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class NeedArrays:
    """The inputs as arrays: kommuner K, inputs J (factor × indicator), factors F."""

    kommuner: list[str]
    factors: list[str]
    inputs: list[tuple[str, str]]
    value: np.ndarray        # (K, J), nan = missing
    up: np.ndarray           # (K, J) upper half-width / 1.96, 0 without interval
    down: np.ndarray         # (K, J)
    available: np.ndarray    # (K, J) bool
    direction: np.ndarray    # (J,)
    ref_mean: np.ndarray     # (J,)
    ref_sd: np.ndarray       # (J,)
    weight: np.ndarray       # (J,)
    member: np.ndarray       # (J, F) 0/1
    factor_weight: np.ndarray  # (F,)
    scored: np.ndarray       # (K, F + 1) bool: coverage rule met (last column overall)
    coverage: np.ndarray     # (K, F + 1)
    n_used: np.ndarray       # (K, F + 1)

    @classmethod
    def of(cls, inputs: pl.DataFrame, config: NeedConfig) -> NeedArrays:
        factors = list(config.factors)
        pairs = [(f, i) for f, i, _ in config.inputs()]
        kommuner = sorted(inputs["area_code"].unique().to_list())
        wide = {}
        for column in ("value", "lower_95", "upper_95"):
            piv = np.full((len(kommuner), len(pairs)), np.nan)
            frame = inputs.filter(pl.col("status") == "ok")
            k_index = {k: n for n, k in enumerate(kommuner)}
            j_index = {p: n for n, p in enumerate(pairs)}
            for area, factor, indicator, v in frame.select("area_code", "factor", "indicator_id",
                                                            column).iter_rows():
                if v is not None:
                    piv[k_index[area], j_index[(factor, indicator)]] = v
            wide[column] = piv
        value = wide["value"]
        available = ~np.isnan(value)
        meta = inputs.unique(["factor", "indicator_id"]).select(
            "factor", "indicator_id", "direction", "reference_mean", "reference_sd", "base_weight")
        by_pair = {(r["factor"], r["indicator_id"]): r for r in meta.iter_rows(named=True)}
        direction = np.array([by_pair[p]["direction"] for p in pairs], dtype=float)
        ref_mean = np.array([by_pair[p]["reference_mean"] or np.nan for p in pairs], dtype=float)
        ref_sd = np.array([by_pair[p]["reference_sd"] or np.nan for p in pairs], dtype=float)
        weight = np.array([by_pair[p]["base_weight"] for p in pairs], dtype=float)
        member = np.array([[1.0 if p[0] == f else 0.0 for f in factors] for p in pairs])
        counts = member.sum(axis=0)
        used = available.astype(float) @ member                    # (K, F)
        coverage_f = used / counts
        scored_f = coverage_f >= config.coverage_min - 1e-12
        scored_all = scored_f.mean(axis=1) >= config.coverage_min - 1e-12
        n_all = (used * scored_f).sum(axis=1)
        up = np.nan_to_num((wide["upper_95"] - value) / Z95, nan=0.0).clip(min=0)
        down = np.nan_to_num((value - wide["lower_95"]) / Z95, nan=0.0).clip(min=0)
        return cls(
            kommuner, factors, pairs, value, up, down, available, direction, ref_mean, ref_sd,
            weight, member, np.array([config.factors[f].weight for f in factors]),
            np.column_stack([scored_f, scored_all]),
            np.column_stack([coverage_f, available.sum(axis=1) / len(pairs)]),
            np.column_stack([used, n_all]))


@dataclass(frozen=True)
class Plan:
    """Method choices for a batch of draws (length D) and whether inputs are sampled."""

    winsor: np.ndarray        # (D,) share
    normal: np.ndarray        # (D,) index into NORMALISATIONS
    aggregate: np.ndarray     # (D,) index into AGGREGATIONS
    weight: np.ndarray        # (D, J) multipliers
    factor_weight: np.ndarray  # (D, F) multipliers
    sample: bool
    seed: int

    @property
    def draws(self) -> int:
        return len(self.winsor)

    @classmethod
    def nominal(cls, config: NeedConfig, n_inputs: int, n_factors: int, draws: int = 1,
                seed: int = 0, sample: bool = False) -> Plan:
        return cls(np.full(draws, float(config.winsorising.nominal)),
                   np.full(draws, NORMALISATIONS.index(config.normalisation.nominal)),
                   np.full(draws, AGGREGATIONS.index(config.aggregation.nominal)),
                   np.ones((draws, n_inputs)), np.ones((draws, n_factors)), sample, seed)

    @classmethod
    def monte_carlo(cls, config: NeedConfig, n_inputs: int, n_factors: int, *, draws: int | None = None,
                    vary: tuple[str, ...] = ("sampling", "winsorising", "normalisation", "weights",
                                             "aggregation"), seed: int | None = None) -> Plan:
        """Random draws of the elements in `vary`; the others stay nominal."""
        seed = config.seed if seed is None else seed
        draws = draws or config.draws
        rng = np.random.default_rng(seed)
        plan = cls.nominal(config, n_inputs, n_factors, draws, seed + 1, "sampling" in vary and config.sampling)
        winsor, normal, aggregate = plan.winsor, plan.normal, plan.aggregate
        weight, factor_weight = plan.weight, plan.factor_weight
        if "winsorising" in vary:
            winsor = rng.choice(np.array(config.winsorising.alternatives, dtype=float), draws)
        if "normalisation" in vary:
            normal = rng.choice([NORMALISATIONS.index(a) for a in config.normalisation.alternatives], draws)
        if "aggregation" in vary:
            aggregate = rng.choice([AGGREGATIONS.index(a) for a in config.aggregation.alternatives], draws)
        if "weights" in vary:
            low, high = 1 - config.weight_noise, 1 + config.weight_noise
            weight = rng.uniform(low, high, (draws, n_inputs))
            factor_weight = rng.uniform(low, high, (draws, n_factors))
        return cls(winsor, normal, aggregate, weight, factor_weight, plan.sample, plan.seed)


def _rank_desc(score: np.ndarray) -> np.ndarray:
    """Ranks along axis 1, 1 = highest; nan gets 0. Ties keep kommun order."""
    order = np.argsort(np.where(np.isnan(score), np.inf, -score), axis=1, kind="stable")
    ranks = np.empty_like(order)
    positions = np.broadcast_to(np.arange(1, score.shape[1] + 1).reshape(
        (1, -1) + (1,) * (score.ndim - 2)), order.shape)
    np.put_along_axis(ranks, order, positions, axis=1)
    return np.where(np.isnan(score), 0, ranks)


def _batch_scores(a: NeedArrays, plan: Plan, start: int, stop: int,
                  noise: np.ndarray | None, drop: int | None = None) -> np.ndarray:
    """Scores (B, K, F + 1) for draws start..stop, the inputs sampled with `noise` (standard
    normal, B × K × J) where the plan samples them; `drop` leaves one input out."""
    size, n_k = stop - start, len(a.kommuner)
    x = np.broadcast_to(a.value, (size, *a.value.shape))
    if noise is not None:
        x = x + np.where(noise > 0, noise * a.up, noise * a.down)
    available = a.available if drop is None else a.available & (np.arange(len(a.inputs)) != drop)
    n = np.maximum(a.available.sum(axis=0), 1)                         # (J,)
    order = np.argsort(x, axis=1)                                      # nan last
    ordered = np.take_along_axis(x, order, axis=1)

    def quantile(share: np.ndarray) -> np.ndarray:                     # (B,) → (B, 1, J)
        pos = share[:, None] * (n - 1)[None, :]
        lo = np.floor(pos).astype(int)
        frac = pos - lo
        at = np.take_along_axis(ordered, lo[:, None, :], axis=1)
        above = np.take_along_axis(ordered, np.minimum(lo + 1, n - 1)[:, None, :], axis=1)
        return at + frac[:, None, :] * (above - at)

    w = plan.winsor[start:stop]
    z = (np.clip(x, quantile(w), quantile(1 - w)) - a.ref_mean) / a.ref_sd
    rank_normal = plan.normal[start:stop] == 1
    if rank_normal.any():
        ranks = np.empty((int(rank_normal.sum()), n_k, len(a.inputs)))
        np.put_along_axis(ranks, order[rank_normal], np.broadcast_to(
            np.arange(1, n_k + 1, dtype=float)[None, :, None], ranks.shape), axis=1)
        # Imported here: the factor names above are read by the site, the register layouts
        # and the models, which need not load scipy (a fifth of a second) for them.
        from scipy.special import ndtri

        with np.errstate(invalid="ignore"):
            z[rank_normal] = ndtri(ranks / (n + 1))
    z *= a.direction
    geometric = plan.aggregate[start:stop] == 1
    if geometric.any():
        z[geometric] = np.log(_need_scale(z[geometric], available))
    weights = plan.weight[start:stop] * a.weight                       # (B, J)
    num = (np.where(available, z, 0.0) * weights[:, None, :]) @ a.member
    den = (available[None, :, :] * weights[:, None, :]) @ a.member
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(a.scored[None, :, :-1] & (den > 0), num / den, np.nan)
        fw = plan.factor_weight[start:stop] * a.factor_weight          # (B, F)
        present = ~np.isnan(factor)
        overall = (np.nansum(factor * fw[:, None, :], axis=2)
                   / (present * fw[:, None, :]).sum(axis=2))
    overall = np.where(a.scored[None, :, -1], overall, np.nan)
    return np.concatenate([factor, overall[:, :, None]], axis=2)


def _need_scale(z: np.ndarray, available: np.ndarray) -> np.ndarray:
    """Aligned z (B, K, J) shifted per draw and input so that the kommun with the least
    need has 1: positive, in standard deviations, for the geometric mean."""
    lowest = np.min(np.where(available[None], z, np.inf), axis=1, keepdims=True)
    with np.errstate(invalid="ignore"):
        return np.where(available[None], z - lowest + 1.0, np.nan)


def simulate(a: NeedArrays, plan: Plan, drop: int | None = None) -> np.ndarray:
    """Ranks (D, K, F + 1) over the plan's draws; 0 where a kommun has no score."""
    rng = np.random.default_rng(plan.seed)
    out = np.empty((plan.draws, len(a.kommuner), len(a.factors) + 1), dtype=np.int32)

    def run(start: int, stop: int, noise: np.ndarray | None) -> None:
        out[start:stop] = _rank_desc(_batch_scores(a, plan, start, stop, noise, drop))

    # numpy lets go of the GIL in its array work, so two chunks at a time use two cores. The
    # noise is drawn here, chunk after chunk, so the numbers do not depend on the threads.
    chunks = [(start, min(start + CHUNK, plan.draws)) for start in range(0, plan.draws, CHUNK)]
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        for wave in range(0, len(chunks), THREADS):
            running = [pool.submit(run, start, stop, rng.standard_normal((stop - start, *a.value.shape))
                                   if plan.sample else None)
                       for start, stop in chunks[wave:wave + THREADS]]
            for done in running:
                done.result()
    return out


# --- the index ------------------------------------------------------------------------------

NEED_SCHEMA = {
    "area_code": pl.String, "area_type": pl.String, "lan_code": pl.String, "factor": pl.String,
    "factor_label": pl.String, "period": pl.Int32, "score": pl.Float64, "level": pl.Int8,
    "rank": pl.Int32, "rank_median": pl.Float64, "rank_lower": pl.Int32, "rank_upper": pl.Int32,
    "p_top_fifth": pl.Float64, "n_ranked": pl.Int32, "rankability": pl.Float64,
    "rank_lan": pl.Int32, "rank_lan_median": pl.Float64, "rank_lan_lower": pl.Int32,
    "rank_lan_upper": pl.Int32, "n_ranked_lan": pl.Int32, "p_top_lan": pl.Float64,
    "rankability_lan": pl.Float64, "subregion_code": pl.String, "rank_subregion": pl.Int32,
    "rank_subregion_lower": pl.Int32, "rank_subregion_upper": pl.Int32,
    "n_ranked_subregion": pl.Int32, "coverage": pl.Float64,
    "n_indicators": pl.Int32, "status": pl.String, "status_reason": pl.String,
    "draws": pl.Int32, "index_version": pl.String,
}


def _percentile(ranks: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Percentile score 100·(n − rank + 1)/n; nan without a rank."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ranks > 0, 100.0 * (n - ranks + 1) / n, np.nan)


def _interval(ranks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median, 5th (lower order statistic) and 95th (higher) percentile over axis 0."""
    return (np.median(ranks, axis=0), np.quantile(ranks, 0.05, axis=0, method="lower"),
            np.quantile(ranks, 0.95, axis=0, method="higher"))


def _group_ranks(score: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Ranks (1 = highest) of areas within their group, along axis 1 of (D, A, F)."""
    ranks = np.zeros(score.shape, dtype=np.int32)
    for group in np.unique(groups):
        members = np.flatnonzero(groups == group)
        ranks[:, members] = _rank_desc(score[:, members])
    return ranks


def _within(ranks: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """National ranks (D, K, F + 1; 0 = unscored) turned into ranks within each group."""
    with np.errstate(invalid="ignore"):
        score = np.where(ranks > 0, -ranks.astype(float), np.nan)
    return _group_ranks(score, groups)


@dataclass(frozen=True)
class Frame:
    """Ranks of the kommuner within one kind of area set (the country, county or sub-region)."""

    nominal: np.ndarray      # (K, F + 1)
    median: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    n_ranked: np.ndarray     # (K, F + 1): kommuner ranked in the kommun's own set
    p_top: np.ndarray        # (K, F + 1)
    rankability: np.ndarray  # (K, F + 1), nan where the set is too small

    @classmethod
    def of(cls, nominal: np.ndarray, draws: np.ndarray, groups: np.ndarray, share: float,
           min_size: int) -> Frame:
        nominal_in = _within(nominal[None], groups)[0]
        drawn = _within(draws, groups)
        median, lower, upper = _interval(drawn)
        n_ranked = np.zeros(nominal.shape, dtype=np.int32)
        rho = np.full(nominal.shape, np.nan)
        for group in np.unique(groups):
            members = np.flatnonzero(groups == group)
            for f in range(nominal.shape[1]):
                scored = members[nominal[members, f] > 0]
                n_ranked[members, f] = len(scored)
                value = rankability(drawn[:, scored, f]) if len(scored) >= min_size else None
                rho[members, f] = np.nan if value is None else value
        top = np.ceil(share * n_ranked - 1e-9)
        p_top = ((drawn > 0) & (drawn <= top[None])).mean(axis=0)
        p_top = np.where(n_ranked >= min_size, p_top, np.nan)
        return cls(nominal_in, median, lower, upper, n_ranked, p_top, rho)

    def row(self, k: int, f: int, prefix: str, ok: bool) -> dict:
        def pick(value, kind=int):
            return kind(value) if ok else None
        return {f"rank{prefix}": pick(self.nominal[k, f]),
                f"rank{prefix}_median": pick(self.median[k, f], float),
                f"rank{prefix}_lower": pick(self.lower[k, f]),
                f"rank{prefix}_upper": pick(self.upper[k, f]),
                f"n_ranked{prefix}": int(self.n_ranked[k, f])}


def _maybe(value: float, ok: bool) -> float | None:
    return float(value) if ok and not np.isnan(value) else None


def need_index(inputs: pl.DataFrame, config: NeedConfig, areas: pl.DataFrame,
               membership: pl.DataFrame, children: pl.DataFrame) -> pl.DataFrame:
    """marts.need_index: kommuner, sub-regions and län × factor (and overall).

    `areas`: area_code, area_type, lan_code; `membership`: kommun_code, area_code,
    area_type (lan, subregion); `children`: area_code, children (population 0–19).
    Each kommun is ranked in the country, within its county and within its sub-region.
    """
    a = NeedArrays.of(inputs, config)
    n_in, n_f = len(a.inputs), len(a.factors)
    nominal = simulate(a, Plan.nominal(config, n_in, n_f))[0]          # (K, F + 1)
    draws = simulate(a, Plan.monte_carlo(config, n_in, n_f))            # (D, K, F + 1)
    n_ranked = a.scored.sum(axis=0)                                    # (F + 1,)
    top = np.ceil(config.top_share * n_ranked)
    median, lower, upper = _interval(draws)
    p_top = ((draws > 0) & (draws <= top)).mean(axis=0)
    national_rho = [rankability(draws[:, a.scored[:, f], f]) for f in range(n_f + 1)]
    period = inputs["period"].max()
    factor_codes = [*a.factors, OVERALL]
    kommun_lan = dict(areas.filter(pl.col("area_type") == "kommun")
                      .select("area_code", "lan_code").iter_rows())
    lans = np.array([kommun_lan.get(code, code[:2]) for code in a.kommuner])
    county = Frame.of(nominal, draws, lans, config.county_top_share, config.county_min)
    sub_of = dict(membership.filter(pl.col("area_type") == "subregion")
                  .select("kommun_code", "area_code").iter_rows())
    subs = np.array([sub_of.get(code, "") or "-" + code for code in a.kommuner])
    sub = Frame.of(nominal, draws, subs, config.county_top_share, config.county_min)
    rows = []
    for k, code in enumerate(a.kommuner):
        for f, factor in enumerate(factor_codes):
            ok = bool(a.scored[k, f])
            rank = int(nominal[k, f]) if ok else None
            in_sub = code in sub_of
            rows.append({
                "area_code": code, "area_type": "kommun", "lan_code": lans[k],
                "factor": factor, "rank": rank,
                "score": float(math.ceil(100 * (n_ranked[f] - rank + 1) / n_ranked[f] - 1e-9)) if ok else None,
                "level": int(math.ceil(5 * (n_ranked[f] - rank + 1) / n_ranked[f] - 1e-9)) if ok else None,
                "rank_median": float(median[k, f]) if ok else None,
                "rank_lower": int(lower[k, f]) if ok else None,
                "rank_upper": int(upper[k, f]) if ok else None,
                "p_top_fifth": float(p_top[k, f]) if ok else None,
                "n_ranked": int(n_ranked[f]), "rankability": national_rho[f],
                **county.row(k, f, "_lan", ok),
                "p_top_lan": _maybe(county.p_top[k, f], ok),
                "rankability_lan": _maybe(county.rankability[k, f], True),
                "subregion_code": sub_of.get(code),
                **sub.row(k, f, "_subregion", ok and in_sub),
                "coverage": float(a.coverage[k, f]), "n_indicators": int(a.n_used[k, f]),
                "status": "ok" if ok else "missing",
                "status_reason": None if ok else _missing_reason(a, k, f, config),
            })
            if not in_sub:
                rows[-1]["n_ranked_subregion"] = None
    rows += _area_rows(a, config, nominal, draws, areas, membership, children)
    frame = pl.DataFrame(rows, schema={k: v for k, v in NEED_SCHEMA.items()
                                       if k not in ("factor_label", "period", "draws", "index_version")})
    return frame.with_columns(
        factor_label=pl.col("factor").replace_strict(FACTORS),
        period=pl.lit(period, dtype=pl.Int32),
        draws=pl.lit(config.draws, dtype=pl.Int32),
        index_version=pl.lit(config.fingerprint),
    ).select(list(NEED_SCHEMA)).cast(NEED_SCHEMA).sort("area_type", "area_code", "factor")


def _missing_reason(a: NeedArrays, k: int, f: int, config: NeedConfig) -> str:
    if f == len(a.factors):
        return (f"färre än {config.coverage_min:.0%} av de strategiska faktorerna har ett "
                "beräknat behov").replace("%", " %")
    total = int(a.member[:, f].sum())
    return (f"bara {int(a.n_used[k, f])} av faktorns {total} indikatorer har värden; "
            f"minst {config.coverage_min:.0%} krävs").replace("%", " %")


def _area_rows(a: NeedArrays, config: NeedConfig, nominal: np.ndarray, draws: np.ndarray,
               areas: pl.DataFrame, membership: pl.DataFrame, children: pl.DataFrame) -> list[dict]:
    """Län and sub-regions: child-weighted mean of their kommuner's percentile scores."""
    wanted = membership.filter(pl.col("area_type").is_in(["lan", "subregion"]))
    codes = sorted(set(wanted["area_code"].to_list()))
    if not codes:
        return []
    info = {r["area_code"]: r for r in areas.iter_rows(named=True)}
    k_index = {c: n for n, c in enumerate(a.kommuner)}
    a_index = {c: n for n, c in enumerate(codes)}
    pop = dict(children.select("area_code", "children").iter_rows())
    weights = np.zeros((len(a.kommuner), len(codes)))
    for kommun, area in wanted.select("kommun_code", "area_code").iter_rows():
        if kommun in k_index:
            weights[k_index[kommun], a_index[area]] = pop.get(kommun) or 0.0
    n_ranked = a.scored.sum(axis=0)
    kinds = np.array([info.get(c, {}).get("area_type", "lan") for c in codes])
    groups = np.array([c if kind == "lan" else "sub:" + (info.get(c, {}).get("lan_code") or c[:2])
                       for c, kind in zip(codes, kinds, strict=True)])
    groups = np.where(kinds == "lan", "lan", groups)

    def area_scores(ranks: np.ndarray) -> np.ndarray:                  # (D, K, F) → (D, A, F)
        pct = np.nan_to_num(_percentile(ranks, n_ranked), nan=0.0)
        num = (pct.transpose(0, 2, 1) @ weights).transpose(0, 2, 1)   # (D, A, F), one BLAS call
        den = weights.T @ a.scored.astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, num / den, np.nan)

    nominal_score = area_scores(nominal[None])[0]
    drawn = area_scores(draws)
    nominal_rank = _group_ranks(nominal_score[None], groups)[0]
    drawn_rank = _group_ranks(drawn, groups)
    median, lower, upper = _interval(drawn_rank)
    n_lan = int((kinds == "lan").sum())
    top_lan = math.ceil(config.top_share * n_lan)
    covered = (weights.T @ a.scored.astype(float)) / np.maximum(
        weights.sum(axis=0)[:, None], 1e-12)
    used = (a.available.astype(float).T @ (weights > 0).astype(float)) > 0     # (J, A)
    rho = {}
    for group in np.unique(groups):
        members = np.flatnonzero(groups == group)
        for f in range(len(a.factors) + 1):
            ranked = members[nominal_rank[members, f] > 0]
            rho[(group, f)] = rankability(drawn_rank[:, ranked, f]) if len(ranked) >= config.county_min else None
    rows = []
    for i, code in enumerate(codes):
        is_lan = kinds[i] == "lan"
        group_size = int((groups == groups[i]).sum())
        for f, factor in enumerate([*a.factors, OVERALL]):
            ok = bool(covered[i, f] >= config.coverage_min) and not np.isnan(nominal_score[i, f])
            inputs_of = a.member[:, f] > 0 if f < len(a.factors) else np.ones(len(a.inputs), bool)
            rows.append({
                "area_code": code, "area_type": str(kinds[i]),
                "lan_code": code if is_lan else info.get(code, {}).get("lan_code"),
                "factor": factor,
                "score": round(float(nominal_score[i, f]), 6) if ok else None, "level": None,
                "rank": int(nominal_rank[i, f]) if ok else None,
                "rank_median": float(median[i, f]) if ok else None,
                "rank_lower": int(lower[i, f]) if ok else None,
                "rank_upper": int(upper[i, f]) if ok else None,
                "p_top_fifth": float(((drawn_rank[:, i, f] > 0) & (drawn_rank[:, i, f] <= top_lan)).mean())
                if ok and is_lan else None,
                "n_ranked": n_lan if is_lan else group_size,
                "rankability": rho[(groups[i], f)] if ok else None,
                "coverage": float(covered[i, f]),
                "n_indicators": int((used[:, i] & inputs_of).sum()),
                "status": "ok" if ok else "missing",
                "status_reason": None if ok else
                "för liten del av barnen (0–19 år) bor i kommuner med beräknat behov",
            })
    return rows


# --- sensitivity ----------------------------------------------------------------------------

SENSITIVITY_SCHEMA = {"factor": pl.String, "input": pl.String, "input_kind": pl.String,
                      "input_label": pl.String, "effect": pl.Float64, "rank_of_effect": pl.Int32,
                      "index_version": pl.String}


def _mean_shift(ranks: np.ndarray, nominal: np.ndarray, scored: np.ndarray) -> np.ndarray:
    """Mean absolute rank change per factor over draws and ranked kommuner: (F + 1,)."""
    shift = np.abs(ranks - nominal[None]).astype(float) * scored[None]
    return shift.sum(axis=(0, 1)) / np.maximum(scored.sum(axis=0) * ranks.shape[0], 1)


def need_sensitivity(inputs: pl.DataFrame, config: NeedConfig,
                     titles: dict[str, str]) -> pl.DataFrame:
    """marts.need_sensitivity: what moves the ranks most, per factor and overall."""
    a = NeedArrays.of(inputs, config)
    n_in, n_f = len(a.inputs), len(a.factors)
    nominal = simulate(a, Plan.nominal(config, n_in, n_f))[0]
    effects: dict[tuple[str, str], np.ndarray] = {}
    for element in METHOD_INPUTS:
        if element == "sampling" and not config.sampling:
            continue
        discrete = {"winsorising": "winsor", "normalisation": "normal", "aggregation": "aggregate"}
        if element in discrete:
            # Each alternative as likely as in the Monte Carlo: the expected shift is their mean.
            choice = getattr(config, element)
            shifts = []
            for alternative in choice.alternatives:
                value = (float(alternative) if element == "winsorising" else
                         (NORMALISATIONS if element == "normalisation" else AGGREGATIONS).index(alternative))
                plan = replace(Plan.nominal(config, n_in, n_f), **{discrete[element]: np.full(1, value)})
                shifts.append(_mean_shift(simulate(a, plan), nominal, a.scored))
            effects[("method", element)] = np.mean(shifts, axis=0)
        else:
            plan = Plan.monte_carlo(config, n_in, n_f, draws=config.sensitivity_draws, vary=(element,),
                                    seed=config.seed + 7)
            effects[("method", element)] = _mean_shift(simulate(a, plan), nominal, a.scored)
    for j, (factor, indicator) in enumerate(a.inputs):
        shift = _mean_shift(simulate(a, Plan.nominal(config, n_in, n_f), drop=j), nominal, a.scored)
        keep = np.zeros(n_f + 1)
        keep[a.factors.index(factor)] = 1
        keep[-1] = 1
        effects[("indicator", indicator + "\x00" + factor)] = np.where(keep > 0, shift, np.nan)
    rows = []
    for f, factor in enumerate([*a.factors, OVERALL]):
        for (kind, key), effect in effects.items():
            if np.isnan(effect[f]):
                continue
            name = key.split("\x00")[0]
            label = METHOD_INPUTS[name] if kind == "method" else titles.get(name, name)
            rows.append({"factor": factor, "input": name, "input_kind": kind, "input_label": label,
                         "effect": round(float(effect[f]), 6)})
    frame = pl.DataFrame(rows, schema={k: v for k, v in SENSITIVITY_SCHEMA.items()
                                       if k not in ("rank_of_effect", "index_version")})
    return (frame.sort("factor", "effect", "input", descending=[False, True, False])
            .with_columns(rank_of_effect=pl.int_range(1, pl.len() + 1).over("factor").cast(pl.Int32),
                          index_version=pl.lit(config.fingerprint))
            .select(list(SENSITIVITY_SCHEMA)).sort("factor", "rank_of_effect"))


# --- what drives a kommun's need --------------------------------------------------------------

CONTRIBUTION_KIND = {"indicator": "Indikator", "factor": "Strategisk faktor"}
CONTRIBUTION_SCHEMA = {
    "area_code": pl.String, "factor": pl.String, "input_id": pl.String, "input_kind": pl.String,
    "input_label": pl.String, "period": pl.Int32, "value": pl.Float64, "aligned_z": pl.Float64,
    "weight": pl.Float64, "contribution": pl.Float64, "score_z": pl.Float64,
    "rank_of_contribution": pl.Int32, "index_version": pl.String,
}


def need_contribution(inputs: pl.DataFrame, config: NeedConfig, titles: dict[str, str]) -> pl.DataFrame:
    """marts.need_contribution: each input's share of a kommun's nominal need score.

    The nominal factor score is the weighted mean of the aligned z, Σ wⱼ·zⱼ with the weights
    renormalised over the kommun's indicators, so each indicator contributes wⱼ·zⱼ (positive:
    pushes need up). The overall score is the mean of the factor scores weighted by the
    factor weights renormalised over the scored factors; each factor contributes its share.
    Only kommuner with a score (the coverage rule) get rows. Sorted so that rank 1 is the
    input that raises need the most.
    """
    ok = inputs.filter(pl.col("status") == "ok")
    totals = inputs.group_by("factor", "area_code").agg(total=pl.len())
    indicators = (ok.join(totals, on=["factor", "area_code"])
                  .filter(pl.len().over("factor", "area_code") >= config.coverage_min * pl.col("total") - 1e-9)
                  .select("area_code", "factor", input_id="indicator_id",
                          input_kind=pl.lit("indicator"), period="period", value="value",
                          aligned_z="aligned_z", weight="weight",
                          contribution=pl.col("weight") * pl.col("aligned_z")))
    scores = _exact_sums(indicators)
    n_factors = len(config.factors)
    weights = pl.DataFrame({"factor": list(config.factors),
                            "base": [spec.weight for spec in config.factors.values()]})
    overall = (scores.join(weights, on="factor")
               .filter(pl.len().over("area_code") >= config.coverage_min * n_factors - 1e-9)
               .with_columns(weight=pl.col("base") / pl.col("base").sum().over("area_code"))
               .select("area_code", factor=pl.lit(OVERALL), input_id="factor",
                       input_kind=pl.lit("factor"), period=pl.lit(None, dtype=pl.Int32),
                       value=pl.lit(None, dtype=pl.Float64), aligned_z="score_z", weight="weight",
                       contribution=pl.col("weight") * pl.col("score_z")))
    frame = pl.concat([indicators.cast({"period": pl.Int32}), overall], how="vertical_relaxed")
    labels = {**titles, **FACTORS}
    return (frame.join(_exact_sums(frame), on=["area_code", "factor"])
            .with_columns(input_label=pl.col("input_id").replace_strict(labels, default=pl.col("input_id")),
                          index_version=pl.lit(config.fingerprint))
            .sort("area_code", "factor", "contribution", "input_id", descending=[False, False, True, False])
            .with_columns(rank_of_contribution=pl.int_range(1, pl.len() + 1)
                          .over("area_code", "factor").cast(pl.Int32))
            .select(list(CONTRIBUTION_SCHEMA)).cast(CONTRIBUTION_SCHEMA))


def _exact_sums(frame: pl.DataFrame) -> pl.DataFrame:
    """Σ contribution per kommun and factor, correctly rounded (math.fsum) so that the same
    inputs give the same bits whatever order a parallel sum would take."""
    sums: dict[tuple[str, str], list[float]] = {}
    for area, factor, value in frame.select("area_code", "factor", "contribution").iter_rows():
        sums.setdefault((area, factor), []).append(value)
    keys = sorted(sums)
    return pl.DataFrame({"area_code": [k[0] for k in keys], "factor": [k[1] for k in keys],
                         "score_z": [math.fsum(sums[k]) for k in keys]})
