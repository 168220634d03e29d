"""Flickor och pojkar: the gap between girls and boys (F − P) per indicator and kommun.

As Fingertips' inequality view: each gap with its 95 % interval (MOVER from the two groups'
own intervals, transforms/gap.py) and a three-way test — girls certainly higher, no certain
difference, boys certainly higher. A gap is a difference, not a verdict: no colour of
better or worse, only the words and a sign.
"""

from __future__ import annotations

from reports.labels import STRATEGIC_FACTORS, interval, number
from reports.model import SiteData
from reports.pages.common import by_section
from transforms.gap import GAP, gap_outcome, mover_difference

GAP_SIGN = {"first_higher": "F>P", "no_difference": "≈", "second_higher": "P>F", "not_tested": ""}


def gap(data: SiteData, iid: str, area: str, unit: str) -> dict | None:
    """Girls minus boys in the latest year, or None without both values."""
    k, m = data.row(iid, area, "K"), data.row(iid, area, "M")
    if not (k and m and k["status"] == "ok" == m["status"] and k["value"] is not None
            and m["value"] is not None):
        return None
    d, lo, hi = mover_difference(k["value"], k["lower_95"], k["upper_95"],
                                 m["value"], m["lower_95"], m["upper_95"])
    outcome = gap_outcome(lo, hi)
    sign = "+" if d > 0 else ""
    return {"k": number(k["value"], unit), "m": number(m["value"], unit),
            "k_ci": interval(k["lower_95"], k["upper_95"], unit),
            "m_ci": interval(m["lower_95"], m["upper_95"], unit),
            "gap": sign + number(d, unit), "ci": interval(lo, hi, unit), "outcome": outcome,
            "label": GAP[outcome], "sign": GAP_SIGN[outcome], "period": k["period"]}


def split_indicators(data: SiteData, codes: list[str]):
    """(factor title, its indicators with a girls' and boys' value for any of the areas)."""
    for factor, indicators in by_section(data):
        chosen = [i for i in indicators if any(data.row(i["indicator_id"], c, "K") for c in codes)]
        if chosen:
            yield STRATEGIC_FACTORS[factor], chosen


def sexes_page(data: SiteData, lan: str) -> dict:
    codes = data.kommuner_of[lan]
    areas = [(lan, data.names[lan], "")] + [(c, data.names[c], data.kommun_file(c)) for c in codes]
    sections = []
    for title, indicators in split_indicators(data, codes + [lan]):
        columns = [{"title": i["short_title"], "file": i["file"], "unit": i["unit_phrase"],
                    "period": data.latest_period.get(i["indicator_id"], "")} for i in indicators]
        rows = [{"name": name, "file": file, "is_lan": code == lan,
                 "cells": [gap(data, i["indicator_id"], code, i["unit"]) for i in indicators]}
                for code, name, file in areas]
        counts = {o: sum(1 for r in rows[1:] for cell in r["cells"] if cell and cell["outcome"] == o)
                  for o in ("first_higher", "second_higher", "no_difference")}
        sections.append({"title": title, "columns": columns, "rows": rows, "counts": counts})
    return {"lan_code": lan, "lan_name": data.names[lan], "county_file": data.county_file(lan),
            "sections": sections, "gap_words": GAP, "gap_signs": GAP_SIGN}
