"""Which kommuner a county should watch, and why — from the indicators alone.

Three signals, each a reason printed in words (the list is never silently empty: when no
kommun meets any of them, the page says which conditions were checked):

* **rött–rött**: significantly worse than riket and a significantly worsening trend on one
  indicator (`red_red` in the fact table);
* **flera sämre**: significantly worse than riket on at least `MIN_WORSE` indicators of one
  strategic factor, and on at least `MIN_SHARE` of that factor's compared indicators;
* **försämras**: a significantly worsening trend (last five years) on an indicator.

Context indicators (population) are never part of a signal.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reports.labels import (FACTOR_ORDER, STRATEGIC_FACTORS, WORSENING, join_words, number,
                            plural, unit_suffix)
from reports.model import SiteData

MIN_WORSE = 3
MIN_SHARE = 0.4
WORSE = ("worse", "much_worse")
BETTER = ("better", "much_better")


@dataclass
class FactorCount:
    factor: str
    compared: int = 0
    worse: list[str] = field(default_factory=list)    # indicator ids
    better: list[str] = field(default_factory=list)
    worsening: list[str] = field(default_factory=list)

    @property
    def many_worse(self) -> bool:
        return len(self.worse) >= MIN_WORSE and len(self.worse) >= MIN_SHARE * self.compared


def factor_counts(data: SiteData, area: str) -> dict[str, FactorCount]:
    """Per strategic factor (and `none`), the area's comparisons with riket (latest year)."""
    out = {f: FactorCount(f) for f in [*FACTOR_ORDER, "none"]}
    for ind in data.indicators:
        if ind["context"]:
            continue
        row = data.row(ind["indicator_id"], area)
        if row is None or row["status"] != "ok":
            continue
        count = out[ind["strategic_factor"]]
        comparison = row["compared_to_riket"] or "not_compared"
        if comparison in (*WORSE, *BETTER, "similar"):
            count.compared += 1
        if comparison in WORSE:
            count.worse.append(ind["indicator_id"])
        elif comparison in BETTER:
            count.better.append(ind["indicator_id"])
        if row["trend"] in WORSENING:
            count.worsening.append(ind["indicator_id"])
    return out


def watch_list(data: SiteData, lan: str) -> list[dict]:
    """Kommuner of the county with at least one signal, the most signals first."""
    entries = []
    for code in data.kommuner_of[lan]:
        reasons, worse_total = [], 0
        counts = factor_counts(data, code)
        for ind in data.indicators:
            row = data.row(ind["indicator_id"], code)
            if not ind["context"] and row and row["red_red"]:
                reasons.append({"kind": "rött–rött", "text": (
                    f"{ind['short_title']}: {number(row['value'], ind['unit'])}"
                    f"{unit_suffix(ind['unit'])} ({row['period']}), säkert sämre än riket och "
                    f"säkert försämrad de senaste fem åren.")})
        for factor in FACTOR_ORDER:
            count = counts[factor]
            worse_total += len(count.worse)
            if count.many_worse:
                titles = [data.by_id[i]["short_title"] for i in count.worse]
                reasons.append({"kind": "flera sämre", "text": (
                    f"{STRATEGIC_FACTORS[factor]}: säkert sämre än riket på {len(count.worse)} av "
                    f"{plural(count.compared, 'jämförd indikator', 'jämförda indikatorer')} "
                    f"({join_words(titles)}).")})
        worsening = [i for c in counts.values() for i in c.worsening]
        red_red = {r["text"].split(":")[0] for r in reasons if r["kind"] == "rött–rött"}
        worsening = [i for i in worsening if data.by_id[i]["short_title"] not in red_red]
        if worsening:
            titles = [data.by_id[i]["short_title"] for i in worsening]
            reasons.append({"kind": "försämras", "text": (
                f"Säkert försämrad trend de senaste fem åren: {join_words(titles)}.")})
        if reasons:
            entries.append({"code": code, "name": data.names[code], "file": data.kommun_file(code),
                            "reasons": reasons, "kinds": sorted({r["kind"] for r in reasons}),
                            "worse": worse_total})
    return sorted(entries, key=lambda e: (-len(e["kinds"]), -len(e["reasons"]), -e["worse"],
                                          e["name"]))
