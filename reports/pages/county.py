"""The county page: the story first, need and support, the watch list, the overview grid."""

from __future__ import annotations

from dataclasses import replace

from reports import coordination as coord
from reports import health_economics
from reports.charts.maps import Area, choropleth, map_defs
from reports.changes import since_last_year, since_publication
from reports.colours import COUNT_FILL
from reports.geo import Layers, MapLayer
from reports.labels import FACTOR_ORDER, STRATEGIC_FACTORS, plural
from reports.model import SiteData, value_cell
from reports.pages.changes import change_counts
from reports.pages.common import by_section, comparison, data_quality, downloads
from reports.story import county_story, none_of_county
from reports.watch import factor_counts, watch_list


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
    """A cell of the overview: the value, and the comparison with riket as its colour class;
    the stylesheet prints the comparison's sign after the value (one element per cell)."""
    if row is None:
        return {"text": "", "cls": "f-none"}
    cell = value_cell(row, unit)
    # a value kept from an earlier delivery, or with a caveat, is starred (explained below)
    text = cell["text"] + ("*" if row.get("stale") or row.get("value_note") else "")
    if benchmark:
        return {"text": text, "cls": "bench"}
    if not cell["ok"]:
        return {"text": text, "cls": "f-none"}
    return {"text": text, "cls": f"f-{comparison(row['compared_to_riket'])['code']}"}


def overview_grid(data: SiteData, lan: str) -> dict:
    """The overview as one table per strategic factor (each fits a printed A4 page), rows:
    riket, the län, its sub-regions and kommuner."""
    groups = grid_columns(data, lan)
    areas = ([("national", "Riket", "", "riket")] + [(lan, data.names[lan], "", "lan")]
             + [(s, data.names[s], "", "subregion") for s in data.subregions_of[lan]]
             + [(k, data.names[k], data.kommun_file(k), "kommun") for k in data.kommuner_of[lan]])
    for group in groups:
        group["rows"] = []
        for code, name, file, kind in areas:
            cells = [grid_cell(data.row(col["id"], data.national_code.get(col["id"], "00")
                                        if code == "national" else code), col["unit"], kind == "riket")
                     for col in group["columns"]]
            group["rows"].append({"name": name, "file": file, "kind": kind, "cells": cells})
    return {"groups": groups}


def signal_maps(data: SiteData, lan: str, layer: MapLayer | None) -> list[dict]:
    """Per factor, how many indicators each kommun is significantly worse than riket on."""
    codes = data.kommuner_of[lan]
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
    layer = layers.county(lan, codes)
    layer = replace(layer, ref=f"g{lan}-") if layer else None   # outlines once for all maps
    need = coord.need_maps(data, lan, layer)
    support = coord.need_vs_support(data, lan)
    stages = coord.readiness_stages(data, codes)
    goal_rows = coord.goals(data, codes)
    grid = overview_grid(data, lan)
    shown = [c["id"] for g in grid["groups"] for c in g["columns"]]
    year, publication = since_last_year(data, lan), since_publication(data, lan)
    return {
        "lan_code": lan, "lan_name": data.names[lan], "file": data.county_file(lan),
        "views": data.county_views(lan), "changes": {"year": year, "publication": publication,
                                                     "counts": change_counts(year, publication),
                                                     "file": data.view_file("andringar", lan)},
        "kommuner": [{"code": c, "name": data.names[c], "file": data.kommun_file(c)} for c in codes],
        "n_kommuner": plural(len(codes), "kommun", "kommuner"),
        "story": county_story(data, lan, watch, need, support, stages, goal_rows),
        "need": need, "signal_maps": None if need else signal_maps(data, lan, layer),
        "map_defs": map_defs(layer) if layer else "",
        "sensitivity": coord.sensitivity(data), "support": support,
        "selection": coord.selection(data, lan), "stages": stages, "goals": goal_rows,
        "watch": watch, "watch_none": none_of_county(len(codes)), "grid": grid, "quality": data_quality(data, shown),
        "indicators": [{"title": i["short_title"], "file": i["file"],
                        "factor": STRATEGIC_FACTORS[i["strategic_factor"]]}
                       for i in data.indicators if i["indicator_id"] in shown],
        "downloads": downloads(data.county_file(lan)[:-5]), "methods": data.methods(),
        "health_economics": health_economics.county_section(data, lan),
    }
