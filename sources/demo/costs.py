"""The health-economics KPIs as the demo Kolada knows them.

The demo world draws every KPI from an `Indicator` and its profile (sources/demo/profiles.py).
The cost catalogue's entries are not indicators (they never reach marts.fact_indicator), so
they are dressed as such here for the demo alone: Kolada's title, the residents the value is
per, a cost or a share. Like the real API, the demo knows them whatever the user's catalogue
holds; an entry without a demo profile stays unknown to it.
"""

from __future__ import annotations

from pathlib import Path

from sources.catalog import AgeBand, Indicator
from sources.demo.profiles import profile_for
from sources.health_economics_catalog import LATE_COST_FILE, CostKpiEntry, load_late_cost


def _as_indicator(entry: CostKpiEntry) -> Indicator:
    volume = entry.measure == "volume"
    per = entry.per
    return Indicator(
        id=entry.id, title=entry.kolada_title, short_title=entry.label[:45],
        definition=entry.note or entry.kolada_title, source="kolada", source_id=entry.id,
        verification="LIKELY", domain="socialtjanst", factor="context", strategic_factor="none",
        polarity="no_judgement", value_type="proportion" if volume else "rate",
        unit="%" if volume else "kr per invånare", multiplier=100 if volume else 1,
        population="all" if per == "all" else AgeBand.model_validate({"from": per.from_age, "to": per.to_age}),
        age_label="alla åldrar" if per == "all" else f"{per.from_age}–{per.to_age} år",
        sex_split="T", ci_method="none")


def cost_indicators(catalog_dir: Path) -> list[Indicator]:
    """The cost catalogue's KPIs with a demo profile, as demo indicators."""
    return [_as_indicator(e) for e in load_late_cost(catalog_dir / LATE_COST_FILE).entries
            if profile_for(e.id) is not None]
