"""The health-economics catalogues in data/catalog/: late_cost.yaml (Kolada's cost and
volume KPIs, the price index) and prevention_scenarios.yaml (scenarios with their sources).

Like the indicator catalogue, every entry is checked on load and a broken one stops the run
with a message naming the file, the entry and the field. The models keep each number's
citation beside it; `parameters()` and `settings()` hand the numbers alone to
transforms/health_economics.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, ClassVar, Literal

import polars as pl
import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from sources.catalog import AgeBand, CatalogError, _Strict
from transforms.health_economics import (PARAMETERS, CostKpi, CostSettings, ScenarioParameters,
                                         ScenarioSettings, Triangular)
from transforms.population import band_key

LATE_COST_FILE = "late_cost.yaml"
SCENARIO_FILE = "prevention_scenarios.yaml"
WHAT_IF = "what_if"   # `source: what_if`: an assumption of this tool, not a finding

KoladaId = Annotated[str, Field(pattern=r"^[NU]\d{5}$")]
Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
Text = Annotated[str, Field(min_length=3)]


# -- late_cost.yaml ---------------------------------------------------------------------------


class PriceIndex(_Strict):
    name: Text
    source: Text
    note: str | None = None
    price_year: int = Field(ge=1980, le=2100)
    values: dict[int, Annotated[float, Field(gt=0)]] = Field(min_length=1)

    @model_validator(mode="after")
    def _has_price_year(self) -> PriceIndex:
        if self.price_year not in self.values:
            raise ValueError(f"price_year {self.price_year} has no value in 'values'")
        return self

    def factor(self, year: int) -> float:
        """I(price_year) / I(year); a year the index lacks cannot be restated."""
        if year not in self.values:
            raise KeyError(year)
        return self.values[self.price_year] / self.values[year]


class CostKpiEntry(_Strict):
    id: KoladaId
    kind: Code
    label: Text
    kolada_title: Text
    measure: Literal["cost", "reference", "volume"]
    per: AgeBand | Literal["all"]
    reference_for: Code | None = None
    verification: Literal["verified", "unverified"]
    verified_in: Text
    note: str | None = None

    @model_validator(mode="after")
    def _reference(self) -> CostKpiEntry:
        if (self.measure == "reference") != (self.reference_for is not None):
            raise ValueError("'reference_for' is required for measure 'reference' and only there")
        return self

    @property
    def band(self) -> str:
        return "all" if self.per == "all" else band_key(self.per.from_age, self.per.to_age)


class LateCostCatalog(_Strict):
    price_index: PriceIndex
    rolling_years: int = Field(default=3, ge=1, le=10)
    min_coverage: float = Field(default=0.3, ge=0, le=1)
    reference_band_pct: float = Field(default=5.0, gt=0, lt=100)
    kpis: list[dict]  # validated entry by entry in load_late_cost, for messages that name them

    def settings(self, entries: list[CostKpiEntry]) -> CostSettings:
        return CostSettings(
            kpis=tuple(CostKpi(e.id, e.kind, e.label, e.measure, e.band, e.reference_for)
                       for e in entries),
            index=dict(self.price_index.values), price_year=self.price_index.price_year,
            rolling_years=self.rolling_years, min_coverage=self.min_coverage,
            reference_band_pct=self.reference_band_pct)


class LateCost(BaseModel):
    """The loaded cost catalogue: its settings and its checked entries."""

    catalog: LateCostCatalog
    entries: list[CostKpiEntry]

    @property
    def settings(self) -> CostSettings:
        return self.catalog.settings(self.entries)

    @property
    def kpi_ids(self) -> list[str]:
        return [e.id for e in self.entries]

    def entry(self, kind: str) -> CostKpiEntry | None:
        return next((e for e in self.entries if e.kind == kind), None)


def _read(path: Path) -> dict:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise CatalogError(f"{path}: cannot be read: {err}") from err
    except yaml.YAMLError as err:
        raise CatalogError(f"{path}: not valid YAML: {err}") from err
    if not isinstance(doc, dict):
        raise CatalogError(f"{path}: expected a mapping at the top")
    return doc


def _problems(path: Path, what: str, index: int | None, ident: str, err: ValidationError) -> list[str]:
    """One line per problem: file, entry and field. A field that may be one of several shapes
    (`per`: ages or "all") is named plainly, with the branches' messages, literal ones only
    when nothing else went wrong."""
    where = f"{what} #{index + 1} ({ident!r})" if index is not None else what
    found: dict[str, list[tuple[bool, str]]] = {}
    for problem in err.errors():
        parts = [str(p) for p in problem["loc"]]
        field = ".".join(p for p in parts if "[" not in p) or "(entry)"
        found.setdefault(field, []).append((any(p.startswith("literal[") for p in parts), problem["msg"]))
    lines = []
    for field, messages in found.items():
        plain = [m for literal, m in messages if not literal] or [m for _, m in messages]
        lines += [f"{path}: {where}: field '{field}': {m}" for m in plain]
    return lines


def _entries(path: Path, doc: dict, key: str, what: str, model: type[BaseModel]) -> list:
    """Validate each entry under `key`, collecting every problem with entry and field."""
    raw = doc.get(key)
    if not isinstance(raw, list) or not raw:
        raise CatalogError(f"{path}: expected a non-empty list under '{key}'")
    problems, entries = [], []
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict):
            problems.append(f"{path}: {what} #{i + 1}: expected a mapping, got {entry!r}")
            continue
        try:
            entries.append(model.model_validate(entry))
        except ValidationError as err:
            problems.extend(_problems(path, what, i, str(entry.get("id", "?")), err))
    if problems:
        raise CatalogError("\n".join(problems))
    return entries


def _document(path: Path, model: type[BaseModel], key: str, what: str,
              entry_model: type[BaseModel]) -> tuple:
    """The file's settings (`model`) and its entries under `key`, each checked."""
    doc = _read(path)
    try:
        settings = model.model_validate(doc)
    except ValidationError as err:
        raise CatalogError("\n".join(_problems(path, path.stem, None, "", err))) from err
    return settings, _entries(path, doc, key, what, entry_model)


def load_late_cost(path: Path) -> LateCost:
    """Read and check late_cost.yaml; raise CatalogError naming entry and field."""
    catalog, entries = _document(path, LateCostCatalog, "kpis", "kpi", CostKpiEntry)
    problems = []
    for field in ("id", "kind"):
        seen: set[str] = set()
        for e in entries:
            if getattr(e, field) in seen:
                problems.append(f"{path}: kpi {e.id!r}: field '{field}': duplicate {getattr(e, field)!r}")
            seen.add(getattr(e, field))
    costs = {e.kind for e in entries if e.measure == "cost"}
    problems += [f"{path}: kpi {e.id!r}: field 'reference_for': {e.reference_for!r} is not the "
                 f"kind of a cost in this file" for e in entries
                 if e.reference_for is not None and e.reference_for not in costs]
    if problems:
        raise CatalogError("\n".join(problems))
    return LateCost(catalog=catalog, entries=entries)


# -- prevention_scenarios.yaml ----------------------------------------------------------------


class Range(_Strict):
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if not self.low <= self.mode <= self.high:
            raise ValueError(f"expected low ≤ mode ≤ high, got {self.low}, {self.mode}, {self.high}")
        return self

    def triangular(self) -> Triangular:
        return Triangular(self.low, self.mode, self.high)


class Cited(_Strict):
    """Where a number comes from: a citation, or `what_if` for an assumption of this tool."""

    source: Text
    verified: bool = False
    text: str | None = None
    caveat: str | None = None

    @property
    def is_assumption(self) -> bool:
        return self.source == WHAT_IF


class CitedRange(Range, Cited):
    pass


class Bounded(CitedRange):
    """A cited range whose values must lie within `bounds`."""

    bounds: ClassVar[tuple[float, float]] = (0.0, 1.0)
    what: ClassVar[str] = "a share"

    @model_validator(mode="after")
    def _within(self) -> Bounded:
        low, high = self.bounds
        if self.low < low or self.high > high:
            raise ValueError(f"{self.what} must lie between {low} and {high}")
        return self


class Share(Bounded):
    pass


class PricedRange(CitedRange):
    price_year: int = Field(ge=1980, le=2100)

    @model_validator(mode="after")
    def _positive(self) -> PricedRange:
        if self.low < 0:
            raise ValueError("an amount cannot be negative")
        return self


class ShadowPrice(Cited):
    value: Range | None
    price_year: int | None = Field(default=None, ge=1980, le=2100)
    form: Literal["lifetime_sum", "npv_at_outcome"]
    benefit_years: int | None = Field(default=None, ge=1, le=80)
    delay_years: int = Field(ge=0, le=80)

    @model_validator(mode="after")
    def _complete(self) -> ShadowPrice:
        if self.value is not None and self.price_year is None:
            raise ValueError("a shadow price with a value needs its price_year")
        if self.value is not None and self.value.low < 0:
            raise ValueError("a shadow price cannot be negative")
        if self.value is not None and self.form == "lifetime_sum" and self.benefit_years is None:
            raise ValueError("a lifetime sum needs benefit_years (the years it is spread over)")
        if self.value is None and not self.caveat:
            raise ValueError("a shadow price without a value must say why in 'caveat'")
        return self


class Payers(Cited):
    individual: float = Field(ge=0, le=1)
    public: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _whole(self) -> Payers:
        if abs(self.individual + self.public - 1) > 1e-9:
            raise ValueError("the payers' shares must add up to 1")
        return self


class Scenario(_Strict):
    id: Code
    title: Text
    outcome_indicator: Annotated[str, Field(pattern=r"^[A-Za-z0-9_]+$")]
    outcome: Text
    at_risk: Text
    cohort: AgeBand
    participation: Share
    effect: Share
    shadow_price: ShadowPrice
    payers: Payers
    kommun_share: Share
    programme_cost: PricedRange

    @model_validator(mode="after")
    def _kommun_within_public(self) -> Scenario:
        if self.kommun_share.high > self.payers.public + 1e-9:
            raise ValueError(f"kommun_share.high ({self.kommun_share.high}) exceeds the public "
                             f"share in payers ({self.payers.public})")
        return self

    def parameters(self, index: PriceIndex, discount_rate: Range) -> ScenarioParameters:
        price = self.shadow_price
        return ScenarioParameters(
            id=self.id, title=self.title, outcome_indicator=self.outcome_indicator,
            outcome=self.outcome, at_risk=self.at_risk,
            cohort_band=band_key(self.cohort.from_age, self.cohort.to_age),
            participation=self.participation.triangular(), effect=self.effect.triangular(),
            shadow_price=price.value.triangular() if price.value else None,
            shadow_price_factor=index.factor(price.price_year) if price.value else 1.0,
            form=price.form, benefit_years=price.benefit_years, delay_years=price.delay_years,
            discount_rate=discount_rate.triangular(), kommun_share=self.kommun_share.triangular(),
            cost=self.programme_cost.triangular(),
            cost_factor=index.factor(self.programme_cost.price_year))

    def _numbers(self) -> list[tuple[str, Cited]]:
        return [("effekten", self.effect), ("skuggpriset", self.shadow_price),
                ("fördelningen på betalare", self.payers), ("kommunens andel", self.kommun_share),
                ("programkostnaden", self.programme_cost), ("deltagandet", self.participation)]

    def assumptions(self) -> list[str]:
        """The Swedish names of this scenario's numbers that are assumptions (what-if)."""
        return [name for name, part in self._numbers() if part.is_assumption]

    def unchecked(self) -> list[str]:
        """The Swedish names of its cited numbers that could not be checked in the source."""
        return [name for name, part in self._numbers() if not part.is_assumption and not part.verified]


class BreakEven(_Strict):
    likely: float = Field(default=0.9, gt=0.5, le=1)
    unlikely: float = Field(default=0.1, ge=0, lt=0.5)


class DiscountRate(Bounded):
    bounds = (0.0, 0.2)
    what = "a real discount rate per year (e.g. 0.035)"


class ScenarioCatalog(_Strict):
    draws: int = Field(default=2000, ge=100, le=100_000)
    seed: int
    interval: float = Field(default=0.9, gt=0, lt=1)
    break_even: BreakEven = BreakEven()
    discount_rate: DiscountRate
    scenarios: list[dict]  # validated one by one in load_scenarios

    def settings(self, price_year: int) -> ScenarioSettings:
        return ScenarioSettings(draws=self.draws, seed=self.seed, interval=self.interval,
                                likely=self.break_even.likely, unlikely=self.break_even.unlikely,
                                price_year=price_year)


class Scenarios(BaseModel):
    """The loaded scenario catalogue, its entries and the numbers for the Monte Carlo."""

    catalog: ScenarioCatalog
    entries: list[Scenario]
    index: PriceIndex

    @property
    def settings(self) -> ScenarioSettings:
        return self.catalog.settings(self.index.price_year)

    def parameters(self) -> list[ScenarioParameters]:
        return [s.parameters(self.index, self.catalog.discount_rate) for s in self.entries]


def load_scenarios(path: Path, index: PriceIndex) -> Scenarios:
    """Read and check prevention_scenarios.yaml against the price index of late_cost.yaml
    (every price year must be in it); raise CatalogError naming scenario and field."""
    catalog, entries = _document(path, ScenarioCatalog, "scenarios", "scenario", Scenario)
    problems, seen = [], set()
    for s in entries:
        if s.id in seen:
            problems.append(f"{path}: scenario {s.id!r}: field 'id': duplicate id")
        seen.add(s.id)
        years = [("programme_cost.price_year", s.programme_cost.price_year)]
        if s.shadow_price.value is not None:
            years.append(("shadow_price.price_year", s.shadow_price.price_year))
        problems += [f"{path}: scenario {s.id!r}: field '{field}': {year} is not in the price "
                     f"index of {LATE_COST_FILE} ({min(index.values)}–{max(index.values)})"
                     for field, year in years if year not in index.values]
    if problems:
        raise CatalogError("\n".join(problems))
    return Scenarios(catalog=catalog, entries=entries, index=index)


def load_health_economics(catalog_dir: Path) -> tuple[LateCost, Scenarios]:
    """Both catalogues of a catalogue folder."""
    costs = load_late_cost(catalog_dir / LATE_COST_FILE)
    return costs, load_scenarios(catalog_dir / SCENARIO_FILE, costs.catalog.price_index)


def health_kpis(catalog_dir: Path, *, strict: bool = True) -> dict[str, str]:
    """The cost catalogue's Kolada KPIs with the value type their values are checked as
    (kronor per resident: rate, never negative; shares: proportion); none without the file.

    Not `strict`, a broken file gives none either: the fetch and the data-quality table go
    on, and marts.late_cost fails with the message naming entry and field."""
    path = catalog_dir / LATE_COST_FILE
    if not path.exists():
        return {}
    try:
        entries = load_late_cost(path).entries
    except CatalogError:
        if strict:
            raise
        return {}
    return {e.id: "proportion" if e.measure == "volume" else "rate" for e in entries}


# -- the catalogues as published tables -------------------------------------------------------

KPI_COLUMNS = {
    "source_kpi": pl.String, "cost_kind": pl.String, "cost_label": pl.String, "measure": pl.String,
    "resident_band": pl.String, "reference_for": pl.String, "kolada_title": pl.String,
    "verification": pl.String, "verified_in": pl.String, "note": pl.String,
    "price_index": pl.String, "price_index_source": pl.String, "price_index_note": pl.String,
    "price_year": pl.Int32, "sort_order": pl.Int32,
}


def kpi_frame(costs: LateCost) -> pl.DataFrame:
    """marts.late_cost_kpi: the cost catalogue, one row per KPI, with the price index used."""
    index = costs.catalog.price_index
    return pl.DataFrame([{
        "source_kpi": e.id, "cost_kind": e.kind, "cost_label": e.label, "measure": e.measure,
        "resident_band": e.band, "reference_for": e.reference_for, "kolada_title": e.kolada_title,
        "verification": e.verification, "verified_in": " ".join(e.verified_in.split()),
        "note": " ".join(e.note.split()) if e.note else None, "price_index": index.name,
        "price_index_source": " ".join(index.source.split()),
        "price_index_note": " ".join(index.note.split()) if index.note else None,
        "price_year": index.price_year, "sort_order": i,
    } for i, e in enumerate(costs.entries)], schema=KPI_COLUMNS)


ASSUMPTION_COLUMNS = {
    "scenario_id": pl.String, "parameter": pl.String, "label": pl.String, "unit": pl.String,
    "low": pl.Float64, "mode": pl.Float64, "high": pl.Float64, "source_price_year": pl.Int32,
    "price_year": pl.Int32, "kind": pl.String, "source": pl.String, "verified": pl.Boolean,
    "note": pl.String, "sort_order": pl.Int32,
}
def _flat(text: str | None) -> str | None:
    return " ".join(text.split()) if text else None


def assumptions_frame(scenarios: Scenarios) -> pl.DataFrame:
    """marts.prevention_assumption: every number of every scenario with its source; amounts
    restated in the common price year (the source's year beside them)."""
    index, rate = scenarios.index, scenarios.catalog.discount_rate
    rows = []
    for s in scenarios.entries:
        price = s.shadow_price
        parts = {
            "participation": (s.participation, s.participation, None, 1.0),
            "effect": (s.effect, s.effect, None, 1.0),
            "shadow_price": (price.value, price, price.price_year,
                             index.factor(price.price_year) if price.value else None),
            "discount_rate": (rate, rate, None, 1.0),
            "payers_public": (Range(low=s.payers.public, mode=s.payers.public, high=s.payers.public),
                              s.payers, None, 1.0),
            "kommun_share": (s.kommun_share, s.kommun_share, None, 1.0),
            "programme_cost": (s.programme_cost, s.programme_cost, s.programme_cost.price_year,
                               index.factor(s.programme_cost.price_year)),
        }
        for order, (code, (numbers, cited, year, factor)) in enumerate(parts.items()):
            label, unit = PARAMETERS[code]
            low, mode, high = ((None,) * 3 if numbers is None or factor is None else
                               (numbers.low * factor, numbers.mode * factor, numbers.high * factor))
            rows.append({
                "scenario_id": s.id, "parameter": code, "label": label, "unit": unit,
                "low": low, "mode": mode, "high": high, "source_price_year": year,
                "price_year": index.price_year if year is not None else None,
                "kind": "assumption" if cited.is_assumption else "cited",
                "source": None if cited.is_assumption else _flat(cited.source),
                "verified": cited.verified, "note": _flat(cited.caveat or cited.text),
                "sort_order": order,
            })
    return pl.DataFrame(rows, schema=ASSUMPTION_COLUMNS)
