"""Page models: the start page, a county page, a kommun profile and an indicator page.

Each function returns the dict its template lays out. Charts are inline SVG strings built
here from `SiteData`; every chart has the same numbers in a table on the page.
"""

from __future__ import annotations

from reports import coordination as coord
from reports.charts import funnel as funnel_chart
from reports.charts import ranked as ranked_chart
from reports.charts import spine as spine_chart
from reports.charts import trend as trend_chart
from reports.charts.maps import Area, choropleth
from reports.colours import COUNT_FILL
from reports.geo import Layers
from reports.labels import (COMPARISON, COMPARISON_SYMBOL, DATA_QUALITY_STATE, FACTOR,
                            FACTOR_ORDER, POLARITY, RANK_BAND, STRATEGIC_FACTORS, TREND,
                            TREND_SHORT,
                            CI_METHOD, number, percent, plural, unit_suffix)
from reports.model import Notes, SiteData, source_text, value_cell
from reports.story import county_story, none_of_county
from reports.watch import factor_counts, watch_list

SECTIONS = [*FACTOR_ORDER, "none"]


def comparison(code: str | None) -> dict:
    code = code or "not_compared"
    return {"code": code, "label": COMPARISON.get(code, code), "symbol": COMPARISON_SYMBOL.get(code, "")}


def downloads(stem: str) -> dict:
    return {"csv": f"{stem}.csv", "xlsx": f"{stem}.xlsx"}


def data_quality(data: SiteData, indicator_ids: list[str]) -> list[dict] | None:
    """meta.data_quality rows for the given indicators (None: the table is not there yet)."""
    rows = data.rows_for("data_quality", sorted(set(indicator_ids)))
    if rows is None:
        return None
    return [{"indicator": data.by_id[r["indicator_id"]]["short_title"] if r["indicator_id"] in data.by_id
             else r["indicator_id"],
             "file": data.by_id[r["indicator_id"]]["file"] if r["indicator_id"] in data.by_id else "",
             "state": DATA_QUALITY_STATE.get(r["state"], r["state"]), "message": r["message"],
             "since": str(r["first_seen"])[:10], "last": str(r["last_seen"])[:10]}
            for r in rows]


# -- start page ---------------------------------------------------------------------------
def start_page(data: SiteData, layers: Layers) -> dict:
    counties = [{"code": code, "name": name, "file": data.county_file(code),
                 "n": plural(len(data.kommuner_of[code]), "kommun", "kommuner"),
                 "downloads": downloads(data.county_file(code)[:-5])} for code, name in data.lans]
    layer = layers.lan()
    areas = {c["code"]: Area("f-link", f"{c['name']} ({c['n']})", "", c["file"]) for c in counties}
    svg = choropleth(layer, areas, "Karta över Sveriges län; välj ett län för dess sida",
                     cls="map national") if layer else ""
    indicators = [{"title": i["title"], "file": i["file"], "factor": STRATEGIC_FACTORS[i["strategic_factor"]],
                   "period": data.latest_period.get(i["indicator_id"])} for i in data.indicators]
    return {"counties": counties, "map": svg, "indicators": indicators,
            "n_kommuner": len(data.kommuner)}


# -- county page --------------------------------------------------------------------------
def grid_columns(data: SiteData, lan: str) -> list[dict]:
    """Indicators with a value for any of the county's kommuner, grouped by factor."""
    codes = data.kommuner_of[lan]
    groups = []
    for factor, indicators in by_section(data):
        columns = [{"id": i["indicator_id"], "title": i["short_title"], "file": i["file"],
                    "period": data.latest_period.get(i["indicator_id"]), "unit": i["unit"],
                    "unit_phrase": i["unit_phrase"]}
                   for i in indicators if any(data.row(i["indicator_id"], c) for c in codes)]
        if columns:
            groups.append({"factor": factor, "title": STRATEGIC_FACTORS[factor], "columns": columns})
    return groups


def grid_cell(row: dict | None, unit: str, benchmark: bool) -> dict:
    if row is None:
        return {"text": "", "cls": "f-none", "symbol": "", "label": "ingen uppgift"}
    cell = value_cell(row, unit)
    # a value kept from an earlier delivery, or with a caveat, is starred (explained below)
    text = cell["text"] + ("*" if row.get("stale") or row.get("value_note") else "")
    if benchmark:
        return {"text": text, "cls": "bench", "symbol": "", "label": ""}
    cmp = comparison(row["compared_to_riket"] if cell["ok"] else None)
    return {"text": text, "cls": f"f-{cmp['code']}", "symbol": cmp["symbol"] if cell["ok"] else "",
            "label": cmp["label"]}


def overview_grid(data: SiteData, lan: str) -> dict:
    groups = grid_columns(data, lan)
    columns = [c for g in groups for c in g["columns"]]
    areas = ([("national", "Riket", "", "riket")] + [(lan, data.names[lan], "", "lan")]
             + [(s, data.names[s], "", "subregion") for s in data.subregions_of[lan]]
             + [(k, data.names[k], data.kommun_file(k), "kommun") for k in data.kommuner_of[lan]])
    rows = []
    for code, name, file, kind in areas:
        cells = []
        for col in columns:
            area = data.national_code.get(col["id"], "00") if code == "national" else code
            cells.append(grid_cell(data.row(col["id"], area), col["unit"], kind in ("riket",)))
        rows.append({"name": name, "file": file, "kind": kind, "cells": cells})
    return {"groups": groups, "rows": rows}


def signal_maps(data: SiteData, lan: str, layers: Layers) -> list[dict]:
    """Per factor, how many indicators each kommun is significantly worse than riket on."""
    codes = data.kommuner_of[lan]
    layer = layers.county(lan, codes)
    counts = {code: factor_counts(data, code) for code in codes}
    maps = []
    for factor in FACTOR_ORDER:
        areas = {}
        for code in codes:
            count = counts[code][factor]
            n = len(count.worse)
            areas[code] = Area(f"c-{min(n, len(COUNT_FILL) - 1)}",
                               f"{data.names[code]}: sämre än riket på {n} av {count.compared}",
                               str(n) if count.compared else "")
        maps.append({"title": STRATEGIC_FACTORS[factor], "svg": choropleth(
            layer, areas, f"Karta: antal indikatorer inom {STRATEGIC_FACTORS[factor].lower()} där "
                          f"kommunen är säkert sämre än riket", cls="map small") if layer else "",
            "rows": [(data.names[c], len(counts[c][factor].worse), counts[c][factor].compared)
                     for c in codes]})
    return maps


def county_page(data: SiteData, layers: Layers, lan: str) -> dict:
    codes = data.kommuner_of[lan]
    watch = watch_list(data, lan)
    need = coord.need_maps(data, lan, layers.county(lan, codes))
    support = coord.need_vs_support(data, lan)
    stages = coord.readiness_stages(data, codes)
    goal_rows = coord.goals(data, codes)
    grid = overview_grid(data, lan)
    shown = [c["id"] for g in grid["groups"] for c in g["columns"]]
    return {
        "lan_code": lan, "lan_name": data.names[lan], "file": data.county_file(lan),
        "kommuner": [{"code": c, "name": data.names[c], "file": data.kommun_file(c)} for c in codes],
        "n_kommuner": plural(len(codes), "kommun", "kommuner"),
        "story": county_story(data, lan, watch, need, support, stages, goal_rows),
        "need": need, "signal_maps": None if need else signal_maps(data, lan, layers),
        "sensitivity": coord.sensitivity(data), "support": support,
        "selection": coord.selection(data, lan), "stages": stages, "goals": goal_rows,
        "watch": watch, "watch_none": none_of_county(len(codes)), "grid": grid, "quality": data_quality(data, shown),
        "indicators": [{"title": i["short_title"], "file": i["file"],
                        "factor": STRATEGIC_FACTORS[i["strategic_factor"]]}
                       for i in data.indicators if i["indicator_id"] in shown],
        "downloads": downloads(data.county_file(lan)[:-5]), "methods": data.methods(),
    }


# -- kommun profile -----------------------------------------------------------------------
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


def by_section(data: SiteData):
    """(factor, its indicators that are not context), in the site's order."""
    for factor in SECTIONS:
        yield factor, [i for i in data.indicators if i["strategic_factor"] == factor and not i["context"]]


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
            rows.append({
                "title": ind["short_title"], "file": ind["file"], "unit": unit,
                "unit_suffix": unit_suffix(unit), "period": row["period"] if row else
                data.latest_period.get(ind["indicator_id"], ""),
                "cell": cell, "lan": value_cell(lan_row, unit)["text"],
                "riket": value_cell(national, unit)["text"],
                "riket_cmp": comparison(row["compared_to_riket"] if ok else None),
                "lan_cmp": comparison(data.lan_comparison(row, lan) if ok else None),
                "trend": TREND_SHORT.get(row["trend"], "–") if row and row["trend"] else "–",
                "rank": RANK_BAND.get(row["rank_band"], "") if row and row["rank_band"] else "",
                "spine": svg, "no_spine": no_spine,
                "national_name": data.national_name(ind["indicator_id"]),
            })
        if rows:
            sections.append({"factor": factor, "title": STRATEGIC_FACTORS[factor], "rows": rows})
    return sections


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
                                                          periods, label)})
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
                     "period": (k or m)["period"], "unit": ind["unit_phrase"], "k": ck, "m": cm})
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
        "population": (f"{number(population['value'], 'antal')} invånare 0–19 år ({population['period']})"
                       if population and population["status"] == "ok" else ""),
        "summary": summary, "sections": sections,
        "need": None if need is None else [{"factor": STRATEGIC_FACTORS[f], **coord.need_text(need.get((code, f)))}
                                           for f in coord.NEED_FACTORS],
        "trends": trend_panels(data, code, lan), "sexes": sex_table(data, code, notes),
        "surveys": survey_tables(data, code, notes), "peers": peers(data, code),
        "readiness": coord.readiness_profile(data, code), "goals": coord.goals(data, [code]),
        "support": coord.support_received(data, code),
        "downloads": downloads(data.kommun_file(code)[:-5]), "notes": notes.texts,
        "spine_legend": spine_chart.legend(), "trend_legend": trend_chart.legend(data.names[lan]),
    }


# -- indicator page -----------------------------------------------------------------------
def _ranked_marks(data: SiteData, ind: dict, rows: list[dict]) -> list[ranked_chart.Mark]:
    unit = ind["unit"]
    ok = [r for r in rows if r["status"] == "ok" and r["value"] is not None]
    ok.sort(key=lambda r: (r["value"], r["area_code"]), reverse=ind["polarity"] == "low_is_good")
    return [ranked_chart.Mark(data.names[r["area_code"]], data.lan_of[r["area_code"]],
                              r["value"], r["lower_95"], r["upper_95"], r["compared_to_riket"] or "not_compared",
                              f"{data.names[r['area_code']]}: {number(r['value'], unit)}"
                              f"{unit_suffix(unit)} ({COMPARISON.get(r['compared_to_riket'] or 'not_compared')})")
            for r in ok]


def _funnel(data: SiteData, ind: dict, rows: list[dict], period: int) -> tuple[str, str]:
    iid = ind["indicator_id"]
    all_limits = data.rows_for("funnels", [iid])
    if all_limits is None:
        return "", "Trattdiagrammets gränser är inte beräknade."
    limits = [r for r in all_limits if r["period"] == period and r["sex"] == "T" and r["breakdown"] == "all"]
    points = [ranked_chart.Mark(data.names[r["area_code"]], data.lan_of[r["area_code"]], r["value"], None,
                                None, r["compared_to_riket"] or "not_compared",
                                f"{data.names[r['area_code']]}: {number(r['value'], ind['unit'])}, "
                                f"nämnare {number(r['denominator'], 'antal')}", r["denominator"])
              for r in rows if r["status"] == "ok" and r["denominator"] and r["value"] is not None]
    if not limits or not points:
        why = ("Medelvärden har inga trattgränser." if ind["value_type"] == "mean"
               else "Inga trattgränser för det här året (nämnare saknas).")
        return "", why
    label = (f"Trattdiagram: {ind['short_title']} {period}, alla kommuners värden mot nämnaren med "
             f"gränser på 95 och 99,8 % runt rikets värde. Tabellen nedan har samma värden.")
    return funnel_chart.funnel(points, limits, limits[0]["benchmark"], ind["unit_phrase"], label), ""


def indicator_page(data: SiteData, layers: Layers, ind: dict) -> dict:
    iid, unit = ind["indicator_id"], ind["unit"]
    notes = Notes()
    period = data.latest_period.get(iid)
    national = data.national_row(iid)
    national_name = data.national_name(iid)
    rows = [data.row(iid, k) for k in data.kommuner]
    rows = [r for r in rows if r is not None]
    hidden: dict[str, list[str]] = {}
    for r in rows:
        if r["status"] != "ok":
            hidden.setdefault(r["status_reason"] or "Orsak saknas", []).append(data.names[r["area_code"]])
    layer = layers.kommun()
    areas = {r["area_code"]: Area(f"f-{(r['compared_to_riket'] or 'not_compared') if r['status'] == 'ok' else 'none'}",
                                  f"{data.names[r['area_code']]}: {value_cell(r, unit)['text']}"
                                  f" ({COMPARISON.get(r['compared_to_riket'] or 'not_compared')})")
             for r in rows}
    map_svg = choropleth(layer, areas, f"Karta: {ind['short_title']} {period}, kommunerna jämförda "
                         f"med {national_name.lower()}", cls="map national") if layer and rows else ""
    marks = _ranked_marks(data, ind, rows)
    ranked_svg = ranked_chart.ranked(
        marks, national["value"] if national and national["status"] == "ok" else None,
        national_name, ind["unit_phrase"],
        f"Diagram: alla {len(marks)} kommuner med värde rangordnade från sämst till bäst, med 95 % "
        f"konfidensintervall och {national_name.lower()}s värde som linje.") if marks else ""
    funnel_svg, no_funnel = _funnel(data, ind, rows, period) if period else ("", "")
    counties = []
    for lan, lan_name in data.lans:
        panels = []
        for k in data.kommuner_of[lan]:
            series = data.series.get((iid, k), [])
            if sum(1 for p in series if p[1] is not None) < 2:
                continue
            panels.append({"name": data.names[k], "file": data.kommun_file(k), "svg": trend_chart.trend_panel(
                series, data.series.get((iid, lan), []), data.series.get((iid, data.national_code.get(iid, "00")), []),
                data.periods[iid], f"Trend för {data.names[k]} med 95 % konfidensintervall, {lan_name} och "
                                   f"{national_name.lower()}.", width=150, height=84)})
        if panels:
            counties.append({"code": lan, "name": lan_name, "panels": panels,
                             "legend": trend_chart.legend(lan_name, national_name)})
    table = [{"name": data.names[r["area_code"]], "file": data.kommun_file(r["area_code"]),
              "lan": data.names[data.lan_of[r["area_code"]]], "cell": value_cell(r, unit, notes, count=ind["value_type"] != "mean"),
              "denominator": number(r["denominator"], "antal") if r["denominator"] else "–",
              "riket": comparison(r["compared_to_riket"] if r["status"] == "ok" else None),
              "trend": TREND.get(r["trend"], "–") if r["trend"] else "–"}
             for r in sorted(rows, key=lambda r: (data.names[data.lan_of[r["area_code"]]], data.names[r["area_code"]]))]
    method = next((m for m in data.methods() if m["method_id"] == {
        "wilson": "wilson", "byar_exact": "poisson", "t": "t"}.get(ind["ci_method"], "")), None)
    return {
        "ind": ind, "id": iid, "period": period, "national_name": national_name,
        "national_value": value_cell(national, unit)["text"] if national else "–",
        "factor": STRATEGIC_FACTORS[ind["strategic_factor"]], "kind": FACTOR[ind["factor"]],
        "polarity": POLARITY[ind["polarity"]], "source": source_text(ind, national),
        "ci_method": CI_METHOD.get({"byar_exact": "byar"}.get(ind["ci_method"], ind["ci_method"]), ind["ci_method"]),
        "method": method, "map": map_svg, "ranked": ranked_svg, "n_ranked": len(marks),
        "hidden": sorted(hidden.items()), "funnel": funnel_svg, "no_funnel": no_funnel,
        "counties": counties, "table": table, "quality": data_quality(data, [iid]),
        "n_rows": len(rows), "lans": data.lans, "notes": notes.texts,
    }
