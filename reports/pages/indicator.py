"""The indicator page: definition, map, every kommun ranked, funnel, each county's trends."""

from __future__ import annotations

from reports.charts import funnel as funnel_chart
from reports.charts import ranked as ranked_chart
from reports.charts import trend as trend_chart
from reports.charts.maps import Area, choropleth
from reports.geo import Layers
from reports.labels import (CI_METHOD, COMPARISON, FACTOR, POLARITY, STRATEGIC_FACTORS, TREND,
                            number, unit_suffix)
from reports.model import Notes, SiteData, source_text, value_cell
from reports.pages.common import comparison, data_quality


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
