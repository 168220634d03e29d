"""The watch list and the per-factor counts as the pages use them.

The rule itself is `transforms/watch.py` (also behind `marts.watch_list`): the site reads
that mart when it is given and otherwise applies the same function to the facts, so SQL and
the pages always agree. Here the rows become entries (one per kommun, its reasons in words)
and the counts become small records per kommun and strategic factor.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reports.labels import FACTOR_ORDER, join_words
from reports.model import SiteData
from transforms.watch import MIN_SHARE, MIN_WORSE, WATCH_REASON

__all__ = ["MIN_SHARE", "MIN_WORSE", "FactorCount", "factor_counts", "watch_list"]


@dataclass
class FactorCount:
    factor: str
    compared: int = 0
    worse: list[str] = field(default_factory=list)    # indicator ids
    better: list[str] = field(default_factory=list)
    worsening: list[str] = field(default_factory=list)


def factor_counts(data: SiteData, area: str) -> dict[str, FactorCount]:
    """Per strategic factor (and `none`), the area's comparisons with riket (latest year)."""
    out = {f: FactorCount(f) for f in [*FACTOR_ORDER, "none"]}
    for row in data.counts.get(area, []):
        out[row["strategic_factor"]] = FactorCount(row["strategic_factor"], row["n_compared"],
                                                   row["worse"], row["better"], row["worsening"])
    return out


def watch_entry(data: SiteData, code: str, rows: list[dict]) -> dict:
    """One kommun on the list: its reasons in words, the worsening trends as one line."""
    reasons = [{"kind": WATCH_REASON[r["reason_code"]], "text": r["reason"],
                "file": data.by_id[r["indicator_id"]]["file"] if r["indicator_id"] in data.by_id else ""}
               for r in rows if r["reason_code"] != "worsening"]
    worsening = [data.by_id[r["indicator_id"]]["short_title"] for r in rows
                 if r["reason_code"] == "worsening" and r["indicator_id"] in data.by_id]
    if worsening:
        reasons.append({"kind": WATCH_REASON["worsening"], "file": "", "text": (
            f"Säkert försämrad trend de senaste fem åren: {join_words(worsening)}.")})
    counts = factor_counts(data, code)
    return {"code": code, "name": data.names[code], "file": data.kommun_file(code),
            "reasons": reasons, "kinds": sorted({r["kind"] for r in reasons}),
            "codes": sorted({r["reason_code"] for r in rows}),
            "worse": sum(len(counts[f].worse) for f in FACTOR_ORDER)}


def watch_list(data: SiteData, lan: str) -> list[dict]:
    """Kommuner of the county with at least one signal, the most signals first."""
    by_kommun: dict[str, list[dict]] = {}
    for row in data.watch.get(lan, []):
        by_kommun.setdefault(row["area_code"], []).append(row)
    entries = [watch_entry(data, code, rows) for code, rows in by_kommun.items() if code in data.names]
    return sorted(entries, key=lambda e: (-len(e["kinds"]), -len(e["reasons"]), -e["worse"],
                                          e["name"]))
