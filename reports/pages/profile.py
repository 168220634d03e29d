"""The kommun profile: spine charts and tables by factor, trends, K/M, surveys, peers, coordination."""

from __future__ import annotations

from reports import coordination as coord
from reports import health_economics
from reports.charts import spine as spine_chart
from reports.charts import trend as trend_chart
from reports.labels import (FACTOR_ORDER, RANK_BAND, STRATEGIC_FACTORS, TREND_SHORT, number,
                            unit_suffix)
from reports.model import Notes, SiteData, source_text, survey_heading, value_cell
from reports.pages.common import by_section, comparison, downloads
from reports.pages.sexes import gap
from reports.watch import factor_counts


def spine_for(data: SiteData, ind: dict, code: str, lan: str, row: dict | None) -> tuple[str, str]:
    """The spine chart of one indicator row, or the reason there is none."""
    spread = data.spreads.get(ind["indicator_id"])
    if ind["source"] == "survey":
        return "", "Enkäten täcker inte alla kommuner"
    if spread is None:
        return "", "För få kommuner med värden"
    ok = row is not None and row["status"] == "ok"
    value = row["value"] if ok else None
    lan_row, riket_row = data.row(ind["indicator_id"], lan), data.national_row(ind["indicator_id"])
    lan_v = lan_row["value"] if lan_row and lan_row["status"] == "ok" else None
    riket_v = riket_row["value"] if riket_row and riket_row["status"] == "ok" else None
    cmp = comparison(row["compared_to_riket"] if ok else None)
    worst, best = ((spread.q100, spread.q0) if ind["polarity"] == "low_is_good"
                   else (spread.q0, spread.q100))
    ends = ("sämst", "bäst") if ind["polarity"] != "no_judgement" else ("lägst", "högst")
    label = (f"{data.names[code]}: {number(value, ind['unit'])} ({cmp['label'].lower()} än riket); "
             f"riket {number(riket_v, ind['unit'])}, {data.names[lan]} {number(lan_v, ind['unit'])}; "
             f"kommunerna från {number(worst, ind['unit'])} ({ends[0]}) till {number(best, ind['unit'])} "
             f"({ends[1]}), mittersta hälften {number(spread.q25, ind['unit'])}–"
             f"{number(spread.q75, ind['unit'])}.")
    return spine_chart.spine(spread, value, lan_v, riket_v, ind["polarity"], cmp["code"], label), ""


def profile_rows(data: SiteData, code: str, lan: str, notes: Notes) -> list[dict]:
    sections = []
    for factor, indicators in by_section(data):
        rows = []
        for ind in indicators:
            row = data.row(ind["indicator_id"], code)
            if row is None and ind["source"] == "survey":
                continue  # the survey did not cover this kommun
            unit = ind["unit"]
            cell = value_cell(row, unit, notes, count=ind["value_type"] != "mean")
            lan_row = data.row(ind["indicator_id"], lan)
            national = data.national_row(ind["indicator_id"])
            svg, no_spine = spine_for(data, ind, code, lan, row)
            ok = cell["ok"]
            bench = data.lan_benchmark(row, lan) if ok else None
            rows.append({
                "title": ind["short_title"], "file": ind["file"], "unit": unit,
                "unit_suffix": unit_suffix(unit), "period": row["period"] if row else
                data.latest_period.get(ind["indicator_id"], ""),
                "cell": cell, "lan": (number(bench["value"], unit) if bench and bench["rest"]
                                      else value_cell(lan_row, unit)["text"]),
                "lan_rest": bool(bench and bench["rest"]),
                "riket": value_cell(national, unit)["text"],
                "riket_cmp": comparison(row["compared_to_riket"] if ok else None),
                "lan_cmp": comparison(bench["comparison"] if bench else None),
                "trend": TREND_SHORT.get(row["trend"], "–") if row and row["trend"] else "–",
                "rank": RANK_BAND.get(row["rank_band"], "") if row and row["rank_band"] else "",
                "spine": svg, "no_spine": no_spine,
                "national_name": data.national_name(ind["indicator_id"]),
            })
        if rows:
            compared = [r for r in rows if r["cell"]["ok"]]
            all_rest = bool(compared) and all(r["lan_rest"] for r in compared)
            sections.append({"factor": factor, "title": STRATEGIC_FACTORS[factor], "rows": rows,
                             "rest": any(r["lan_rest"] for r in rows), "all_rest": all_rest})
    return sections


def own_domain(data: SiteData, iid: str, series: list) -> tuple[float, float]:
    """The indicator's shared axis, widened where the kommun's own values go beyond it (on
    its own profile a kommun's line is never cut)."""
    lo, hi = data.trend_domain[iid]
    values = [p[1] for p in series if p[1] is not None]
    return min([lo, *values]), max([hi, *values])


def trend_panels(data: SiteData, code: str, lan: str) -> list[dict]:
    groups = []
    for factor, indicators in by_section(data):
        panels = []
        for ind in indicators:
            iid = ind["indicator_id"]
            series = data.series.get((iid, code), [])
            if sum(1 for p in series if p[1] is not None) < 2:
                continue
            periods = data.periods[iid]
            label = (f"Trend {ind['short_title']} {periods[0]}–{periods[-1]} för {data.names[code]} "
                     f"med 95 % konfidensintervall, {data.names[lan]} och riket. Värdena finns i "
                     f"nedladdningsfilen.")
            panels.append({"title": ind["short_title"], "file": ind["file"], "unit": ind["unit_phrase"],
                           "svg": trend_chart.trend_panel(series, data.series.get((iid, lan), []),
                                                          data.series.get((iid, data.national_code.get(iid, "00")), []),
                                                          periods, label, domain=own_domain(data, iid, series))})
        if panels:
            groups.append({"title": STRATEGIC_FACTORS[factor], "panels": panels})
    return groups


def sex_table(data: SiteData, code: str, notes: Notes) -> list[dict]:
    rows = []
    for ind in data.indicators:
        if ind["context"] or ind["source"] == "survey":
            continue
        k, m = data.row(ind["indicator_id"], code, "K"), data.row(ind["indicator_id"], code, "M")
        if k is None and m is None:
            continue
        ck, cm = value_cell(k, ind["unit"], notes), value_cell(m, ind["unit"], notes)
        rows.append({"title": ind["short_title"], "file": ind["file"],
                     "period": (k or m)["period"], "unit": ind["unit_phrase"], "k": ck, "m": cm,
                     "gap": gap(data, ind["indicator_id"], code, ind["unit"])})
    return rows


def survey_tables(data: SiteData, code: str, notes: Notes) -> list[dict]:
    """Survey indicators by grade and sex, one table per survey, indicators as rows."""
    tables: dict[str, dict] = {}
    for ind in data.indicators:
        if ind["source"] != "survey":
            continue
        cells = data.breakdowns.get((ind["indicator_id"], code))
        if not cells:
            continue
        heads = data.breakdown_heads(cells + [("all", "T")])
        survey = source_text(ind, data.national_row(ind["indicator_id"]))
        table = tables.setdefault(survey, {"survey": survey, "heads": heads, "rows": [],
                                           "period": data.latest_period.get(ind["indicator_id"])})
        table["rows"].append({"title": ind["short_title"], "file": ind["file"], "cells": [
            value_cell(data.row(ind["indicator_id"], code, sex, breakdown), ind["unit"], notes)
            for breakdown, sex in table["heads"]]})
    for table in tables.values():
        table["head_titles"] = [data.breakdown_title(b, s) for b, s in table["heads"]]
        table["heading"] = survey_heading(table["survey"], table["period"])
    return list(tables.values())


def peers(data: SiteData, code: str) -> list[dict]:
    rows = data.rows_for("peers", [code]) or []
    return [{"name": data.names[r["peer_code"]], "file": data.kommun_file(r["peer_code"]),
             "lan": data.names.get(data.lan_of[r["peer_code"]], ""), "distance": number(r["distance"], "", 2)}
            for r in rows]


def profile_page(data: SiteData, code: str) -> dict:
    lan = data.lan_of[code]
    notes = Notes()
    population = data.row("N01919", code) if "N01919" in data.by_id else None
    counts = factor_counts(data, code)
    summary = [{"title": STRATEGIC_FACTORS[f], "better": len(counts[f].better),
                "worse": len(counts[f].worse), "compared": counts[f].compared}
               for f in FACTOR_ORDER if counts[f].compared]
    need = coord.need_rows(data, [code])
    sections = profile_rows(data, code, lan, notes)
    return {
        "code": code, "name": data.names[code], "lan_code": lan, "lan_name": data.names[lan],
        "county_file": data.county_file(lan), "file": data.kommun_file(code),
        "sexes_file": data.view_file("kon", lan),
        "population": (f"{number(population['value'], 'antal')} invånare 0–19 år ({population['period']})"
                       if population and population["status"] == "ok" else ""),
        "summary": summary, "sections": sections,
        "need": None if need is None else [{"factor": STRATEGIC_FACTORS[f], **coord.need_text(need.get((code, f)))}
                                           for f in coord.NEED_FACTORS],
        "trends": trend_panels(data, code, lan), "sexes": sex_table(data, code, notes),
        "surveys": survey_tables(data, code, notes), "peers": peers(data, code),
        "contributions": coord.contributions(data, code),
        "readiness": coord.readiness_profile(data, code), "goals": coord.goals(data, [code]),
        "support": coord.support_received(data, code),
        "health_economics": health_economics.kommun_section(data, code),
        "downloads": downloads(data.kommun_file(code)[:-5]), "notes": notes.texts,
        "spine_legend": spine_chart.legend(), "trend_legend": trend_chart.legend(data.names[lan]),
    }
