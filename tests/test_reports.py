"""County reports: Swedish, offline, accessible, deterministic, and rendered by a real browser."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest

from reports.labels import interval, number
from reports.model import Marts
from reports.render import ReportContext, render_reports
from sources.catalog import indicators_frame
from transforms.facts import FACT_COLUMNS

CTX = ReportContext(run_id="test-run", data_label="Demodata – syntetiska värden", is_demo=True,
                    fetched="2026-11-23")


@pytest.fixture(scope="module")
def marts(catalog_indicators):
    indicators = (indicators_frame([i for i in catalog_indicators if i.id in ("N15428", "N07403", "N01919")])
                  .with_columns(source_title=pl.col("title"), title_changed=pl.lit(False)))
    areas = pl.DataFrame({
        "area_code": ["00", "05", "0580", "0581", "13", "1380"],
        "area_type": ["riket", "lan", "kommun", "kommun", "lan", "kommun"],
        "area_name": ["Riket", "Östergötlands län", "Linköping", "Norrköping", "Hallands län", "Halmstad"],
        "lan_code": [None, "05", "05", "05", "13", "13"],
    })
    rows = []
    for ind, unit, base in (("N15428", "%", 80.0), ("N07403", "per 100 000 invånare", 900.0),
                            ("N01919", "antal", 30000.0)):
        for i, code in enumerate(areas["area_code"]):
            area_type = areas["area_type"][i]
            for period in (2023, 2024):
                value = base + i * 1.5 + (period - 2023)
                hidden = code == "0581" and ind == "N15428"
                rows.append({
                    "indicator_id": ind, "area_code": code, "area_type": area_type, "period": period,
                    "sex": "T", "breakdown": "all", "numerator": None, "denominator": None,
                    "value": None if hidden else value, "unit": unit,
                    "lower_95": None if hidden or ind == "N01919" else value - 2,
                    "upper_95": None if hidden or ind == "N01919" else value + 2,
                    "lower_998": None, "upper_998": None, "ci_method": "wilson",
                    "ci_approximate": True, "status": "suppressed" if hidden else "ok",
                    "status_reason": "Kolada: dolt av sekretesskäl (Privacy)" if hidden else None,
                    "stale": False, "value_note": None,
                    "coverage": None,
                    "compared_to_lan": None if area_type in ("lan", "riket") else "better",
                    "compared_to_riket": None if area_type == "riket" else "much_worse",
                    "compared_to_rest_of_lan": None if area_type in ("lan", "riket") else "similar",
                    "compared_to_rest_of_riket": None if area_type == "riket" else "much_worse",
                    "compared_to_peers": "similar" if area_type == "kommun" else None,
                    "peer_value": None,
                    "rank_band": "worst_25" if area_type == "kommun" else None,
                    "quintile": 5 if area_type == "kommun" else None,
                    "trend": "increasing_worse" if code == "0580" else "no_significant_change",
                    "trend_chi2": 12.0,
                    "red_red": code == "0580" and ind == "N07403" and period == 2024,
                    "source_id": f"kolada:{ind}",
                    "source_title": None, "fetched_at": "2026-11-23T03:31:00Z", "run_id": "test-run",
                })
    facts = pl.DataFrame(rows, infer_schema_length=None).select(FACT_COLUMNS).with_columns(
        pl.col("quintile").cast(pl.Int8))
    peers = pl.DataFrame({"kommun_code": ["0580", "0581"], "peer_code": ["1380", "1380"],
                          "rank": [1, 1], "distance": [0.5, 0.7]})
    methods = pl.DataFrame({"method_id": ["wilson"], "title": ["Konfidensintervall för andelar"],
                            "text": ["Andelar har Wilsons intervall."]})
    return Marts(facts=facts, indicators=indicators, areas=areas, peers=peers, methods=methods)


def render(marts, out: Path) -> list[Path]:
    return render_reports(marts, out, CTX)


def test_one_report_per_county_plus_index_and_csv(marts, tmp_path):
    written = render(marts, tmp_path)
    assert [p.name for p in written] == ["lan-05-ostergotlands-lan.html", "lan-13-hallands-lan.html"]
    assert (tmp_path / "index.html").exists()
    csv = (tmp_path / "lan-05-ostergotlands-lan.csv").read_bytes()
    assert csv.startswith("\ufeff".encode()) and b";" in csv.splitlines()[0]
    assert b"Halmstad" not in csv


def test_deterministic_html(marts, tmp_path):
    render(marts, tmp_path / "a")
    render(marts, tmp_path / "b")
    for page in (tmp_path / "a").glob("*.html"):
        assert page.read_bytes() == (tmp_path / "b" / page.name).read_bytes(), page.name


def test_offline_no_external_requests(marts, tmp_path):
    render(marts, tmp_path)
    html = (tmp_path / "lan-05-ostergotlands-lan.html").read_text(encoding="utf-8")
    for attr in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert not re.match(r"(?i)(https?:)?//", attr), attr
    assert '<script src="assets/plotly.min.js">' in html
    assert (tmp_path / "assets" / "plotly.min.js").exists()
    assert (tmp_path / "assets" / "report.css").exists()


def test_swedish_accessible_and_labelled(marts, tmp_path):
    render(marts, tmp_path)
    html = (tmp_path / "lan-05-ostergotlands-lan.html").read_text(encoding="utf-8")
    assert '<html lang="sv">' in html
    assert "Demodata – syntetiska värden" in html
    assert "Barns och ungas uppväxtvillkor – Östergötlands län" in html
    figures = re.findall(r'<div class="figure" role="img" aria-label="([^"]+)">', html)
    assert len(figures) >= 3 and all(len(label) > 30 for label in figures)
    # every chart has a table behind it
    assert html.count("<details>") >= len(figures) - 1
    assert "Dolt" in html and "Kolada: dolt av sekretesskäl" in html
    assert "test-run" in html and "2026-11-23" in html
    assert "81,0" in html  # riket 2024, Swedish decimal comma
    assert "Källa: Kolada (N15428)" in html
    assert "Konfidensintervall för andelar" in html  # method appendix from marts.method
    assert "Liknande kommuner (avstånd): Halmstad (0,50)." in html
    assert "↗ Ökande, sämre" in html and "Sämsta fjärdedelen" in html
    watch = html.split('id="uppmarksamma"')[1].split("</section>")[0]
    assert "Linköping" in watch and "Anmälda våldsbrott" in watch


def test_values_are_escaped(marts, tmp_path):
    areas = marts.areas.with_columns(area_name=pl.when(pl.col("area_code") == "0580")
                                     .then(pl.lit("<script>alert(1)</script>")).otherwise("area_name"))
    render_reports(Marts(marts.facts, marts.indicators, areas), tmp_path, CTX)
    html = (tmp_path / "lan-05-ostergotlands-lan.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html.split("<main")[1].split("Plotly.newPlot")[0]


def test_number_formats():
    assert number(12345.678, "antal") == "12\u2009346"
    assert number(15.04, "%") == "15,0"
    assert number(-2.5, "") == "−2,50"
    assert number(None) == "–"
    assert interval(10.714, 20.606, "%") == "10,7–20,6"


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("no Chromium on this machine")


BROWSER_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--enable-logging=stderr", "--v=0"]


@pytest.mark.browser
def test_charts_render_in_chromium_from_disk(marts, tmp_path):
    render(marts, tmp_path / "out")
    page = tmp_path / "out" / "lan-05-ostergotlands-lan.html"
    html = page.read_text(encoding="utf-8")
    expected = html.count('<div class="figure"')
    result = subprocess.run(
        [chromium(), *BROWSER_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
         "--virtual-time-budget=10000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120)
    dom = result.stdout
    assert "Barns och ungas uppväxtvillkor" in dom, result.stderr[-2000:]
    # Plotly turns each figure div into SVG: it loaded from disk and ran without errors
    assert dom.count('class="main-svg"') >= expected
    assert "Uncaught" not in result.stderr
    assert "ERR_FILE_NOT_FOUND" not in result.stderr


@pytest.mark.browser
def test_prints_to_pdf(marts, tmp_path):
    render(marts, tmp_path / "out")
    page = tmp_path / "out" / "lan-13-hallands-lan.html"
    pdf = tmp_path / "report.pdf"
    subprocess.run([chromium(), *BROWSER_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                    "--virtual-time-budget=10000", "--no-pdf-header-footer",
                    f"--print-to-pdf={pdf}", page.as_uri()],
                   capture_output=True, text=True, timeout=120)
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF")
    assert pdf.read_bytes().count(b"/Type /Page") >= 2
