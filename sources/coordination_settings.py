"""The coordination layer's settings in data/catalog/: need_index.yaml (the need index
definition) and coordination.yaml (the need bands every decision shares, support against
need, the selection of applicants and the readiness checks)."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sources.catalog import CatalogError
from transforms.need import NeedConfig
from transforms.readiness import CONSENSUS_MARGIN
from transforms.selection import SelectionSettings
from transforms.support import SupportSettings


class NeedBands(BaseModel):
    """One pair of thresholds on the probability of high need, for every decision on need:
    clearly high from `high`, uncertain from `uncertain` up to `high`, clearly lower below."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    high: float = Field(default=0.8, gt=0, le=1)
    uncertain: float = Field(default=0.2, ge=0, lt=1)

    @model_validator(mode="after")
    def _ordered(self) -> NeedBands:
        if self.uncertain >= self.high:
            raise ValueError("need_bands: uncertain must be below high")
        return self


class ReadinessSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    consensus_margin: float = Field(default=CONSENSUS_MARGIN, ge=0)


# Thresholds set once under need_bands, never per section.
BAND_FIELDS = {"support": ("high_need", "uncertain_from"), "selection": ("propose_from", "review_from")}


class CoordinationSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    need_bands: NeedBands = NeedBands()
    support: SupportSettings = SupportSettings()
    selection: SelectionSettings = SelectionSettings()
    readiness: ReadinessSettings = ReadinessSettings()

    @model_validator(mode="after")
    def _one_pair_of_bands(self) -> CoordinationSettings:
        for section, names in BAND_FIELDS.items():
            given = set(names) & getattr(self, section).model_fields_set
            if given:
                raise ValueError(f"{section}: {', '.join(sorted(given))} is set under need_bands "
                                 "(one threshold for the classes, the chart and the selection)")
        bands = self.need_bands
        object.__setattr__(self, "support", self.support.model_copy(
            update={"high_need": bands.high, "uncertain_from": bands.uncertain}))
        object.__setattr__(self, "selection", self.selection.model_copy(
            update={"propose_from": bands.high, "review_from": bands.uncertain}))
        return self


def _load(path: Path, model):
    try:
        return model.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, ValidationError, yaml.YAMLError) as err:
        raise CatalogError(f"{path}: {err}") from err


def load_need_config(path: Path) -> NeedConfig:
    return _load(path, NeedConfig)


def load_coordination_settings(path: Path) -> CoordinationSettings:
    return _load(path, CoordinationSettings)
