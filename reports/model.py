"""From the marts to what a county report shows: plain dicts in display order.

Figures are built here too (as HTML fragments with stable div ids); the templates only lay
things out. Everything is sorted explicitly so the same marts give the same report.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import plotly.io as pio
import polars as pl

from reports import figures
from reports.labels import (COMPARISON, COMPARISON_COLOUR, FACTOR, POLARITY, RANK_BAND, SEX,
                            STATUS, STRATEGIC_FACTORS, TREND, breakdown_label, interval, number)
from transforms.compare import NATIONAL

LARGE_SHARE = 0.2  # a kommun with more than this share of its län is compared with the rest
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True,
                 "modeBarButtonsToRemove": ["select2d", "lasso2d"]}


def figure_html(fig: dict, div_id: str, alt: str) -> str:
    """A figure dict as an HTML fragment; the stable div id keeps reports reproducible."""
    html = pio.to_html(fig, validate=False, full_html=False, include_plotlyjs=False,
                       div_id=div_id, config=PLOTLY_CONFIG)
    alt = alt.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<div class="figure" role="img" aria-label="{alt}">{html}</div>'


def value_text(row: dict, unit: str) -> str:
    if row["status"] != "ok":
        return STATUS.get(row["status"], row["status"])
    return number(row["value"], unit)


def comparison(code: str | None, note: str = "") -> dict:
    code = code or "not_compared"
    return {"code": code, "label": COMPARISON.get(code, code), "note": note,
            "colour": COMPARISON_COLOUR.get(code, "#ccc")}


@dataclass(frozen=True)
class Marts:
    facts: pl.DataFrame
    indicators: pl.DataFrame
    areas: pl.DataFrame
    peers: pl.DataFrame | None = None
    funnels: pl.DataFrame | None = None
    methods: pl.DataFrame | None = None


class ReportModel:
    """Builds county models; shared work (latest year, national funnels) is done once."""

    def __init__(self, marts: Marts):
        self.m = marts
        self.names = dict(zip(marts.areas["area_code"], marts.areas["area_name"], strict=True))
        self.indicators = marts.indicators.sort("indicator_id").to_dicts()

    @cached_property
    def latest_rows(self) -> pl.DataFrame:
        """All rows of the latest year with a national value (riket, or all respondents)."""
        facts = self.m.facts
        latest = (facts.filter(pl.col("area_type").is_in(NATIONAL) & (pl.col("status") == "ok")
                               & (pl.col("sex") == "T") & (pl.col("breakdown") == "all"))
                  .group_by("indicator_id").agg(latest=pl.col("period").max()))
        return (facts.join(latest, on="indicator_id", how="inner")
                .filter(pl.col("period") == pl.col("latest"))
                .sort("indicator_id", "area_code", "sex", "breakdown"))

    @cached_property
    def current(self) -> pl.DataFrame:
        """Sex T of the latest year, annual (breakdown all) and pooled rows."""
        return self.latest_rows.filter((pl.col("sex") == "T")
                                       & ((pl.col("breakdown") == "all")
                                          | pl.col("breakdown").str.starts_with("pooled")))

    @cached_property
    def breakdowns(self) -> dict[str, pl.DataFrame]:
        """Per indicator, the rows by grade and sex (survey indicators)."""
        rows = self.latest_rows.filter(~pl.col("breakdown").str.starts_with("pooled")
                                       & ((pl.col("breakdown") != "all") | (pl.col("sex") != "T")))
        return {key[0]: frame for key, frame in rows.group_by(["indicator_id"], maintain_order=True)}

    def breakdown_table(self, ind: dict, lan_code: str) -> dict | None:
        """Kommun × (grade, sex) values, as Data i Dialog shows survey results."""
        frame = self.breakdowns.get(ind["indicator_id"])
        if frame is None:
            return None
        frame = frame.filter(pl.col("area_code").str.starts_with(lan_code)
                             | pl.col("area_type").is_in(NATIONAL))
        columns = (frame.select("breakdown", "sex").unique()
                   .with_columns(_all=pl.col("breakdown") == "all", _sex=pl.col("sex").replace_strict(
                       {"K": 0, "M": 1, "T": 2}, return_dtype=pl.Int8))
                   .sort("_all", "breakdown", "_sex").select("breakdown", "sex").rows())
        if not columns:
            return None
        cells = {(r["area_code"], r["breakdown"], r["sex"]): r for r in frame.to_dicts()}
        order = (frame.select("area_code", "area_type").unique()
                 .with_columns(_o=pl.col("area_type").replace_strict(
                     {"kommun": 0, "lan": 1, "riket": 2, "total": 2, "subregion": 1}, return_dtype=pl.Int8))
                 .sort("_o", "area_code"))
        rows = []
        for code in order["area_code"]:
            values = []
            for breakdown, sex in columns:
                cell = cells.get((code, breakdown, sex))
                values.append({"text": value_text(cell, ind["unit"]) if cell else "–",
                               "reason": (cell or {}).get("status_reason") or "",
                               "n": number(cell["denominator"], "antal") if cell and cell["denominator"] else ""})
            rows.append({"name": self.names.get(code, code), "values": values})
        heads = [f"{breakdown_label(b).capitalize()}, {SEX[s].lower()}" for b, s in columns]
        return {"heads": heads, "rows": rows}

    @cached_property
    def by_indicator(self) -> dict[str, pl.DataFrame]:
        return {key[0]: frame for key, frame in
                self.current.group_by(["indicator_id"], maintain_order=True)}

    def funnel(self, ind: dict, annual: pl.DataFrame, lan_code: str) -> str | None:
        if self.m.funnels is None:
            return None
        limits = self.m.funnels.filter(
            (pl.col("indicator_id") == ind["indicator_id"]) & (pl.col("sex") == "T")
            & (pl.col("breakdown") == "all") & (pl.col("period") == annual["period"][0]))
        points = annual.filter((pl.col("area_type") == "kommun") & (pl.col("status") == "ok")
                               & pl.col("denominator").is_not_null())
        if limits.is_empty() or points.is_empty():
            return None
        points = points.with_columns(
            area_name=pl.col("area_code").replace_strict(self.names, default=None),
            in_county=pl.col("area_code").str.starts_with(lan_code)).sort("area_code")
        fig = figures.funnel(points, limits.sort("denominator"), ind["unit"], self.names[lan_code])
        tau2 = limits["tau2"][0]
        alt = (f"Trattdiagram: {ind['short_title']}, {annual['period'][0]}. Alla kommuners värden mot "
               f"nämnaren med gränser på 95 och 99,8 % runt rikets värde; länets kommuner markerade.")
        note = ("Streckade gränser är justerade för överspridning (τ² = "
                f"{number(tau2, '', 6)})." if tau2 > 0 else "Ingen överspridning utöver slumpen.")
        return figure_html(fig, f"funnel-{lan_code}-{ind['indicator_id']}", alt) + \
            f'<p class="caption">{note}</p>'

    def indicator_item(self, ind: dict, lan_code: str) -> dict | None:
        frame = self.by_indicator.get(ind["indicator_id"])
        if frame is None:
            return None
        annual = frame.filter(pl.col("breakdown") == "all")
        unit, lan_name = ind["unit"], self.names[lan_code]
        benchmarks = {r["area_code"]: r for r in annual.filter(
            (pl.col("area_code") == lan_code) | pl.col("area_type").is_in(NATIONAL)).to_dicts()}
        national = next((r for r in benchmarks.values() if r["area_type"] in NATIONAL), None)
        national_name = self.names.get(national["area_code"], "Riket") if national else "Riket"
        lan_row, riket_row = benchmarks.get(lan_code), national
        lan_value, riket_value = (r["value"] if r and r["status"] == "ok" else None
                                  for r in (lan_row, riket_row))
        county = annual.filter((pl.col("area_type") == "kommun")
                               & pl.col("area_code").str.starts_with(lan_code)).sort("area_code")
        if county.is_empty():
            return None  # e.g. a survey that did not cover this county
        pooled = {r["area_code"]: r for r in frame.filter(pl.col("breakdown").str.starts_with("pooled")
                                                          & (pl.col("status") == "ok")).to_dicts()}
        rows = []
        for r in county.to_dicts():
            large = (lan_row is not None and r["denominator"] and lan_row["denominator"]
                     and r["denominator"] / lan_row["denominator"] > LARGE_SHARE)
            lan_cmp = (comparison(r["compared_to_rest_of_lan"], "övriga länet") if large
                       else comparison(r["compared_to_lan"]))
            p = pooled.get(r["area_code"])
            rows.append({
                "code": r["area_code"], "name": self.names[r["area_code"]],
                "value": value_text(r, unit), "status": r["status"],
                "reason": r["status_reason"] or "",
                "ci": interval(r["lower_95"], r["upper_95"], unit),
                "pooled": (f"{number(p['value'], unit)} ({ind['pooling_years']} år t.o.m. {p['period']})"
                           if p and (r["status"] != "ok" or (r["numerator"] or 0) < 10) else ""),
                "lan": lan_cmp, "riket": comparison(r["compared_to_riket"]),
                "peers": comparison(r["compared_to_peers"]),
                "trend": TREND.get(r["trend"], "–"), "trend_code": r["trend"] or "",
                "rank": RANK_BAND.get(r["rank_band"], "–"), "red_red": r["red_red"],
            })
        period = int(annual["period"][0])
        chart = None
        shown = county.filter(pl.col("status") == "ok").with_columns(
            area_name=pl.col("area_code").replace_strict(self.names, default=None)).sort(
            "value", "area_code", descending=[ind["polarity"] == "high_is_good", False])
        if shown.height:
            alt = (f"Diagram: {ind['title']}, {period}. Kommunernas värden i {lan_name} med 95 % "
                   f"konfidensintervall; länets och rikets värde som linjer. Samma uppgifter finns "
                   f"i tabellen under diagrammet.")
            chart = figure_html(figures.kommun_dots(shown, lan_value, riket_value, lan_name, unit,
                                                    national_name),
                                f"fig-{lan_code}-{ind['indicator_id']}", alt)
        return {
            "id": ind["indicator_id"], "title": ind["title"], "short_title": ind["short_title"],
            "unit": unit, "definition": ind["definition"], "note": ind["note"],
            "factor": FACTOR[ind["factor"]], "polarity": POLARITY[ind["polarity"]],
            "age_label": ind["age_label"], "period": period,
            "source": self.source_text(ind, national),
            "national_name": national_name,
            "breakdown": self.breakdown_table(ind, lan_code) if ind["source"] == "survey" else None,
            "source_title": ind.get("source_title"),
            "lan_value": number(lan_value, unit), "riket_value": number(riket_value, unit),
            "chart": chart, "funnel": self.funnel(ind, annual, lan_code), "table": rows,
            "context": ind["factor"] == "context",
        }

    @staticmethod
    def source_text(ind: dict, national: dict | None) -> str:
        if ind["source"] == "kolada":
            return f"Kolada ({ind['source_id']})"
        files = (national or {}).get("source_title")
        return f"elevenkät {files}" if files else "elevenkät"

    def county(self, lan_code: str) -> dict:
        lan_name = self.names[lan_code]
        kommuner = (self.m.areas.filter((pl.col("area_type") == "kommun")
                                        & (pl.col("lan_code") == lan_code)).sort("area_code"))
        kommun_order = list(zip(kommuner["area_code"], kommuner["area_name"], strict=True))
        sections, heat_order, heat_cells, watch = [], [], [], []
        for key, title in STRATEGIC_FACTORS.items():
            items = [item for ind in self.indicators if ind["strategic_factor"] == key
                     if (item := self.indicator_item(ind, lan_code)) is not None]
            if items:
                sections.append({"key": key, "title": title, "items": items})
            for item in items:
                if item["context"]:
                    continue
                heat_order.append((item["id"], item["short_title"]))
                heat_cells.extend({"indicator_id": item["id"], "area_code": r["code"],
                                   "compared_to_riket": r["riket"]["code"], "value_text": r["value"]}
                                  for r in item["table"])
                watch.extend({"kommun": r["name"], "indicator": item["short_title"], "id": item["id"],
                              "value": r["value"], "unit": item["unit"], "riket": item["riket_value"],
                              "trend": r["trend"], "period": item["period"]}
                             for r in item["table"] if r["red_red"])
        heat = None
        if heat_order:
            cells = pl.DataFrame(heat_cells, schema={"indicator_id": pl.String, "area_code": pl.String,
                                                     "compared_to_riket": pl.String, "value_text": pl.String})
            heat = figure_html(figures.comparison_heatmap(cells, heat_order, kommun_order),
                               f"fig-{lan_code}-overview",
                               f"Översikt för {lan_name}: kommunernas senaste värden jämfört med riket, "
                               f"en kolumn per indikator. Samma uppgifter finns per kommun längre ned.")
        return {"lan_code": lan_code, "lan_name": lan_name, "heatmap": heat, "factors": sections,
                "kommuner": self.kommun_sections(kommun_order, sections),
                "watchlist": sorted(watch, key=lambda w: (w["kommun"], w["id"])),
                "methods": self.methods()}

    def kommun_sections(self, kommun_order, sections) -> list[dict]:
        peers = {}
        if self.m.peers is not None:
            for code, group in self.m.peers.sort("kommun_code", "rank").group_by(
                    ["kommun_code"], maintain_order=True):
                peers[code[0]] = [f"{self.names[p]} ({number(d, '', 2)})" for p, d in
                                  zip(group["peer_code"], group["distance"], strict=True)]
        out = []
        for code, name in kommun_order:
            groups = []
            for section in sections:
                lines = [{**row, "title": item["short_title"], "period": item["period"],
                          "unit": item["unit"], "id": item["id"]}
                         for item in section["items"] for row in item["table"] if row["code"] == code]
                if lines:
                    groups.append({"title": section["title"], "rows": lines})
            out.append({"code": code, "name": name, "anchor": f"kommun-{code}", "groups": groups,
                        "peers": peers.get(code, [])})
        return out

    def methods(self) -> list[dict]:
        if self.m.methods is None:
            return []
        return self.m.methods.to_dicts()
