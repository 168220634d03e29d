"""The indicator page: definition, map, every kommun ranked, funnel, each county's trends.

One page for all 290 kommuner, kept light (≤ 300 kB, ≤ 5 000 DOM nodes): the charts draw
their marks as a few paths per county and comparison, the trend panels of a county are one
SVG on the indicator's shared axis, and the ranked table is the one place with every
kommun's name and numbers.
"""

from __future__ import annotations

from reports.charts import funnel as funnel_chart
from reports.charts import ranked as ranked_chart
from reports.charts import trend as trend_chart
from reports.charts.maps import Area, choropleth_by_class
from reports.geo import Layers
from reports.labels import (CI_METHOD, FACTOR, POLARITY, STRATEGIC_FACTORS, TREND_SHORT, number,
                            reader_text)
from reports.model import Notes, SiteData, row_notes, source_text, survey_heading, value_cell
from reports.pages.common import comparison, data_quality


def _ranked_marks(data: SiteData, ind: dict, rows: list[dict]) -> list[ranked_chart.Mark]:
    ok = [r for r in rows if r["status"] == "ok" and r["value"] is not None]
    ok.sort(key=lambda r: (r["value"], r["area_code"]), reverse=ind["polarity"] == "low_is_good")
    return [ranked_chart.Mark(data.names[r["area_code"]], data.lan_of[r["area_code"]],
                              r["value"], r["lower_95"], r["upper_95"], r["compared_to_riket"] or "not_compared")
            for r in ok]


def _funnel(data: SiteData, ind: dict, rows: list[dict], period: int) -> tuple[str, str]:
    iid = ind["indicator_id"]
    all_limits = data.rows_for("funnels", [iid])
    if all_limits is None:
        return "", "Trattdiagrammets gränser är inte beräknade."
    limits = [r for r in all_limits if r["period"] == period and r["sex"] == "T" and r["breakdown"] == "all"]
    points = [ranked_chart.Mark(data.names[r["area_code"]], data.lan_of[r["area_code"]], r["value"], None,
                                None, r["compared_to_riket"] or "not_compared", r["denominator"])
              for r in rows if r["status"] == "ok" and r["denominator"] and r["value"] is not None]
    if not limits or not points:
        why = ("Medelvärden har inga trattgränser." if ind["value_type"] == "mean"
               else "Inga trattgränser för det här året (nämnare saknas).")
        return "", why
    label = (f"Trattdiagram: {ind['short_title']} {period}, alla kommuners värden mot nämnaren med "
             f"gränser på 95 och 99,8 % runt rikets värde. Tabellen nedan har samma värden.")
    return funnel_chart.funnel(points, limits, limits[0]["benchmark"], ind["unit_phrase"], label), ""


def county_trends(data: SiteData, ind: dict) -> list[dict]:
    """Every county, each with its kommuner's trends in one SVG (or why there are none), so
    that a link `#lan-05` from any county page always lands on something."""
    iid = ind["indicator_id"]
    national = data.series.get((iid, data.national_code.get(iid, "00")), [])
    national_name = data.national_name(iid).lower()
    out = []
    for lan, lan_name in data.lans:
        panels = [(data.names[k], data.series.get((iid, k), [])) for k in data.kommuner_of[lan]]
        panels = [(name, s) for name, s in panels if sum(1 for p in s if p[1] is not None) >= 2]
        svg = trend_chart.county_panels(
            panels, data.series.get((iid, lan), []), national, data.periods[iid], data.trend_domain[iid],
            f"Trender för {lan_name}s {len(panels)} kommuner med värden flera år, med 95 % "
            f"konfidensintervall, länet och {national_name}; alla på samma skala. Värdena finns i "
            f"tabellen och nedladdningsfilerna.", f"tp{lan}") if panels else ""
        out.append({"code": lan, "name": lan_name, "svg": svg, "n": len(panels),
                    "file": data.county_file(lan)})
    return out


def common_notes(rows: list[dict]) -> list[str]:
    """Notes every row with a value shares (a stale indicator, a caveat on the whole year):
    said once above the table instead of on 290 rows."""
    ok = [set(row_notes(r)) for r in rows if r["status"] == "ok"]
    return sorted(set.intersection(*ok)) if ok else []


def ranked_table(data: SiteData, ind: dict, rows: list[dict], notes: Notes,
                 said: frozenset[str] = frozenset()) -> list[dict]:
    """Every kommun, ranked from best to worst (by value where no direction is better, highest
    first); hidden and missing values last, unranked."""
    unit = ind["unit"]
    ranked = [r["status"] == "ok" and r["value"] is not None for r in rows]
    ok = [r for r, keep in zip(rows, ranked) if keep]
    sign = 1 if ind["polarity"] == "low_is_good" else -1
    ok.sort(key=lambda r: (sign * r["value"], r["area_code"]))
    rest = sorted((r for r, keep in zip(rows, ranked) if not keep), key=lambda r: data.names[r["area_code"]])
    out = []
    for rank, r in enumerate([*ok, *rest], start=1):
        cell = value_cell(r, unit, notes, count=ind["value_type"] != "mean", said=said)
        cmp = comparison(r["compared_to_riket"] if cell["ok"] else None)
        lan = data.lan_of[r["area_code"]]
        counts = (f"{cell['n']} / {number(r['denominator'], 'antal')}" if cell["n"] and r["denominator"]
                  else number(r["denominator"], "antal") if r["denominator"] else "–")
        out.append({"rank": rank if cell["ok"] else "", "name": data.names[r["area_code"]],
                    "lan": data.names[lan].removesuffix(" län").removesuffix("s"), "lan_code": lan,
                    "cell": cell, "counts": counts, "cmp": cmp,
                    # "–" comes from the stylesheet for an empty cell: one text node fewer per row
                    "trend": TREND_SHORT.get(r["trend"] or "", "").replace("–", "")})
    return out


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
            hidden.setdefault(reader_text(r["status_reason"]) or "Orsak saknas", []).append(data.names[r["area_code"]])
    layer = layers.kommun()
    areas = {r["area_code"]: Area(f"f-{(r['compared_to_riket'] or 'not_compared') if r['status'] == 'ok' else 'none'}", "")
             for r in rows}
    map_svg = choropleth_by_class(layer, areas, f"Karta: {ind['short_title']} {period}, kommunerna jämförda "
                                  f"med {national_name.lower()}; tabellen nedan har varje kommuns värde",
                                  cls="map national") if layer and rows else ""
    marks = _ranked_marks(data, ind, rows)
    ranked_svg = ranked_chart.ranked(
        marks, national["value"] if national and national["status"] == "ok" else None,
        national_name, ind["unit_phrase"],
        f"Diagram: alla {len(marks)} kommuner med värde rangordnade från sämst till bäst, med 95 % "
        f"konfidensintervall och {national_name.lower()}s värde som linje.") if marks else ""
    funnel_svg, no_funnel = _funnel(data, ind, rows, period) if period else ("", "")
    said = common_notes(rows)
    # why a kommun has no value is said in "Kommuner utan värde": no footnote on its row
    hidden_reasons = frozenset(t for r in rows if r["status"] != "ok" for t in row_notes(r)[:1])
    table = ranked_table(data, ind, rows, notes, frozenset(said) | hidden_reasons)
    method = next((m for m in data.methods() if m["method_id"] == {
        "wilson": "wilson", "byar_exact": "poisson", "t": "t"}.get(ind["ci_method"], "")), None)
    return {
        "ind": ind, "id": iid, "period": period, "national_name": national_name,
        "period_text": str(period) if period else "inget år med värden",
        "national_value": value_cell(national, unit)["text"] if national else "–",
        "factor": STRATEGIC_FACTORS[ind["strategic_factor"]], "kind": FACTOR[ind["factor"]],
        "polarity": POLARITY[ind["polarity"]], "source": source_text(ind, national),
        "source_period": survey_heading(source_text(ind, national), period),
        "ci_method": CI_METHOD.get({"byar_exact": "byar"}.get(ind["ci_method"], ind["ci_method"]), ind["ci_method"]),
        "method": method, "map": map_svg, "ranked": ranked_svg, "n_ranked": len(marks),
        "hidden": sorted(hidden.items()), "funnel": funnel_svg, "no_funnel": no_funnel,
        "counties": county_trends(data, ind), "table": table, "said": said,
        "table_has_ci": any(r["cell"]["ok"] and r["cell"]["ci"] != "–" for r in table),
        "quality": data_quality(data, [iid]), "n_rows": len(rows), "lans": data.lans, "notes": notes.texts,
        "trend_legend": trend_chart.legend("Länet", national_name),
    }
