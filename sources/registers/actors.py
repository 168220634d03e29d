"""The actor alias list (data/catalog/actors.yaml): every way an actor is written → its name.

Counties write the same actor in many ways ("Länsstyrelsen Östergötland", "Länsstyrelsen i
Östergötlands län", "Lst Östergötland"); counted as different actors they would make an
overlap between actors where there is one. The list holds patterns written once for every
county (from the county's name) and named actors with their aliases. Lookups compare
folded names (`layouts.fold`: lower case, no accents, single spaces).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sources.catalog import CatalogError
from sources.registers.layouts import fold


class ActorList(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    per_lan: list[list[str]] = Field(default_factory=list)
    actors: dict[str, list[str]] = Field(default_factory=dict)


def short_name(lan_name: str) -> str:
    """'Östergötlands län' → 'Östergötland', 'Skåne län' → 'Skåne'."""
    stem = lan_name.removesuffix(" län").strip()
    return stem[:-1] if stem.endswith("s") else stem


def aliases(config: ActorList, lan_names: list[str]) -> dict[str, str]:
    """Folded alias → the name shown. A later entry never overrides an earlier one."""
    out: dict[str, str] = {}

    def add(name: str, words: list[str]) -> None:
        for word in [name, *words]:
            out.setdefault(fold(word), name)

    for lan in sorted(lan_names):
        for patterns in config.per_lan:
            filled = [p.format(lan=lan, short=short_name(lan)) for p in patterns]
            add(filled[0], filled[1:])
    for name, words in sorted(config.actors.items()):
        add(name, words)
    return out


def load_actor_aliases(path: Path, kommuner: pl.DataFrame) -> dict[str, str]:
    """The alias map for the counties in `kommuner` (columns lan_name)."""
    try:
        config = ActorList.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    except (OSError, ValidationError, yaml.YAMLError) as err:
        raise CatalogError(f"{path}: {err}") from err
    return aliases(config, kommuner["lan_name"].unique().to_list())
