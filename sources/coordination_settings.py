"""The coordination layer's settings in data/catalog/: need_index.yaml (the need index
definition) and coordination.yaml (support classes and the selection of applicants)."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from sources.catalog import CatalogError
from transforms.need import NeedConfig
from transforms.selection import SelectionSettings
from transforms.support import SupportSettings


class CoordinationSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    support: SupportSettings = SupportSettings()
    selection: SelectionSettings = SelectionSettings()


def _load(path: Path, model):
    try:
        return model.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, ValidationError, yaml.YAMLError) as err:
        raise CatalogError(f"{path}: {err}") from err


def load_need_config(path: Path) -> NeedConfig:
    return _load(path, NeedConfig)


def load_coordination_settings(path: Path) -> CoordinationSettings:
    return _load(path, CoordinationSettings)
