"""The indicator catalogue and source settings in data/catalog/.

The catalogue is data, not code: each entry says what an indicator is, where it comes from
and how its numbers are to be treated (polarity, value type, interval method, disclosure).
Loading validates every entry and names the entry and field of the first problems found.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from transforms.peers import PeerSettings


def read_yaml(text: str):
    """YAML as yaml.safe_load reads it, with libyaml's parser where installed (the catalogue
    is read on every nightly check)."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - a safe loader


class CatalogError(ValueError):
    """A catalogue file is broken; the message names the file, entry and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class AgeBand(_Strict):
    from_age: int = Field(alias="from", ge=0, le=110)
    to_age: int = Field(alias="to", ge=0, le=110)

    @model_validator(mode="after")
    def _ordered(self) -> AgeBand:
        if self.to_age < self.from_age:
            raise ValueError(f"'to' ({self.to_age}) is below 'from' ({self.from_age})")
        return self


class Plausible(_Strict):
    """Values an indicator plausibly takes. A value outside is flagged where it shows (a
    footnote, meta.data_quality), never dropped: some are real (children enrolled in a
    preschool of another kommun make a share above 100 %). `note` explains, in Swedish."""

    min: float | None = None
    max: float | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Plausible:
        if self.min is not None and self.max is not None and self.max < self.min:
            raise ValueError(f"'max' ({self.max}) is below 'min' ({self.min})")
        return self


# Without a range in the catalogue: shares lie within 0–100 %, rates and counts are not negative.
DEFAULT_PLAUSIBLE = {"proportion": Plausible(min=0, max=100), "rate": Plausible(min=0),
                     "count": Plausible(min=0), "mean": Plausible()}


class Disclosure(_Strict):
    suppress_counts: tuple[int, int] = (1, 4)
    min_denominator: int = Field(default=10, ge=0)


class Indicator(_Strict):
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_]+$")]
    title: Annotated[str, Field(min_length=3)]
    short_title: Annotated[str, Field(min_length=3, max_length=45)]
    definition: Annotated[str, Field(min_length=3)]
    source: Literal["kolada", "survey"]
    source_id: Annotated[str, Field(min_length=1)]
    verification: Literal["VERIFIED-API", "LIKELY", "SURVEY"]
    domain: Literal[
        "skola", "familj_ekonomi", "fritid", "trygghet", "socialtjanst", "etablering",
        "demografi", "halsa",
    ]
    factor: Literal["risk", "protective", "context"]
    strategic_factor: Literal["skola", "foraldraskap", "fritid", "narsamhalle", "none"]
    polarity: Literal["high_is_good", "low_is_good", "no_judgement"]
    value_type: Literal["proportion", "rate", "mean", "count"]
    unit: Annotated[str, Field(min_length=1)]
    multiplier: float = Field(gt=0)
    source_measure: Literal["value", "count"] = "value"
    population: AgeBand | Literal["all"]
    age_label: Annotated[str, Field(min_length=1)]
    sex_split: Literal["KMT", "T"]
    ci_method: Literal["wilson", "byar_exact", "t", "none"]
    disclosure: Disclosure = Disclosure()
    pooling_years: int | None = Field(default=None, ge=2, le=5)
    note: str | None = None
    plausible: Plausible | None = None

    @property
    def plausible_range(self) -> Plausible:
        return self.plausible or DEFAULT_PLAUSIBLE[self.value_type]

    @field_validator("source_id")
    @classmethod
    def _kolada_id(cls, value: str, info) -> str:
        if info.data.get("source") == "kolada" and not _is_kolada_id(value):
            raise ValueError(f"{value!r} is not a Kolada KPI id (N/U + 5 digits)")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Indicator:
        if self.value_type == "proportion" and self.multiplier != 100:
            raise ValueError("a proportion must have multiplier 100 (per cent)")
        if self.ci_method == "wilson" and self.value_type != "proportion":
            raise ValueError("ci_method 'wilson' needs value_type 'proportion'")
        if self.ci_method == "byar_exact" and self.value_type not in ("rate", "count"):
            raise ValueError("ci_method 'byar_exact' needs value_type 'rate' or 'count'")
        if self.ci_method == "t" and self.value_type != "mean":
            raise ValueError("ci_method 't' needs value_type 'mean'")
        if self.source_measure == "count" and self.value_type != "rate":
            raise ValueError("source_measure 'count' needs value_type 'rate'")
        return self


def _is_kolada_id(value: str) -> bool:
    return len(value) == 6 and value[0] in "NU" and value[1:].isdigit()


def _format_error(path: Path, index: int, entry: dict, err: ValidationError) -> str:
    ident = entry.get("id", "?") if isinstance(entry, dict) else "?"
    lines = []
    for problem in err.errors():
        field = ".".join(str(p) for p in problem["loc"]) or "(entry)"
        lines.append(f"{path}: indicator #{index + 1} ({ident!r}): field '{field}': {problem['msg']}")
    return "\n".join(lines)


def load_indicators(path: Path) -> list[Indicator]:
    """Read and validate the indicator catalogue; raise CatalogError naming entry and field."""
    try:
        doc = read_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise CatalogError(f"{path}: not valid YAML: {err}") from err
    if not isinstance(doc, dict) or not isinstance(doc.get("indicators"), list):
        raise CatalogError(f"{path}: expected a mapping with a list under 'indicators'")
    defaults = doc.get("defaults") or {}
    problems: list[str] = []
    indicators: list[Indicator] = []
    for index, entry in enumerate(doc["indicators"]):
        if not isinstance(entry, dict):
            problems.append(f"{path}: indicator #{index + 1}: expected a mapping, got {entry!r}")
            continue
        try:
            indicators.append(Indicator.model_validate({**defaults, **entry}))
        except ValidationError as err:
            problems.append(_format_error(path, index, entry, err))
    seen: set[str] = set()
    for ind in indicators:
        if ind.id in seen:
            problems.append(f"{path}: indicator {ind.id!r}: field 'id': duplicate id")
        seen.add(ind.id)
    if problems:
        raise CatalogError("\n".join(problems))
    return indicators


def indicators_frame(indicators: list[Indicator]) -> pl.DataFrame:
    """The catalogue as one flat row per indicator (the shape stored in the warehouse)."""
    rows = []
    for ind in indicators:
        band = ind.population
        rows.append(
            {
                "indicator_id": ind.id,
                "title": ind.title,
                "short_title": ind.short_title,
                "definition": ind.definition,
                "source": ind.source,
                "source_id": ind.source_id,
                "verification": ind.verification,
                "domain": ind.domain,
                "factor": ind.factor,
                "strategic_factor": ind.strategic_factor,
                "polarity": ind.polarity,
                "value_type": ind.value_type,
                "unit": ind.unit,
                "multiplier": ind.multiplier,
                "source_measure": ind.source_measure,
                "population_from": None if band == "all" else band.from_age,
                "population_to": None if band == "all" else band.to_age,
                "age_label": ind.age_label,
                "sex_split": ind.sex_split,
                "ci_method": ind.ci_method,
                "suppress_count_min": ind.disclosure.suppress_counts[0],
                "suppress_count_max": ind.disclosure.suppress_counts[1],
                "min_denominator": ind.disclosure.min_denominator,
                "pooling_years": ind.pooling_years,
                "note": ind.note,
                "plausible_min": ind.plausible_range.min,
                "plausible_max": ind.plausible_range.max,
                "plausible_note": ind.plausible_range.note,
            }
        )
    return pl.DataFrame(rows, schema=INDICATOR_SCHEMA)


INDICATOR_SCHEMA = {
    "indicator_id": pl.String,
    "title": pl.String,
    "short_title": pl.String,
    "definition": pl.String,
    "source": pl.String,
    "source_id": pl.String,
    "verification": pl.String,
    "domain": pl.String,
    "factor": pl.String,
    "strategic_factor": pl.String,
    "polarity": pl.String,
    "value_type": pl.String,
    "unit": pl.String,
    "multiplier": pl.Float64,
    "source_measure": pl.String,
    "population_from": pl.Int32,
    "population_to": pl.Int32,
    "age_label": pl.String,
    "sex_split": pl.String,
    "ci_method": pl.String,
    "suppress_count_min": pl.Int32,
    "suppress_count_max": pl.Int32,
    "min_denominator": pl.Int32,
    "pooling_years": pl.Int32,
    "note": pl.String,
    "plausible_min": pl.Float64,
    "plausible_max": pl.Float64,
    "plausible_note": pl.String,
}


class PopulationTable(_Strict):
    table: str
    contents: str
    first_year: int
    last_year: int | None = None
    total_age: str
    perturbed: bool = False
    other: dict[str, list[str]] = {}

    def covers(self, year: int) -> bool:
        return year >= self.first_year and (self.last_year is None or year <= self.last_year)


class KoladaSettings(_Strict):
    base_url: str
    per_page: int = Field(default=5000, gt=0, le=5000)
    max_ids_per_segment: int = Field(default=25, gt=0, le=25)
    max_calls: int = Field(default=5, gt=0)
    period_seconds: float = Field(default=1.0, gt=0)


class ScbSettings(_Strict):
    base_url: str
    max_calls: int = Field(default=30, gt=0)
    period_seconds: float = Field(default=10.0, gt=0)
    population_tables: list[PopulationTable]
    population_ages: AgeBand


class Years(_Strict):
    first: int
    last: int

    @property
    def span(self) -> list[int]:
        return list(range(self.first, self.last + 1))


class SourceSettings(_Strict):
    years: Years
    kolada: KoladaSettings
    scb: ScbSettings


def load_source_settings(path: Path) -> SourceSettings:
    try:
        return SourceSettings.model_validate(read_yaml(path.read_text(encoding="utf-8")))
    except (ValidationError, yaml.YAMLError) as err:
        raise CatalogError(f"{path}: {err}") from err


class MethodText(_Strict):
    id: str = Field(pattern=r"^[a-z_]+$")
    title: str = Field(min_length=3)
    text: str = Field(min_length=20)


def load_methods(path: Path) -> pl.DataFrame:
    """The Swedish method texts: method_id, title, text."""
    try:
        doc = read_yaml(path.read_text(encoding="utf-8"))
        methods = [MethodText.model_validate(m) for m in doc["methods"]]
    except (ValidationError, yaml.YAMLError, KeyError, TypeError) as err:
        raise CatalogError(f"{path}: {err}") from err
    return pl.DataFrame([{"method_id": m.id, "title": m.title, "text": m.text} for m in methods],
                        schema={"method_id": pl.String, "title": pl.String, "text": pl.String})


def load_peer_settings(path: Path) -> PeerSettings:
    """The variables and weights for similar municipalities (data/catalog/peers.yaml)."""
    try:
        return PeerSettings.model_validate(read_yaml(path.read_text(encoding="utf-8")))
    except (ValidationError, yaml.YAMLError) as err:
        raise CatalogError(f"{path}: {err}") from err
