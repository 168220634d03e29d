"""Länsöversikt: the county on one printed page — the six questions of the summary, each with
the few numbers a decision needs (the rest is on the county page)."""

from __future__ import annotations

from reports import coordination as coord
from reports.labels import FACTOR_ORDER, STRATEGIC_FACTORS
from reports.model import SiteData
from reports.story import county_story
from reports.watch import factor_counts, watch_list

TOP = 3      # kommuner named per factor
ROWS = 5     # rows at most in a table (the rest is counted)


def _cut(rows: list, n: int = ROWS) -> tuple[list, int]:
    return rows[:n], max(len(rows) - n, 0)


def memo_page(data: SiteData, lan: str) -> dict:
    codes = data.kommuner_of[lan]
    watch = watch_list(data, lan)
    need = coord.need_maps(data, lan, None)
    support = coord.need_vs_support(data, lan)
    stages = coord.readiness_stages(data, codes)
    goals = coord.goals(data, codes)
    story = county_story(data, lan, watch, need, support, stages, goals)
    counts = {c: factor_counts(data, c) for c in codes}
    worse = []
    for factor in FACTOR_ORDER:
        ranked = sorted(((len(counts[c][factor].worse), counts[c][factor].compared, data.names[c])
                         for c in codes if counts[c][factor].worse), key=lambda t: (-t[0], t[2]))
        worse.append({"factor": STRATEGIC_FACTORS[factor],
                      "named": [f"{name} {n} av {m}" for n, m, name in ranked[:TOP]],
                      "more": max(len(ranked) - TOP, 0)})
    need_rows = []
    if need:
        for i, factor in enumerate(coord.NEED_FACTORS):
            cells = sorted(((row["cells"][i], row["name"]) for row in need["table"] if row["cells"][i]["level"]),
                           key=lambda t: (-(t[0]["p_value"] or 0), t[1]))
            need_rows.append({"factor": need["heads"][i], "named": [
                f"{name} {cell['p']} (rang {cell['rank']})" for cell, name in cells[:TOP]]})
    all_diverging = support["diverging"] if support else []
    diverging, more_div = _cut(all_diverging)
    off = [g for g in goals or [] if g["off_track"]]
    off, more_off = _cut(off)
    low, more_low = _cut(sorted(stages or [], key=lambda s: (s["stage"], s["name"])))
    listed, more_watch = _cut(watch)
    return {"lan_code": lan, "lan_name": data.names[lan], "county_file": data.county_file(lan),
            "story": story, "need": need_rows if need else None, "need_period": need["period"] if need else "",
            "worse": worse, "support": support is not None, "diverging": diverging, "more_div": more_div,
            "n_high_no_support": sum(1 for t in all_diverging if t["class"] == "high_need_no_support"),
            "n_much_support": sum(1 for t in all_diverging if t["class"] == "lower_need_much_support"),
            "stages": stages is not None, "low": low, "more_low": more_low,
            "goals": goals is not None, "off": off, "more_off": more_off, "n_goals": len(goals or []),
            "watch": listed, "more_watch": more_watch, "n_kommuner": len(codes)}
