"""Samtalsunderlag: material for the county's dialogue with each kommun (as Data i Dialog).

Per kommun and strategic factor, what the data show in plain Swedish — strengths and
concerns, each with how sure it is — and discussion questions tied to them, printable with
each kommun on a new page (or one kommun alone, from its anchor). Only what is certain at
95 % is called a strength or a concern; the rest is counted as "no certain difference", so a
conversation never starts from noise.
"""

from __future__ import annotations

from reports import coordination as coord
from reports.labels import FACTOR_ORDER, STRATEGIC_FACTORS, WORSENING, number, unit_suffix
from reports.model import SiteData

IMPROVING = ("increasing_better", "decreasing_better")
CERTAINTY = {"much_better": "mycket säkert (99,8 %)", "better": "säkert (95 %)",
             "worse": "säkert (95 %)", "much_worse": "mycket säkert (99,8 %)"}
MAX_POINTS = 4   # strengths or concerns per factor (the strongest first)


def _value(row: dict, ind: dict) -> str:
    return f"{number(row['value'], ind['unit'])}{unit_suffix(ind['unit'])}"


def _point(data: SiteData, ind: dict, row: dict, kind: str) -> dict:
    national = data.national_row(ind["indicator_id"])
    riket = _value(national, ind) if national and national["status"] == "ok" else "–"
    name = data.national_name(ind["indicator_id"]).lower()
    cmp = row["compared_to_riket"]
    if kind == "trend":
        words = "har säkert försämrats" if row["trend"] in WORSENING else "har säkert förbättrats"
        text = f"{ind['short_title']}: {_value(row, ind)} ({row['period']}) {words} de senaste fem åren."
    else:
        side = "bättre" if cmp in ("better", "much_better") else "sämre"
        text = (f"{ind['short_title']}: {_value(row, ind)} ({row['period']}) mot {riket} i {name}; "
                f"{side} än {name}, {CERTAINTY[cmp]}.")
    return {"text": text, "file": ind["file"], "title": ind["short_title"], "kind": kind,
            "strength": abs({"much_better": 2, "better": 1, "worse": 1, "much_worse": 2}.get(cmp, 0))}


# A question per kind of point: (concern or strength, level against riket or trend).
QUESTIONS = {
    ("concern", "trend"): "Vad har förändrats i {name} som kan förklara utvecklingen för ”{title}”, och "
                          "vad säger de som möter barnen och ungdomarna varje dag?",
    ("concern", "level"): "Känner ni igen bilden av ”{title}”? Vilka barn och unga gäller det, och vilka "
                          "verksamheter möter dem redan?",
    ("strength", "trend"): "Vad har bidragit till att ”{title}” har förbättrats i {name}, och hur kan "
                           "utvecklingen hålla i sig?",
    ("strength", "level"): "Vad gör {name} som kan förklara att ”{title}” är bättre än i riket, och går "
                           "det att behålla och sprida till fler?",
}


def _questions(name: str, factor: str, strengths: list[dict], concerns: list[dict]) -> list[str]:
    """Two questions on the strongest concerns, one on the strongest strength, one on the factor."""
    points = [("concern", c) for c in concerns[:2]] + [("strength", s) for s in strengths[:1]]
    return [QUESTIONS[(side, p["kind"])].format(name=name, title=p["title"]) for side, p in points] + [
        f"Vilka insatser inom {STRATEGIC_FACTORS[factor].lower()} finns i dag, når de dem som behöver "
        f"dem mest, och vad skulle ungdomarna själva säga om dem?"]


def kommun_dialogue(data: SiteData, code: str, need: dict | None) -> dict:
    factors = []
    for factor in FACTOR_ORDER:
        strengths, concerns, unclear = [], [], 0
        for ind in data.indicators:
            if ind["strategic_factor"] != factor or ind["context"]:
                continue
            row = data.row(ind["indicator_id"], code)
            if row is None or row["status"] != "ok" or row["value"] is None:
                continue
            cmp = row["compared_to_riket"]
            if cmp in ("better", "much_better"):
                strengths.append(_point(data, ind, row, "level"))
            elif cmp in ("worse", "much_worse"):
                concerns.append(_point(data, ind, row, "level"))
            else:
                unclear += 1
            if row["trend"] in WORSENING and cmp not in ("worse", "much_worse"):
                concerns.append(_point(data, ind, row, "trend"))
            elif row["trend"] in IMPROVING and cmp not in ("better", "much_better"):
                strengths.append(_point(data, ind, row, "trend"))
        strengths.sort(key=lambda p: -p["strength"])
        concerns.sort(key=lambda p: -p["strength"])
        need_cell = coord.need_text(need.get((code, factor))) if need is not None else None
        factors.append({"title": STRATEGIC_FACTORS[factor], "strengths": strengths[:MAX_POINTS],
                        "concerns": concerns[:MAX_POINTS],
                        "more": max(len(strengths) - MAX_POINTS, 0) + max(len(concerns) - MAX_POINTS, 0),
                        "unclear": unclear, "need": need_cell,
                        "questions": _questions(data.names[code], factor, strengths, concerns)})
    return {"code": code, "name": data.names[code], "file": data.kommun_file(code), "factors": factors}


def dialogue_page(data: SiteData, lan: str) -> dict:
    codes = data.kommuner_of[lan]
    need = coord.need_rows(data, codes)
    return {"lan_code": lan, "lan_name": data.names[lan], "county_file": data.county_file(lan),
            "kommuner": [kommun_dialogue(data, c, need) for c in codes]}
