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

from reports.labels import COMPARISON, COMPARISON_COLOUR, slug
from reports.model import Marts, ReportModel

ASSET_DIR = "assets"


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


def county_file(lan_code: str, lan_name: str) -> str:
    return f"lan-{lan_code}-{slug(lan_name)}.html"


def county_csv(lan_code: str, facts: pl.DataFrame, areas: pl.DataFrame) -> bytes:
    """All rows for the county, its kommuner and riket, semicolon-separated for Excel."""
    codes = areas.filter((pl.col("lan_code") == lan_code) | (pl.col("area_code") == "00"))["area_code"]
    frame = (facts.filter(pl.col("area_code").is_in(codes.implode()))
             .join(areas.select("area_code", "area_name"), on="area_code", how="left")
             .select("indicator_id", "area_code", "area_name", "area_type", "period", "sex",
                     "breakdown", "value", "lower_95", "upper_95", "lower_998", "upper_998",
                     "numerator", "denominator", "unit", "status", "status_reason",
                     "compared_to_lan", "compared_to_riket", "compared_to_rest_of_lan",
                     "compared_to_peers", "rank_band", "quintile", "trend", "red_red",
                     "ci_method", "source_id"))
    return ("\ufeff" + frame.write_csv(separator=";", decimal_comma=True)).encode("utf-8")


def render_reports(marts: Marts, out_dir: Path, ctx: ReportContext) -> list[Path]:
    """Write one report per county, its CSV and an index; returns the written HTML paths."""
    env = environment()
    write_assets(out_dir)
    model = ReportModel(marts)
    counties = marts.areas.filter(pl.col("area_type") == "lan").sort("area_code")
    common = {"ctx": ctx, "comparison_colours": COMPARISON_COLOUR, "comparisons": COMPARISON,
              "asset_dir": ASSET_DIR}
    written, listing = [], []
    for lan_code, lan_name in counties.select("area_code", "area_name").iter_rows():
        county = model.county(lan_code)
        name = county_file(lan_code, lan_name)
        csv_name = name.replace(".html", ".csv")
        html = env.get_template("county.html.j2").render(**common, **county, csv_name=csv_name)
        _write(out_dir / name, html)
        _write(out_dir / csv_name, county_csv(lan_code, marts.facts, marts.areas))
        written.append(out_dir / name)
        listing.append({"code": lan_code, "name": lan_name, "file": name,
                        "n_kommuner": len(county["kommuner"])})
    _write(out_dir / "index.html", env.get_template("index.html.j2").render(**common, counties=listing))
    return written
