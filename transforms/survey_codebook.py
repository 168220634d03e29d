"""The survey codebook model: how a vendor's file is laid out and how its items form scales.

A codebook lives in data/catalog/surveys/<id>.yaml and its id is its file name. It says
which columns hold respondent id, municipality, grade, sex, year and (optionally) weight;
each item's valid range and missing codes; which items form each scale and which are
reverse-coded; the minimum number of answered items for a scale score; and the cut-points
that turn a score into "förhöjd risk", "hög risk" or "högt skydd", either as absolute
values or as percentiles of a reference population that the codebook names.

Scoring is the mean of the answered items after reversing (reversed = min + max − code),
so all items of a scale must share one response range.

The model is the contract between the file readers and checks (sources/surveys/), the
scoring and cells (transforms/survey.py) and the cell table's model (checks/): it lives on
the ground floor so that none of them reaches up for it. Reading and validating codebook
files, and the catalogue indicators they define, are in sources/surveys/codebook.py.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ID = r"^[a-z0-9_]+$"
MIN_RESPONDENTS = 10  # disclosure: cells with fewer respondents are hidden
PUBLIC_REASON = "dold av röjandeskäl"  # the only reason a hidden cell shows in public

Code = str | int | float


def code_text(value: Code) -> str:
    """The canonical text of a code: 1, 1.0 and "1" are all "1"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Columns(_Strict):
    respondent_id: str
    municipality: str
    grade: str
    sex: str
    year: str
    weight: str | None = None

    def roles(self) -> dict[str, str]:
        """Role → column name, for the columns the file must have."""
        return {role: col for role, col in self.model_dump().items() if col is not None}


class Grade(_Strict):
    label: Annotated[str, Field(min_length=1)]
    codes: Annotated[list[Code], Field(min_length=1)]


class Municipality(_Strict):
    # The column holds SCB kommun codes (180 or "0180") or kommun names ("Göteborg",
    # "Göteborgs kommun"; a name that fits two kommuner without å, ä, ö is refused);
    # `map` adds other spellings (e.g. "Gbg": "1480").
    coding: Literal["code"] = "code"
    map: dict[str, str] = {}
    missing: list[Code] = []


class Sex(_Strict):
    K: Annotated[list[Code], Field(min_length=1)]
    M: Annotated[list[Code], Field(min_length=1)]
    missing: list[Code] = []


class Item(_Strict):
    label: str = ""
    valid: tuple[int, int] | None = None
    missing: list[Code] | None = None


class ItemDefaults(_Strict):
    valid: tuple[int, int] = (1, 4)
    missing: list[Code] = []


class ResolvedItem(_Strict):
    name: str
    label: str
    low: int
    high: int
    missing: tuple[str, ...]


class Cut(_Strict):
    label: Annotated[str, Field(min_length=1)]
    kind: Literal["risk", "protective"]
    # Flag a respondent when `score <op> threshold`.
    op: Literal[">", ">=", "<", "<="] = ">"
    percentile: float | None = Field(default=None, gt=0, lt=100)
    value: float | None = None
    title: Annotated[str, Field(min_length=3)]
    short_title: Annotated[str, Field(min_length=3, max_length=45)]
    definition: Annotated[str, Field(min_length=3)]

    @model_validator(mode="after")
    def _one_threshold(self) -> Cut:
        if (self.percentile is None) == (self.value is None):
            raise ValueError("give exactly one of 'percentile' and 'value'")
        return self


class Scale(_Strict):
    title: Annotated[str, Field(min_length=3)]
    strategic_factor: Literal["skola", "foraldraskap", "fritid", "narsamhalle", "none"]
    domain: Literal["skola", "familj_ekonomi", "fritid", "trygghet", "socialtjanst",
                    "etablering", "demografi", "halsa"]
    items: Annotated[list[str], Field(min_length=1)]
    reverse: list[str] = []
    min_items: int = Field(ge=1)
    source_note: str | None = None
    cuts: Annotated[dict[str, Cut], Field(min_length=1)]

    @model_validator(mode="after")
    def _consistent(self) -> Scale:
        if len(set(self.items)) != len(self.items):
            raise ValueError("an item is listed twice in 'items'")
        stray = [i for i in self.reverse if i not in self.items]
        if stray:
            raise ValueError(f"'reverse' names items not in 'items': {stray}")
        if self.min_items > len(self.items):
            raise ValueError(f"min_items ({self.min_items}) exceeds the {len(self.items)} items")
        bad = [c for c in self.cuts if not _matches(c)]
        if bad:
            raise ValueError(f"cut ids must match {ID}: {bad}")
        return self


class Reference(_Strict):
    """The population whose percentiles give the percentile cut-points: named waves.

    Following Data i Dialog (RISE): for every survey year in the reference, take the
    percentile among reference respondents with a valid score (unweighted), then the mean
    over those years. The years must be named, so that a new wave never moves the
    cut-points; an empty list of municipalities means every municipality in those waves.
    Once computed, the cut-points are kept per codebook version (in the private store) and
    never recomputed: a different reference is a new codebook `version`.
    """

    description: Annotated[str, Field(min_length=3)]
    municipalities: list[str] = []
    years: Annotated[list[int], Field(min_length=1)]


class Codebook(_Strict):
    id: Annotated[str, Field(pattern=ID, max_length=20)]
    # A new version when what the numbers mean changes (reference, cut-points, scales): it
    # is shown with every value, and percentile cut-points are fixed per version.
    version: int = Field(default=1, ge=1)
    name: Annotated[str, Field(min_length=3)]
    description: str = ""
    columns: Columns
    municipality: Municipality = Municipality()
    grades: Annotated[dict[str, Grade], Field(min_length=1)]
    grade_missing: list[Code] = []
    sex: Sex
    year_range: tuple[int, int] = (1990, 2100)
    weight_range: tuple[float, float] = (0.0, 100.0)
    item_defaults: ItemDefaults = ItemDefaults()
    items: Annotated[dict[str, Item], Field(min_length=1)]
    reference: Reference | None = None
    # Respondents expected per survey year (all files of the year together); a file that
    # makes a year's total differ is refused unless a delivery note gives its own count.
    expected_respondents: dict[int, int] = {}
    # Warn when a wave has this much fewer respondents than the survey's previous wave.
    shrink_warning: float = Field(default=0.25, gt=0, lt=1)
    scales: Annotated[dict[str, Scale], Field(min_length=1)]
    sha256: str = ""

    @field_validator("grades")
    @classmethod
    def _grade_ids(cls, grades: dict[str, Grade]) -> dict[str, Grade]:
        bad = [g for g in grades if not _matches(g) or g == "all"]
        if bad:
            raise ValueError(f"grade codes must match {ID} and not be 'all': {bad}")
        seen: dict[str, str] = {}
        for grade, spec in grades.items():
            for code in spec.codes:
                if code_text(code) in seen:
                    raise ValueError(f"code {code!r} is used by both {seen[code_text(code)]!r} and {grade!r}")
                seen[code_text(code)] = grade
        return grades

    @model_validator(mode="after")
    def _consistent(self) -> Codebook:
        for name, scale in self.scales.items():
            if not _matches(name):
                raise ValueError(f"scale id {name!r} must match {ID}")
            unknown = [i for i in scale.items if i not in self.items]
            if unknown:
                raise ValueError(f"scale {name!r}: items not in 'items': {unknown}")
            ranges = {(self.item(i).low, self.item(i).high) for i in scale.items}
            if len(ranges) > 1:
                raise ValueError(f"scale {name!r}: items have different ranges {sorted(ranges)}; "
                                 "a mean score needs one range")
            if any(c.percentile is not None for c in scale.cuts.values()) and self.reference is None:
                raise ValueError(f"scale {name!r} has percentile cuts but the codebook has no 'reference'")
        taken = set(self.columns.roles().values())
        clash = sorted(taken & set(self.items))
        if clash:
            raise ValueError(f"items reuse role columns: {clash}")
        return self

    def item(self, name: str) -> ResolvedItem:
        spec = self.items[name]
        low, high = spec.valid or self.item_defaults.valid
        missing = self.item_defaults.missing if spec.missing is None else spec.missing
        return ResolvedItem(name=name, label=spec.label, low=low, high=high,
                            missing=tuple(code_text(c) for c in missing))

    @cached_property
    def scale_items(self) -> list[str]:
        """Items used by any scale, in codebook order (the only item columns read)."""
        used = {i for s in self.scales.values() for i in s.items}
        return [i for i in self.items if i in used]

    @cached_property
    def grade_codes(self) -> dict[str, str]:
        """Raw code text → grade code."""
        return {code_text(c): grade for grade, spec in self.grades.items() for c in spec.codes}

    @cached_property
    def sex_codes(self) -> dict[str, str]:
        """Raw code text → K or M."""
        return {code_text(c): sex for sex in ("K", "M") for c in getattr(self.sex, sex)}

    def indicator_id(self, scale: str, cut: str) -> str:
        return f"{self.id}_{scale}_{cut}"

    @property
    def grade_label(self) -> str:
        return " och ".join(g.label for g in self.grades.values())


def _matches(text: str) -> bool:
    return re.fullmatch(ID, text) is not None
