"""The Hälsoekonomi section as a reader sees it: facts first with their KPI ids, the worked
scenario in words with its interval and break-even chance, an unverified price listed not
computed, a retired cost KPI named, the box "Det här är inte", and a county table that ranks
nothing by cost."""

from __future__ import annotations

import re
from html import unescape

import pytest

from reports.render import ReportContext, render_site
from tests.health_frames import with_health
from tests.site_fixtures import small_marts

CTX = ReportContext(run_id="test-run", data_label="Demodata – syntetiska värden", is_demo=True,
                    fetched="2026-12-07")
@pytest.fixture(scope="module")
def site(catalog_indicators, kommuner, tmp_path_factory):
    out = tmp_path_factory.mktemp("health-site")
    marts = with_health(small_marts(catalog_indicators, kommuner), kommuner)
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


def test_memo_values_are_context_beside_need(catalog_indicators, kommuner):
    from reports.health_economics import memo_line, memo_values
    from reports.model import SiteData

    data = SiteData(with_health(small_marts(catalog_indicators, kommuner), kommuner)).prepare()
    values = memo_values(data, "0580")
    assert values["year"] == 2023 and values["value"] == pytest.approx(13_200.0)
    assert values["reference"].startswith("Över referenskostnaden (+11,1")
    line = memo_line(values)
    assert line.startswith("13\u202f200\u00a0kr per invånare 0–20 år (2023), treårsmedel")
    assert line.endswith("inte ett skäl för eller emot.")
    assert memo_line(memo_values(data, "0980")) == "uppgift saknas"   # Gotland: no cost rows


def test_the_call_memo_shows_the_cost_beside_need_never_among_the_reasons(site_marts, kommuner, tmp_path):
    import polars as pl

    from tests.coordination_frames import with_coordination

    render_site(with_health(with_coordination(site_marts, "05"), kommuner), tmp_path, CTX, workers=1)
    memo = "urval-05-utlysning-2026.html"
    html = (tmp_path / memo).read_text(encoding="utf-8")
    page = text(html[html.index("<main"):])
    assert "Sena insatser, kr per invånare 0–20 år" in page            # the summary column
    assert "Kostnad för sena insatser (sammanhang, inget skäl)" in page
    assert "inte ett skäl för eller emot" in page
    reasons = [text(r) for r in re.findall(r'<article class="memo-kommun"[^>]*>\s*<h3>.*?</h3>\s*<p>(.*?)</p>',
                                           html, re.S)]
    assert len(reasons) == 3 and all(reasons)
    assert not any(" kr" in r or "kostnad" in r.lower() for r in reasons)
    book = pl.read_excel(tmp_path / "nedladdning" / "urval-05-utlysning-2026.xlsx", sheet_name="Sökande")
    ydre = book.filter(pl.col("Kommun") == "Ydre").row(0, named=True)
    assert ydre["Kostnadsår"] == 2023 and ydre["Barn- och ungdomsvård, kr per invånare 0–20 år (fast pris)"] > 0
    assert ydre["Individ- och familjeomsorgen mot referenskostnaden"].endswith(", 2023)")
