"""The coordination layer on the pages: need, support, readiness, goals and selection.

Built against the contract of the coordination marts (issue 7): every function takes
`SiteData` and returns plain dicts, or None when its mart is not there yet — the template
then says in Swedish that the part is not available, never an empty box. Swedish labels
come from the marts' own `*_label` columns.
"""

from __future__ import annotations

import re

from reports.charts.coordination import need_support, readiness_bars
from reports.charts.maps import Area, choropleth
from reports.geo import MapLayer
from reports.labels import (FACTOR_ORDER, GOAL_STATUS_SYMBOL, NEED_LEVEL, STRATEGIC_FACTORS,
                            interval, number, percent, slug)
from reports.model import SiteData
from transforms.rankability import SHORT as RANKABILITY_BANDS
from transforms.rankability import band as rankability_band
from transforms.rankability import sentence as rankability_sentence

NEED_FACTORS = ["overall", *FACTOR_ORDER]
HIGH_NEED = 0.8      # P(highest-need fifth) from which the need is called certain
OFF_TRACK = ("wrong_direction", "no_certain_change")
PROPOSAL_ORDER = {"propose": 0, "qualitative_review": 1, "not_proposed": 2}


def memo_file(lan: str, call_id: str) -> str:
    """The call memo's page: urval-<län>-<call id>.html (its XLSX has the same stem)."""
    return f"urval-{lan}-{slug(call_id)}.html"


UNCERTAIN_FROM = 0.2  # the need bands' default (coordination.yaml); the marts carry the real ones
GOAL_SYMBOLS = {**GOAL_STATUS_SYMBOL, "near_target": "≈", "no_new_measurement": "·"}


def certainty(p: float | None, high: float = HIGH_NEED, low: float = UNCERTAIN_FROM) -> str:
    """How likely a kommun is among the fifth with the highest need, in words for a
    probability ("säkert" is kept for 95 % significance elsewhere on the pages); three
    outcomes, in the need bands every decision uses."""
    if p is None:
        return "går inte att bedöma"
    if p >= high:
        return "mycket troligt"
    if p >= low:
        return "osäkert"
    return "troligen inte"


def _date(value) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value or "")


def _latest(rows: list[dict], column: str) -> list[dict]:
    """The rows of the latest `column` value (the newest index year or follow-up period)."""
    if not rows:
        return rows
    newest = max(r[column] for r in rows)
    return [r for r in rows if r[column] == newest]


# -- need index ---------------------------------------------------------------------------
def need_rows(data: SiteData, codes: list[str]) -> dict[tuple[str, str], dict] | None:
    """(area, factor) → need row of the latest index year, for the given areas."""
    rows = data.rows_for("need_index", codes)
    if rows is None:
        return None
    return {(r["area_code"], r["factor"]): r for r in _latest(rows, "period")}


def _ranks(lower: int | None, upper: int | None) -> str:
    return "–" if lower is None else f"{lower}–{upper}"


def need_text(row: dict | None) -> dict:
    """A need row as the pages show it: the country (level, probability, interval) and the
    county (rank among the county's kommuner with its interval and probability)."""
    empty = {"level": None, "score": "–", "rank": "–", "p": "–", "p_value": None, "certainty": "",
             "lan_rank": "–", "lan_interval": "–", "p_lan": "–", "n_lan": None}
    if row is None:
        return {**empty, "reason": "Saknas"}
    if row["status"] != "ok":
        return {**empty, "reason": row.get("status_reason") or "Saknas"}
    return {"level": row["level"], "score": number(row["score"], "", 0),
            "rank": _ranks(row["rank_lower"], row["rank_upper"]),
            "p": percent(row["p_top_fifth"]), "p_value": row["p_top_fifth"],
            "certainty": certainty(row["p_top_fifth"]),
            "lan_rank": "–" if row.get("rank_lan") is None else f"{row['rank_lan']} av {row['n_ranked_lan']}",
            "lan_interval": _ranks(row.get("rank_lan_lower"), row.get("rank_lan_upper")),
            "p_lan": percent(row.get("p_top_lan")), "n_lan": row.get("n_ranked_lan"),
            "reason": ""}


def rankability_lines(rows: dict[tuple[str, str], dict], codes: list[str]) -> list[dict]:
    """Per factor: how much of the ranking is real, in the county and in the country, with
    the Swedish sentence where a ranking says little."""
    out = []
    for factor in NEED_FACTORS:
        found = [rows[(c, factor)] for c in codes if (c, factor) in rows and rows[(c, factor)]["status"] == "ok"]
        if not found:
            continue
        first = found[0]
        frames = (("lan", first.get("rankability_lan"), "länets kommuner", first.get("n_ranked_lan") or 0),
                  ("riket", first.get("rankability"), "landets kommuner", first["n_ranked"]))
        line = {"factor": STRATEGIC_FACTORS[factor], "notes": []}
        for key, rho, units, n in frames:
            line[key] = percent(rho) if rho is not None else "–"
            line[f"{key}_band"] = rankability_band(rho)
            if rho is None or rankability_band(rho) != "high":
                line["notes"].append(rankability_sentence(rho, units, n))
        out.append(line)
    return out


def need_maps(data: SiteData, lan: str, layer: MapLayer | None) -> dict | None:
    """One county map per factor coloured by need level (quintile), and the table behind."""
    codes = data.kommuner_of[lan]
    rows = need_rows(data, codes)
    if rows is None:
        return None
    maps, table = [], []
    for factor in NEED_FACTORS:
        areas = {}
        for code in codes:
            text = need_text(rows.get((code, factor)))
            level = text["level"]
            areas[code] = Area(f"q-{level}" if level else "f-none",
                               f"{data.names[code]}: {NEED_LEVEL.get(level, text['reason'])}"
                               + (f", sannolikhet för störst behov {text['p']}" if level else ""),
                               str(level) if level else "")
        svg = (choropleth(layer, areas, f"Karta: behov inom {STRATEGIC_FACTORS[factor].lower()} "
                          f"i länets kommuner, nivå 1–5 (5 = störst behov)", cls="map small")
               if layer else "")
        maps.append({"factor": factor, "title": STRATEGIC_FACTORS[factor], "svg": svg})
    for code in codes:
        table.append({"name": data.names[code], "file": data.kommun_file(code),
                      "cells": [need_text(rows.get((code, f))) for f in NEED_FACTORS]})
    period = next((r["period"] for r in rows.values()), None)
    version = next((r["index_version"] for r in rows.values()), "")
    return {"maps": maps, "table": table, "heads": [STRATEGIC_FACTORS[f] for f in NEED_FACTORS],
            "period": period, "version": version, "rankability": rankability_lines(rows, codes)}


def sensitivity(data: SiteData) -> list[dict] | None:
    """What moves the ranks most (three largest effects per factor)."""
    parts = data.tables["need_sensitivity"]
    if parts is None:
        return None
    return [{"factor": STRATEGIC_FACTORS.get(r["factor"], r["factor"]), "label": r["input_label"],
             "effect": number(r["effect"], "", 1)}
            for factor in sorted(parts) for r in parts[factor] if r["rank_of_effect"] <= 3]


# -- support against need -----------------------------------------------------------------
def support_rows(data: SiteData, codes: list[str]) -> list[dict] | None:
    """The rows of the year the county's pages show (the build's year unless the county set
    another; never a future year)."""
    rows = data.rows_for("support_need", codes)
    if rows is None:
        return None
    shown = [r for r in rows if r.get("shown")] if rows and "shown" in rows[0] else _latest(rows, "period_end")
    return sorted(shown, key=lambda r: (r["factor"], r["area_code"]))


def _sek_text(r: dict) -> str:
    if r["sek_per_child"] is None:
        text = "–"
    else:
        text = number(r["sek_per_child"], "", 0)
    missing = r.get("n_missing_amount") or 0
    if missing:
        text += f" (belopp saknas för {missing} ekonomisk{'a' if missing > 1 else 't'} stöd)"
    return text


def support_table_row(data: SiteData, r: dict) -> dict:
    return {"name": data.names.get(r["area_code"], r["area_code"]),
            "file": data.kommun_file(r["area_code"]) if r["area_code"] in data.names else "",
            "factor": STRATEGIC_FACTORS.get(r["factor"], r["factor"]),
            "class_label": r["class_label"], "class": r["class"], "p": percent(r["p_top_fifth"]),
            "rank": (f"{r['rank_lower']}–{r['rank_upper']}" if r["rank_lower"] is not None else "–"),
            "n_actors": r["n_actors"], "n_supports": r["n_supports"],
            "actors": r["actors"] or "", "types": r["support_types"] or "–",
            "sek_per_child": _sek_text(r),
            "overlap": r["overlap_actors"] if r["overlap"] else "",
            "period": str(r["period"])}


def need_vs_support(data: SiteData, lan: str) -> dict | None:
    rows = support_rows(data, data.kommuner_of[lan])
    if rows is None:
        return None
    threshold = next((r["high_need_from"] for r in rows if r.get("high_need_from") is not None), HIGH_NEED)
    charts = []
    for factor in FACTOR_ORDER:
        points = [{"name": data.names[r["area_code"]], "p_top_fifth": r["p_top_fifth"],
                   "n_supports": r["n_supports"]} for r in rows if r["factor"] == factor]
        if points:
            charts.append({"title": STRATEGIC_FACTORS[factor], "svg": need_support(
                points, f"Diagram: behov mot stöd inom {STRATEGIC_FACTORS[factor].lower()}. "
                        f"Varje punkt är en kommun; tabellen nedan har samma uppgifter, med "
                        f"kommunerna med lägre behov och inget stöd uppräknade under den.", threshold)})
    table = [support_table_row(data, r) for r in rows]
    # A county page's table lists the combinations worth reading; the many with lower need
    # and no support are named per factor in one line each (their rows are on the profiles),
    # which keeps a county of 49 kommuner within the page budget.
    quiet = [t for t in table if t["class"] == "lower_need_no_support"]
    names: dict[str, list[str]] = {}  # every factor the table has, the overall need too
    for t in quiet:
        names.setdefault(t["factor"], []).append(t["name"])
    diverging = [t for t, r in zip(table, rows, strict=True)
                 if r["class"] in ("high_need_no_support", "lower_need_much_support")]
    return {"charts": charts, "table": table, "diverging": diverging,
            "listed": [t for t in table if t["class"] != "lower_need_no_support"],
            "quiet": [{"factor": f, "names": ", ".join(n)} for f, n in names.items()],
            "n_quiet": len(quiet),
            "period": table[0]["period"] if table else "", "threshold": percent(threshold)}


# -- selection ----------------------------------------------------------------------------
def selection_row(data: SiteData, r: dict) -> dict:
    """One applicant as the county page and the memo show it."""
    return {"order": r["order"], "code": r["area_code"],
            "name": data.names.get(r["area_code"], r["area_code"]),
            "file": data.kommun_file(r["area_code"]) if r["area_code"] in data.names else "",
            "proposal": r["proposal"], "proposal_label": r["proposal_label"],
            "factor": STRATEGIC_FACTORS.get(r["need_factor"], "–") if r["need_factor"] else "–",
            "lan": ("–" if r["rank_lan"] is None else
                    f"{r['rank_lan']} av {r['n_ranked_lan']} ({_ranks(r['rank_lan_lower'], r['rank_lan_upper'])})"),
            "p_lan": percent(r["p_top_lan"]),
            "riket": ("–" if r["rank"] is None else
                      f"{r['rank']} av {r['n_ranked']} ({_ranks(r['rank_lower'], r['rank_upper'])})"),
            "p": percent(r["p_top_fifth"]),
            "stage": r["readiness_stage"] if r["readiness_stage"] is not None else "–",
            "supports": r["current_supports"], "reasons": r["reasons"] or "",
            "why": (r.get("proposal_reason") or "")[:1].upper() + (r.get("proposal_reason") or "")[1:],
            "applied_on": _date(r["applied_on"])}


SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-ZÅÄÖ])")


def split_common(texts: list[str]) -> tuple[list[str], list[str]]:
    """Sentences every text shares (said once for the table) and each text without them."""
    sentences = [SENTENCE.split(t.strip()) if t else [] for t in texts]
    common = [s for s in sentences[0] if all(s in other for other in sentences[1:])] if sentences else []
    if len(texts) < 2:
        common = []
    return common, [" ".join(s for s in parts if s not in common) for parts in sentences]


def selection(data: SiteData, lan: str) -> list[dict] | None:
    found = data.rows_for("selection", data.kommuner_of[lan])
    if found is None:
        return None
    calls = []
    for call_id in sorted({r["call_id"] for r in found}):
        rows = sorted((r for r in found if r["call_id"] == call_id), key=lambda r: (
                                                        PROPOSAL_ORDER.get(r["proposal"], 9),
                                                        r["order"] if r["order"] is not None else 10**6,
                                                        data.names.get(r["area_code"], "")))
        first = rows[0]
        calls.append({"id": call_id, "title": first["call_title"] or "Utlysning", "memo": memo_file(lan, call_id),
                      "frame": "länets kommuner" if first.get("frame", "lan") == "lan" else "landets kommuner",
                      "factors": ", ".join(STRATEGIC_FACTORS.get(f.strip(), f.strip())
                                           for f in (first["factors"] or "").split(",") if f.strip()),
                      "rows": [selection_row(data, r) for r in rows]})
    for call in calls:
        call["common"], own = split_common([r["reasons"] for r in call["rows"]])
        for row, text in zip(call["rows"], own, strict=True):
            row["reasons"] = text
    return calls


# -- readiness ----------------------------------------------------------------------------
def readiness_stages(data: SiteData, codes: list[str]) -> list[dict] | None:
    """Latest assessment per kommun and issue."""
    rows = data.rows_for("readiness_stage", codes)
    if rows is None:
        return None
    latest: dict[tuple[str, str], dict] = {}
    for r in rows:  # sorted by area, issue, date: the last one wins
        latest[(r["area_code"], r["issue"])] = r
    return [{"code": r["area_code"], "name": data.names.get(r["area_code"], r["area_code"]),
             "file": data.kommun_file(r["area_code"]) if r["area_code"] in data.names else "",
             "issue": r["issue"], "stage": r["stage"], "stage_label": r["stage_label"],
             "score": number(r["score"], "", 1), "lowest": r["lowest_dimension_label"],
             "assessed_on": _date(r["assessed_on"]), "n": r["n_interviews"],
             "previous": r["previous_stage"], "warning": r["warning"] or "",
             "assessment_id": r["assessment_id"], "score_value": r["score"]}
            for _, r in sorted(latest.items())]


def readiness_profile(data: SiteData, code: str) -> list[dict] | None:
    """The kommun's latest assessment per issue: stage and the six dimensions as bars."""
    stages, dimensions = readiness_stages(data, [code]), data.rows_for("readiness", [code])
    if stages is None or dimensions is None:
        return None
    out = []
    for stage in stages:
        dims = [d for d in dimensions if d["assessment_id"] == stage["assessment_id"]]
        rows = [{"dimension": d["dimension"], "dimension_label": d["dimension_label"],
                 "score": d["score"], "previous_score": d["previous_score"],
                 "score_text": number(d["score"], "", 1),
                 "previous_text": number(d["previous_score"], "", 1),
                 "agreement": percent(d["agreement_within_one"]),
                 "warning": d["warning"] or ""} for d in dims]
        out.append({**stage, "dims": rows, "svg": readiness_bars(
            rows, f"Diagram: beredskap per dimension för {stage['issue']}, skala 1–9. "
                  f"Tabellen bredvid har samma uppgifter.") if rows else ""})
    return out


# -- goals --------------------------------------------------------------------------------
def goals(data: SiteData, codes: list[str]) -> list[dict] | None:
    """The latest year of each goal of the given kommuner."""
    rows = data.rows_for("goal_progress", codes)
    if rows is None:
        return None
    out = []
    for r in rows:
        if not r["is_latest"]:
            continue
        ind = data.by_id.get(r["indicator_id"])
        unit = ind["unit"] if ind else ""
        out.append({"name": data.names.get(r["area_code"], r["area_code"]),
                    "file": data.kommun_file(r["area_code"]) if r["area_code"] in data.names else "",
                    "plan": r["plan"], "goal": r["goal_text"],
                    "indicator": ind["short_title"] if ind else r["indicator_id"],
                    "indicator_file": ind["file"] if ind else "",
                    "baseline": f"{number(r['baseline_value'], unit)} ({r['baseline_year']})"
                    + (f"; data: {number(r['baseline_data_value'], unit)}" if r.get("baseline_mismatch") else ""),
                    "target": f"{number(r['target_value'], unit)} ({r['target_year']})",
                    "latest": f"{number(r['value'], unit)} ({r['year']})",
                    "ci": interval(r["lower_95"], r["upper_95"], unit),
                    "status": r["status"], "status_label": r["status_label"],
                    "symbol": GOAL_SYMBOLS.get(r["status"], ""),
                    "reason": data.readable(r["status_reason"]) or "", "off_track": r["status"] in OFF_TRACK})
    return out


def support_received(data: SiteData, code: str) -> list[dict] | None:
    rows = support_rows(data, [code])
    return None if rows is None else [support_table_row(data, r) for r in rows]


# -- what drives the need -----------------------------------------------------------------
def contributions(data: SiteData, code: str, top: int = 3) -> list[dict] | None:
    """Per factor, the inputs that raise the kommun's need most and those that lower it."""
    rows = data.rows_for("need_contribution", [code])
    if rows is None:
        return None
    out = []
    for factor in NEED_FACTORS:
        mine = [r for r in rows if r["factor"] == factor]
        if not mine:
            continue
        up = [r for r in mine if r["contribution"] > 0][:top]
        down = sorted((r for r in mine if r["contribution"] < 0), key=lambda r: r["contribution"])[:top]

        def text(r: dict) -> str:
            return f"{r['input_label']} ({number(r['contribution'], '', 2)})"
        out.append({"factor": STRATEGIC_FACTORS[factor], "score": number(mine[0]["score_z"], "", 2),
                    "up": ", ".join(text(r) for r in up) or "–",
                    "down": ", ".join(text(r) for r in down) or "–"})
    return out
