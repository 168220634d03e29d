"""Render one HTML report per county (plus an index) from the marts.

Reports are Swedish, open offline from disk (one local plotly.min.js, no external
requests), print well, and are deterministic: the same marts give byte-identical HTML.
Each file is written to a temporary name and renamed into place, so a failed run never
leaves a half-written report over the previous one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import plotly.offline
import polars as pl
from jinja2 import Environment, PackageLoader, select_autoescape

from reports import figures
from reports.labels import (CI_METHOD, COMPARISON, COMPARISON_COLOUR, FACTOR, POLARITY, STATUS,
                            STRATEGIC_FACTORS, interval, number, slug)

ASSET_DIR = "assets"
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True,
                 "modeBarButtonsToRemove": ["select2d", "lasso2d"]}


@dataclass(frozen=True)
class ReportContext:
    run_id: str
    data_label: str
    is_demo: bool
    fetched: str  # date the source data were fetched, YYYY-MM-DD


def environment() -> Environment:
    env = Environment(loader=PackageLoader("reports", "templates"),
                      autoescape=select_autoescape(enabled_extensions=("html", "j2")),
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["num"] = number
    return env


def _write(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    if isinstance(content, str):
        tmp.write_text(content, encoding="utf-8")
    else:
        tmp.write_bytes(content)
    os.replace(tmp, path)


def write_assets(out_dir: Path) -> None:
    """The shared script and stylesheet, next to the reports (no CDN)."""
    js = out_dir / ASSET_DIR / "plotly.min.js"
    bundle = plotly.offline.get_plotlyjs()
    if not js.exists() or js.stat().st_size != len(bundle.encode("utf-8")):
        _write(js, bundle)
    css = (Path(__file__).parent / "static" / "report.css").read_text(encoding="utf-8")
    _write(out_dir / ASSET_DIR / "report.css", css)


def figure_html(fig, div_id: str, alt: str) -> str:
    html = fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                       config=PLOTLY_CONFIG)
    return f'<div class="figure" role="img" aria-label="{_attr(alt)}">{html}</div>'


def _attr(text: str) -> str:
    return (text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
            .replace(">", "&gt;"))


def _value_text(row: dict, unit: str) -> str:
    if row["status"] != "ok":
        return STATUS.get(row["status"], row["status"])
    return number(row["value"], unit)


def _comparison(code: str | None) -> dict:
    code = code or "not_compared"
    return {"code": code, "label": COMPARISON.get(code, code),
            "colour": COMPARISON_COLOUR.get(code, "#ccc")}


def latest_periods(facts: pl.DataFrame) -> pl.DataFrame:
    """Per indicator: the latest year with a riket value."""
    return (facts.filter((pl.col("area_type") == "riket") & (pl.col("status") == "ok")
                         & (pl.col("sex") == "T"))
            .group_by("indicator_id").agg(latest=pl.col("period").max()))


def county_model(lan_code: str, facts: pl.DataFrame, indicators: pl.DataFrame,
                 areas: pl.DataFrame, latest: pl.DataFrame) -> dict:
    """Everything the county template needs, as plain dicts in display order."""
    lan_name = areas.filter((pl.col("area_type") == "lan") & (pl.col("area_code") == lan_code))["area_name"][0]
    kommuner = (areas.filter((pl.col("area_type") == "kommun") & (pl.col("lan_code") == lan_code))
                .sort("area_code"))
    kommun_order = list(zip(kommuner["area_code"], kommuner["area_name"], strict=True))
    names = dict(kommun_order)
    codes = [lan_code, "00", *names]
    rows = (facts.filter(pl.col("area_code").is_in(codes) & (pl.col("sex") == "T")
                         & (pl.col("breakdown") == "all"))
            .join(latest, on="indicator_id", how="inner")
            .filter(pl.col("period") == pl.col("latest"))
            .join(areas.select("area_code", "area_name"), on="area_code", how="left")
            .sort("indicator_id", "area_code"))
    by_indicator = {key[0]: frame for key, frame in rows.group_by(["indicator_id"], maintain_order=True)}
    ind_rows = indicators.sort("indicator_id").to_dicts()
    factor_sections, heat_order, heat_cells = [], [], []
    for factor_key, factor_title in STRATEGIC_FACTORS.items():
        items = []
        for ind in (i for i in ind_rows if i["strategic_factor"] == factor_key):
            frame = by_indicator.get(ind["indicator_id"])
            if frame is None:
                continue
            unit = ind["unit"]
            lan_row = frame.filter(pl.col("area_code") == lan_code).to_dicts()
            riket_row = frame.filter(pl.col("area_code") == "00").to_dicts()
            lan_value = lan_row[0]["value"] if lan_row and lan_row[0]["status"] == "ok" else None
            riket_value = riket_row[0]["value"] if riket_row and riket_row[0]["status"] == "ok" else None
            kommun_frame = frame.filter(pl.col("area_type") == "kommun")
            table = [{
                "name": r["area_name"], "value": _value_text(r, unit),
                "ci": interval(r["lower_95"], r["upper_95"], unit), "status": r["status"],
                "reason": r["status_reason"] or "",
                "lan": _comparison(r["compared_to_lan"]),
                "riket": _comparison(r["compared_to_riket"]),
            } for r in kommun_frame.sort("area_code").to_dicts()]
            chart_rows = (kommun_frame.filter(pl.col("status") == "ok")
                          .sort("value", "area_code",
                                descending=[ind["polarity"] == "high_is_good", False]))
            period = int(frame["period"][0])
            alt = (f"Diagram: {ind['title']}, {period}. Kommunernas värden i {lan_name} med "
                   f"95 % konfidensintervall, länets och rikets värde som linjer. "
                   f"Samma uppgifter finns i tabellen under diagrammet.")
            chart = None
            if chart_rows.height:
                fig = figures.kommun_dots(chart_rows, lan_value, riket_value, lan_name, unit)
                chart = figure_html(fig, f"fig-{lan_code}-{ind['indicator_id']}", alt)
            items.append({
                "id": ind["indicator_id"], "title": ind["title"], "short_title": ind["short_title"],
                "unit": unit,
                "definition": ind["definition"], "note": ind["note"],
                "factor": FACTOR[ind["factor"]], "polarity": POLARITY[ind["polarity"]],
                "age_label": ind["age_label"], "period": period,
                "source": f"Kolada ({ind['source_id']})" if ind["source"] == "kolada" else ind["source"],
                "source_title": ind.get("source_title"),
                "lan_value": number(lan_value, unit), "riket_value": number(riket_value, unit),
                "chart": chart, "table": table,
            })
            if ind["factor"] != "context":
                heat_order.append((ind["indicator_id"], ind["short_title"]))
                heat_cells.extend({"indicator_id": ind["indicator_id"], "area_code": r["area_code"],
                                   "compared_to_riket": r["compared_to_riket"],
                                   "value_text": _value_text(r, unit)}
                                  for r in kommun_frame.to_dicts())
        if items:
            factor_sections.append({"key": factor_key, "title": factor_title, "items": items})
    heat = None
    if heat_order:
        cells = pl.DataFrame(heat_cells, schema={"indicator_id": pl.String, "area_code": pl.String,
                                                 "compared_to_riket": pl.String, "value_text": pl.String})
        fig = figures.comparison_heatmap(cells, heat_order, kommun_order)
        heat = figure_html(fig, f"fig-{lan_code}-overview",
                           f"Översikt för {lan_name}: kommunernas senaste värden jämfört med riket, "
                           f"en rad per indikator. Samma uppgifter finns per kommun längre ned.")
    kommun_sections = []
    for code, name in kommun_order:
        groups = []
        for section in factor_sections:
            lines = []
            for item in section["items"]:
                match = next((t for t in item["table"] if t["name"] == name), None)
                if match:
                    lines.append({**match, "title": item["short_title"], "period": item["period"],
                                  "unit": item["unit"], "id": item["id"]})
            if lines:
                groups.append({"title": section["title"], "rows": lines})
        kommun_sections.append({"code": code, "name": name, "anchor": f"kommun-{code}",
                                "groups": groups})
    return {"lan_code": lan_code, "lan_name": lan_name, "heatmap": heat,
            "factors": factor_sections, "kommuner": kommun_sections,
            "n_indicators": sum(len(s["items"]) for s in factor_sections)}


def county_file(lan_code: str, lan_name: str) -> str:
    return f"lan-{lan_code}-{slug(lan_name)}.html"


def county_csv(lan_code: str, facts: pl.DataFrame, areas: pl.DataFrame) -> bytes:
    """All rows for the county, its kommuner and riket, semicolon-separated for Excel."""
    codes = areas.filter((pl.col("lan_code") == lan_code) | (pl.col("area_code") == "00"))["area_code"]
    frame = (facts.filter(pl.col("area_code").is_in(codes.implode()))
             .join(areas.select("area_code", "area_name"), on="area_code", how="left")
             .select("indicator_id", "area_code", "area_name", "area_type", "period", "sex",
                     "value", "lower_95", "upper_95", "lower_998", "upper_998", "numerator",
                     "denominator", "unit", "status", "status_reason", "compared_to_lan",
                     "compared_to_riket", "ci_method", "source_id"))
    return ("\ufeff" + frame.write_csv(separator=";", decimal_comma=True)).encode("utf-8")


def render_reports(facts: pl.DataFrame, indicators: pl.DataFrame, areas: pl.DataFrame,
                   out_dir: Path, ctx: ReportContext) -> list[Path]:
    """Write one report per county, its CSV and an index; returns the written HTML paths."""
    env = environment()
    write_assets(out_dir)
    latest = latest_periods(facts)
    counties = areas.filter(pl.col("area_type") == "lan").sort("area_code")
    common = {"ctx": ctx, "comparison_colours": COMPARISON_COLOUR, "comparisons": COMPARISON,
              "ci_methods": CI_METHOD, "asset_dir": ASSET_DIR}
    written, listing = [], []
    for lan_code, lan_name in counties.select("area_code", "area_name").iter_rows():
        model = county_model(lan_code, facts, indicators, areas, latest)
        name = county_file(lan_code, lan_name)
        csv_name = name.replace(".html", ".csv")
        html = env.get_template("county.html.j2").render(**common, **model, csv_name=csv_name)
        _write(out_dir / name, html)
        _write(out_dir / csv_name, county_csv(lan_code, facts, areas))
        written.append(out_dir / name)
        listing.append({"code": lan_code, "name": lan_name, "file": name,
                        "n_kommuner": len(model["kommuner"])})
    _write(out_dir / "index.html", env.get_template("index.html.j2").render(**common, counties=listing))
    return written
