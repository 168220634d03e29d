"""The start page: the map of the counties, the vintage, every county's downloads."""

from __future__ import annotations

from reports.charts.maps import Area, choropleth
from reports.geo import Layers
from reports.labels import STRATEGIC_FACTORS, plural
from reports.model import SiteData
from reports.pages.common import data_quality, downloads


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
            "n_kommuner": len(data.kommuner),
            "quality": data_quality(data, [i["indicator_id"] for i in data.indicators])}
