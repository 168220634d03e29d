"""The Hälsoekonomi section as a reader sees it: facts first with their KPI ids, the worked
scenario in words with its interval and break-even chance, an unverified price listed not
computed, a retired cost KPI named, the box "Det här är inte", and a county table that ranks
nothing by cost."""

from __future__ import annotations

import dataclasses
import re
from html import unescape

import polars as pl
import pytest

from reports.render import ReportContext, render_site
from sources.health_economics_catalog import (assumptions_frame, kpi_frame,
                                              load_health_economics)
from sources.kolada import values_frame
from tests.conftest import CATALOG
from tests.site_fixtures import small_marts
from transforms.health_economics import baselines, late_cost, prevention_scenarios

CTX = ReportContext(run_id="test-run", data_label="Demodata – syntetiska värden", is_demo=True,
                    fetched="2026-12-07")
YEARS = [2021, 2022, 2023, 2024]


def health_marts(base, kommuner: pl.DataFrame):
    costs, scenarios = load_health_economics(CATALOG)
    chosen = kommuner.filter(pl.col("lan_code") == "05").sort("kommun_code")
    codes = chosen["kommun_code"].to_list()
    rows, people = [], []
    for i, code in enumerate(codes):
        for year in YEARS:
            # The costliest kommun is not first in the alphabet, so an ordering by cost would show.
            level = 9000 + 400 * ((i * 7) % len(codes)) + 100 * (year - 2021)
            for kpi, factor in (("N33006", 1.0), ("N33022", 0.7), ("N33004", 0.4), ("N33021", 0.3),
                                ("N30005", 0.5), ("N30007", 0.45), ("U31803", 0.0005)):
                rows.append((kpi, code, year, "T", 1, "", round(level * factor, 1), False, None, None))
            people += [(code, year, "T", band, pop) for band, pop in
                       (("0-20", 2000.0 + 50 * i), ("all", 9000.0 + 200 * i), ("0-17", 1700.0 + 40 * i))]
    population = pl.DataFrame(people, schema=["area_code", "year", "sex", "band", "population"],
                              orient="row").with_columns(pl.col("year").cast(pl.Int32))
    late = late_cost(values_frame(rows), population, chosen.select("kommun_code", "lan_code"),
                     costs.settings)
    params = scenarios.parameters()
    base_values = baselines(base.facts, base.indicators, [p.outcome_indicator for p in params])
    cohorts = pl.DataFrame([(c, 2024, "T", "16-16", 150.0) for c in codes]
                           + [(c, 2024, "T", "20-20", 160.0) for c in codes],
                           schema=["area_code", "year", "sex", "band", "population"],
                           orient="row").with_columns(pl.col("year").cast(pl.Int32))
    scenario = prevention_scenarios(params, scenarios.settings, base_values, cohorts,
                                    chosen.select("kommun_code", "lan_code"))
    quality = pl.DataFrame([{
        "indicator_id": "N33002", "source_id": "kolada:N33002", "problem": "unknown_id",
        "message": "Kolada känner inte till nyckeltalet N33002 (det kan ha tagits bort eller bytt id).",
        "first_seen": "2026-12-07", "last_seen": "2026-12-07", "state": "unavailable",
        "values_from": None, "used_for": "health_economics"}])
    return dataclasses.replace(base, late_cost=late, late_cost_kpi=kpi_frame(costs),
                               prevention_scenario=scenario,
                               prevention_assumption=assumptions_frame(scenarios),
                               data_quality=quality)


@pytest.fixture(scope="module")
def site(catalog_indicators, kommuner, tmp_path_factory):
    out = tmp_path_factory.mktemp("health-site")
    marts = health_marts(small_marts(catalog_indicators, kommuner), kommuner)
    render_site(marts, out, CTX, workers=1, kinds={"county", "profile"})
    return out


def section(path) -> str:
    html = path.read_text(encoding="utf-8")
    start = html.index('<section id="halsoekonomi">')
    return html[start:html.index("</section>", start)]


def text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_the_profile_gives_facts_then_one_worked_scenario_then_what_it_is_not(site):
    body = text(section(site / "kommun-0580-linkoping.html"))
    facts = body.index("Vad sena insatser kostar i Linköping")
    worked = body.index("Räkneexempel: fler unga tar gymnasieexamen")
    box = body.index("Det här är inte")
    assert facts < worked < box
    assert "2023 kostade den sociala barn- och ungdomsvården i Linköping" in body
    assert "2023 års priser; Kolada N33006*" in body            # unchecked id starred
    assert "Kolada har också 2024" in body and "i löpande priser" in body
    assert "Mot referenskostnaden:" in body and "N30007*" in body
    assert "90 % intervall" in body and "Chansen att besparingen blir större än kostnaden:" in body
    assert "räknat på kommunens egen andel" in body
    # The vocational scenario's price could not be read: listed with its source, not computed.
    assert "Skuggpriset har inte kunnat kontrolleras; scenariot räknas inte." in body
    assert "Hultkrantz, Karpaty, Nowak och Vimefall (2021)" in body
    # Every cited number says it was not checked in the source; assumptions say what they are.
    assert "Hök och Sanandaji (2017)" in body and "Ej kontrollerat i källan själv." in body
    assert "Antagande (vad händer om …)" in body
    # The retired cost KPI is named with the reason.
    assert "HVB (hem för vård eller boende): Kolada känner inte till nyckeltalet N33002" in body
    assert "nan" not in body.lower().split() and "None" not in body


def test_the_county_table_is_alphabetical_and_ranks_nothing(site):
    html = section(site / "lan-05-ostergotlands-lan.html")
    table = html[html.index("i bokstavsordning (ingen rangordning)"):]
    table = table[:table.index("</table>")]
    names = [text(n) for n in re.findall(r'<th scope="row">(.*?)</th>', table)]
    assert names[:2] == ["Riket", "Östergötlands län"]
    kommuner = names[2:]
    assert len(kommuner) == 13 and kommuner == sorted(kommuner, key=lambda n: n.replace("Å", "Zz").replace("Ä", "Zzz").replace("Ö", "Zzzz"))
    assert "rangordnar inte kommunerna" in text(html)
    body = text(html)
    assert "Räkneexempel: fler unga tar gymnasieexamen" in body and "Det här är inte" in body
    assert "därav kommunernas" in body or "kommunernas egen andel" in body


def test_without_the_marts_the_section_says_so(catalog_indicators, kommuner, tmp_path):
    render_site(small_marts(catalog_indicators, kommuner), tmp_path, CTX, workers=1, kinds={"profile"})
    body = text(section(tmp_path / "kommun-0580-linkoping.html"))
    assert "Hälsoekonomin (kostnader för sena insatser och räkneexempel) är inte tillgänglig ännu." in body
