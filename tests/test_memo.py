"""The call memo (issue 14, point 10): a printable page and an XLSX per call and county,
linked from the county page, laid out from the memo's column groups."""

from __future__ import annotations

import re

import polars as pl
import pytest

from reports.pages import call_memo as memo
from reports.render import ReportContext, render_site
from tests.coordination_frames import with_coordination

CTX = ReportContext(run_id="test-run-memo", data_label="Demodata – syntetiska värden", is_demo=True,
                    fetched="2026-11-23")
MEMO = "urval-05-utlysning-2026.html"


@pytest.fixture(scope="module")
def site(site_marts, tmp_path_factory):
    out = tmp_path_factory.mktemp("memo")
    render_site(with_coordination(site_marts, "05"), out, CTX, workers=1)
    return out


def text(html: str) -> str:
    body = html.split("<main", 1)[1].split("</main>", 1)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def test_the_county_page_links_each_calls_memo(site):
    county = (site / "lan-05-ostergotlands-lan.html").read_text(encoding="utf-8")
    assert f'href="{MEMO}"' in county and "Beslutsunderlag för utlysning-2026" in county


def test_the_memo_page_states_the_call_the_proposal_and_each_applicant(site):
    html = (site / MEMO).read_text(encoding="utf-8")
    assert "<h1>Beslutsunderlag: Stöd till föräldraskapsarbete 2026</h1>" in html
    page = text(html)
    assert "Behovet jämförs med länets kommuner" in page and "Platser 3" in page
    assert "Föreslås: Ödeshög. Bedöms kvalitativt: Ydre. Föreslås inte: Kinda." in page
    # The summary table: need in the county and the country with intervals, readiness, support.
    assert "1 av 13 (intervall 1–2)" in page and "40 av 290 (intervall 12–70)" in page
    assert "stadium 4 (2025-03-01)" in page
    # Each applicant: the groups as lines, the goals listed, the reasons, a link to the profile.
    assert "Behov i länet Föräldraskap och familjens villkor: 1 av 13" in page
    assert "Kommunens mål 1 mål följs upp" in page and "Fler elever ska vara behöriga" in page
    assert "beslutet fattas av handläggarna" in page
    assert 'href="nedladdning/urval-05-utlysning-2026.xlsx"' in (site / MEMO).read_text(encoding="utf-8")


def test_the_memo_workbook_has_every_column_of_every_group(site):
    path = site / "nedladdning" / "urval-05-utlysning-2026.xlsx"
    applicants = pl.read_excel(path, sheet_name="Sökande")
    headers = [c.header + (" (%)" if c.kind == "share" else "") for g in memo.GROUPS for c in g.columns]
    assert applicants.columns == headers
    assert applicants["Kommun"].to_list() == ["Ödeshög", "Ydre", "Kinda"]
    assert applicants["Rang i riket, intervallets slut"].to_list() == [70, 70, 70]
    assert applicants["Förslag"].to_list() == ["Föreslås", "Bedöms kvalitativt", "Föreslås inte"]
    goals = pl.read_excel(path, sheet_name="Mål")
    assert goals["Kommun"].to_list() == ["Ödeshög", "Ydre"]
    about = pl.read_excel(path, sheet_name="Om underlaget")
    assert "beslutet fattas av handläggarna" in " ".join(about["Förklaring"].to_list())


def test_one_more_column_group_reaches_the_page_and_the_workbook(site_marts, tmp_path, monkeypatch):
    """The hook for the cost of late intervention (issue 17): append a ColumnGroup."""
    extra = memo.ColumnGroup("cost", "Kostnad för sena insatser", (
        memo.Column("sek", "Kronor per barn", "number", summary=True),),
        lambda data, row: {"sek": 1234.5}, lambda v: f"{v['sek']} kr per barn")
    monkeypatch.setattr(memo, "GROUPS", [*memo.GROUPS, extra])
    render_site(with_coordination(site_marts, "05"), tmp_path, CTX, workers=1)
    page = text((tmp_path / MEMO).read_text(encoding="utf-8"))
    assert "Kronor per barn" in page and "Kostnad för sena insatser 1234.5 kr per barn" in page
    book = pl.read_excel(tmp_path / "nedladdning" / "urval-05-utlysning-2026.xlsx", sheet_name="Sökande")
    assert book["Kronor per barn"].to_list() == [1234.5] * 3
