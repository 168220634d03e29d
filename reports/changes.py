"""What changed for a county: since the previous publication, and since last year.

*Since the previous publication* reads the publication history (CONTRACT-changes.md):
`meta.publication_change` rows of the latest run for the county's areas, and the difference
in `meta.decision_history` between the two latest runs (goal statuses, the watch list, need
levels). With one publication only, it says so. *Since last year* needs no history: each
indicator's latest year against the year before, from the fact table — values that moved
beyond their interval, comparisons with riket that changed, trends that turned, goals whose
status changed and kommuner entering or leaving the watch list (the same rule on last
year's values).
"""

from __future__ import annotations

from collections import defaultdict

import polars as pl

from reports.labels import COMPARISON, STATUS, STRATEGIC_FACTORS, TREND, interval, number, unit_suffix
from reports.model import SiteData
from transforms.goals import STATUS as GOAL_STATUS
from transforms.watch import WATCH_REASON

CHANGE_KINDS = {  # publication_change flag → Swedish heading
    "is_new": "Nya värden", "value_revised": "Reviderade värden",
    "beyond_interval": "Värden utanför sitt tidigare intervall",
    "status_changed": "Ändrad status (dolt, saknas, redovisas)",
    "comparison_changed": "Ändrad jämförelse med länet eller riket",
    "trend_changed": "Ändrad trend", "is_removed": "Borttagna värden",
}
DECISION_KINDS = {"goal_status": "Mål", "watch_list": "Bevakningslistan", "need_level": "Behovsnivå"}


def _label(code: str | None, words: dict) -> str:
    return words.get(code, code) if code else "–"


def _value(value: float | None, unit: str) -> str:
    return f"{number(value, unit)}{unit_suffix(unit) if value is not None else ''}"


def _outside(a: dict, b: dict) -> bool:
    """Whether one year's value lies outside the other year's 95 % interval."""
    def beyond(v, lo, hi):
        return v is not None and lo is not None and hi is not None and not lo <= v <= hi
    return (beyond(a["value"], b["lower_95"], b["upper_95"])
            or beyond(b["value"], a["lower_95"], a["upper_95"]))


def since_last_year(data: SiteData, lan: str) -> dict:
    """Latest year against the year before, for the county's kommuner and the län itself."""
    areas = [lan, *data.kommuner_of[lan]]
    beyond, compared, trends, years = [], [], [], defaultdict(list)
    for ind in data.indicators:
        if ind["context"]:
            continue
        iid, unit = ind["indicator_id"], ind["unit"]
        period = data.latest_period.get(iid)
        if period is not None:
            years[period].append(ind["short_title"])
        for code in areas:
            now, before = data.row(iid, code), data.previous.get((iid, code))
            if not (now and before and now["status"] == "ok" == before["status"]):
                continue
            item = {"name": data.names[code], "file": data.kommun_file(code) if code != lan else data.county_file(lan),
                    "indicator": ind["short_title"], "indicator_file": ind["file"],
                    "old": f"{_value(before['value'], unit)} ({before['period']})",
                    "new": f"{_value(now['value'], unit)} ({now['period']})",
                    "old_ci": interval(before["lower_95"], before["upper_95"], unit),
                    "new_ci": interval(now["lower_95"], now["upper_95"], unit)}
            if _outside(now, before):
                beyond.append(item)
            if (now["compared_to_riket"] or before["compared_to_riket"]) and \
                    now["compared_to_riket"] != before["compared_to_riket"]:
                compared.append({**item, "was": _label(before["compared_to_riket"], COMPARISON),
                                 "is": _label(now["compared_to_riket"], COMPARISON)})
            if now["trend"] and before["trend"] and now["trend"] != before["trend"] \
                    and "cannot_be_calculated" not in (now["trend"], before["trend"]):
                trends.append({**item, "was": _label(before["trend"], TREND), "is": _label(now["trend"], TREND)})
    goals = goal_changes(data, data.kommuner_of[lan])
    now = {(r["area_code"], r["reason_code"]) for r in data.watch.get(lan, [])}
    before = {(r["area_code"], r["reason_code"]) for r in data.watch_last_year.get(lan, [])}
    kommuner_now, kommuner_before = {a for a, _ in now}, {a for a, _ in before}
    return {"beyond": beyond, "compared": compared, "trends": trends, "goals": goals,
            "years": [{"year": y, "titles": sorted(t)} for y, t in sorted(years.items(), reverse=True)],
            "watch_in": watch_names(data, lan, kommuner_now - kommuner_before, now),
            "watch_out": watch_names(data, lan, kommuner_before - kommuner_now, before)}


def watch_names(data: SiteData, lan: str, codes: set[str], reasons: set[tuple[str, str]]) -> list[dict]:
    return [{"name": data.names[c], "file": data.kommun_file(c),
             "kinds": sorted(WATCH_REASON[r] for a, r in reasons if a == c)}
            for c in sorted(codes, key=lambda c: data.names[c])]


def goal_changes(data: SiteData, codes: list[str]) -> list[dict] | None:
    """Goals whose latest status differs from the year before's."""
    rows = data.rows_for("goal_progress", codes)
    if rows is None:
        return None
    by_goal: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in rows:
        by_goal[(r["area_code"], r["goal_id"])].append(r)
    out = []
    for (area, _), series in sorted(by_goal.items()):
        series.sort(key=lambda r: r["year"])
        if len(series) > 1 and series[-1]["status"] != series[-2]["status"]:
            ind = data.by_id.get(series[-1]["indicator_id"])
            out.append({"name": data.names.get(area, area), "file": data.kommun_file(area) if area in data.names else "",
                        "goal": series[-1]["goal_text"], "indicator": ind["short_title"] if ind else "",
                        "was": f"{series[-2]['status_label']} ({series[-2]['year']})",
                        "is": f"{series[-1]['status_label']} ({series[-1]['year']})"})
    return out


# The history as plain rows, made once per site in the parent process: pages are drawn in
# forked workers, where polars' thread pool does not exist (a sort there never returns).
_PLAIN: dict[int, dict] = {}


def plain_history(data: SiteData) -> dict:
    """runs (sorted by time), changes (sex T, in display order), decisions, or None each."""
    key = id(data.m)
    if key not in _PLAIN:
        m = data.m
        _PLAIN.clear()
        _PLAIN[key] = {
            "runs": None if m.publication_history is None
            else m.publication_history.sort("published_at").to_dicts(),
            "changes": None if m.publication_change is None
            else m.publication_change.filter(pl.col("sex") == "T")
            .sort("indicator_id", "area_code", "period", "breakdown").to_dicts(),
            "decisions": None if m.decision_history is None else m.decision_history.to_dicts(),
        }
    return _PLAIN[key]


def since_publication(data: SiteData, lan: str) -> dict:
    """The latest publication against the one before it, for the county (None parts: the
    history is not there)."""
    runs = plain_history(data)["runs"]
    if not runs:
        return {"available": False}
    latest = runs[-1]
    out = {"available": True, "first": latest["previous_run_id"] is None or len(runs) < 2,
           "published": latest["published_at"][:10], "label": latest.get("data_label") or "",
           "previous": next((r["published_at"][:10] for r in runs if r["run_id"] == latest["previous_run_id"]), ""),
           "n_publications": len(runs)}
    if out["first"]:
        return out
    areas = {lan, *data.kommuner_of[lan]}
    rows = [r for r in plain_history(data)["changes"] or []
            if r["run_id"] == latest["run_id"] and r["area_code"] in areas]
    groups = []
    for flag, title in CHANGE_KINDS.items():
        items = []
        for r in rows:
            if not r.get(flag):
                continue
            ind = data.by_id.get(r["indicator_id"])
            unit = ind["unit"] if ind else ""
            items.append({"name": data.names.get(r["area_code"], r["area_code"]),
                          "indicator": ind["short_title"] if ind else r["indicator_id"],
                          "indicator_file": ind["file"] if ind else "", "period": r["period"],
                          "old": _value(r["old_value"], unit), "new": _value(r["new_value"], unit),
                          "old_ci": interval(r["old_lower_95"], r["old_upper_95"], unit),
                          "new_ci": interval(r["new_lower_95"], r["new_upper_95"], unit),
                          "detail": change_detail(flag, r)})
        groups.append({"title": title, "rows": items})
    out["groups"] = groups
    out["decisions"] = decision_changes(data, lan, latest["run_id"], latest["previous_run_id"])
    return out


def change_detail(flag: str, r: dict) -> str:
    if flag == "status_changed":
        return f"{_label(r['old_status'], STATUS) or 'redovisas'} → {_label(r['new_status'], STATUS) or 'redovisas'}"
    if flag == "comparison_changed":
        return (f"riket: {_label(r['old_compared_to_riket'], COMPARISON)} → {_label(r['new_compared_to_riket'], COMPARISON)}; "
                f"länet: {_label(r['old_compared_to_lan'], COMPARISON)} → {_label(r['new_compared_to_lan'], COMPARISON)}")
    if flag == "trend_changed":
        return f"{_label(r['old_trend'], TREND)} → {_label(r['new_trend'], TREND)}"
    return ""


def goal_text(data: SiteData, area: str, goal_id: str) -> str:
    """A goal as the county wrote it (never its id)."""
    rows = data.rows_for("goal_progress", [area]) or []
    return next((r["goal_text"] for r in rows if r["goal_id"] == goal_id), "ett mål")


def state_label(kind: str, state: str) -> str:
    if kind == "goal_status":
        return GOAL_STATUS.get(state, state)
    if kind == "need_level":
        return f"nivå {state}"
    return state


def decision_changes(data: SiteData, lan: str, run: str, previous: str) -> list[dict] | None:
    """Goal statuses, watch-list entries and need levels that entered, left or changed."""
    rows = plain_history(data)["decisions"]
    if rows is None:
        return None
    areas = {lan, *data.kommuner_of[lan]}
    def states(run_id: str) -> dict[tuple[str, str, str], str]:
        return {(r["kind"], r["area_code"], r["item_id"]): r["state"] for r in rows
                if r["run_id"] == run_id and r["area_code"] in areas}
    now, before = states(run), states(previous)
    out = []
    for key in sorted(set(now) | set(before)):
        kind, area, item = key
        if now.get(key) == before.get(key):
            continue
        what = (data.by_id[item]["short_title"] if item in data.by_id
                else "kommunen som helhet" if kind == "watch_list" and not item
                else goal_text(data, area, item) if kind == "goal_status"
                else STRATEGIC_FACTORS.get(item, "") if kind == "need_level" else "")
        change = ("tillkom" if key not in before else "försvann" if key not in now
                  else f"{state_label(kind, before[key])} → {state_label(kind, now[key])}")
        out.append({"kind": DECISION_KINDS.get(kind, kind), "name": data.names.get(area, area),
                    "item": what, "change": change})
    return out
