"""The whole built site, crawled: every link and anchor lands, no English word or internal id
reaches a reader, and each county has its five views with their exact Swedish headings."""

from __future__ import annotations

import re

import pytest

from reports.model import COUNTY_VIEWS
from reports.render import ReportContext, render_downloads, render_site
from tests.coordination_frames import with_coordination
from tests.site_crawl import broken_links, crawl, text_of
from tests.site_fixtures import COUNTIES, with_history

CTX = ReportContext(run_id="test-run-7f3a", data_label="Demodata – syntetiska värden", is_demo=True,
                    fetched="2026-11-23")

# Words and ids that must never reach a reader: the source's English status codes, code
# values, internal ids (snake_case survey indicator and goal ids), build commands and paths.
FORBIDDEN = [r"\bPrivacy\b", r"\bMissing\b", r"\bNot applicable\b", r"\bNone\b", r"\bnull\b",
             r"\bNaN\b", r"\bnan\b", r"\bTrue\b", r"\bFalse\b", r"\bundefined\b",
             r"\b(much_)?(better|worse)\b", r"\bnot_compared\b", r"\bno_significant_change\b",
             r"\b(increasing|decreasing)_(better|worse)\b", r"\bsuppressed\b", r"\bred_red\b",
             r"\bmany_worse\b", r"\bon_track\b", r"\bwrong_direction\b", r"\bcannot_follow\b",
             r"\b[a-z]+_[a-z0-9_]+\b",                   # any snake_case id (lupp_skola_…)
             r"\bak\d\b", r"\bgy\d\b", r"\bmake \w", r"\b(data|reports|pipeline|transforms)/",
             r"\.(py|yaml|yml|duckdb|parquet|sav)\b", r"test-run-7f3a", r"\bTODO\b",
             r" , ", r"\b(\d{4}), \1\b"]                 # "upplägg , omgång 2023, 2023"


@pytest.fixture(scope="module")
def built(site_marts, tmp_path_factory):
    out = tmp_path_factory.mktemp("whole-site")
    marts = with_history(with_coordination(site_marts, "05"))
    render_site(marts, out, CTX, workers=1)
    render_downloads(marts, out, CTX, workers=1)
    return out, crawl(out)


def test_every_link_and_anchor_lands(built):
    out, pages = built
    assert len(pages) > 40 and sum(len(p.links) for p in pages.values()) > 1000
    assert broken_links(out, pages) == []


def test_a_broken_link_or_anchor_is_found(tmp_path):
    (tmp_path / "a.html").write_text('<a href="b.html#x">b</a><a href="c.html">c</a><a href="#y">y</a>'
                                     '<a href="https://example.org/">ut</a>', encoding="utf-8")
    (tmp_path / "b.html").write_text('<p id="z">b</p>', encoding="utf-8")
    assert broken_links(tmp_path, crawl(tmp_path)) == [
        "a.html: no anchor b.html#x", "a.html: no file c.html", "a.html: no anchor #y",
        "a.html: leaves the site: https://example.org/"]


def test_no_english_words_or_internal_ids_reach_a_reader(built):
    _, pages = built
    found = []
    for path, page in pages.items():
        text = text_of(page)
        for pattern in FORBIDDEN:
            for match in re.finditer(pattern, text):
                found.append(f"{path.name}: {text[max(0, match.start() - 40):match.end() + 20]!r}")
    assert found == []


def test_the_checker_sees_what_the_issue_found(tmp_path):
    (tmp_path / "p.html").write_text(
        "<main><p>Kolada: dolt av sekretesskäl (Privacy)</p><p>indikatorn lupp_skola_positiv_hogt_skydd, ak9</p>"
        "<p>LUPP liknande upplägg , omgång 2023, 2023</p><p>kör make templates</p></main>"
        "<footer>körning test-run-7f3a</footer>", encoding="utf-8")
    text = text_of(crawl(tmp_path)[tmp_path / "p.html"])
    hits = {p for p in FORBIDDEN if re.search(p, text)}
    assert {r"\bPrivacy\b", r"\b[a-z]+_[a-z0-9_]+\b", r"\bak\d\b", r" , ", r"\b(\d{4}), \1\b",
            r"\bmake \w"} <= hits and r"test-run-7f3a" not in hits    # the colophon is not read


def test_each_county_links_its_five_views_with_their_headings(built):
    out, pages = built
    for lan in COUNTIES:
        (county,) = out.glob(f"lan-{lan}-*.html")
        html = county.read_text(encoding="utf-8")
        for view, heading in COUNTY_VIEWS.items():
            (target,) = out.glob(f"{view}-{lan}-*.html")
            assert f'href="{target.name}">{heading}</a>' in html
            assert re.search(rf"<h1>{heading}</h1>", target.read_text(encoding="utf-8")), target.name
        assert 'id="andrat"' in html and "Vad har ändrats" in html


def test_what_changed_since_the_publication_and_since_last_year(built):
    out, _ = built
    html = (out / "andringar-05-ostergotlands-lan.html").read_text(encoding="utf-8")
    publication = html.split('id="publicering"')[1].split("</section>")[0]
    assert "jämförd med publiceringen 2026-11-16" in publication
    beyond = publication.split("Värden utanför sitt tidigare intervall (")[1].split("</table>")[0]
    assert "Linköping" in beyond and "70,0" in beyond and "80,0" in beyond
    assert "Halmstad" not in publication                   # another county's change stays there
    assert "Dolt" in publication and "Ydre" in publication
    assert "Bevakningslistan:</strong> Valdemarsvik, kommunen som helhet: tillkom" in publication
    assert "Mål:</strong> Ödeshög" in publication and "på väg → åt fel håll" in publication
    year = html.split('id="forra-aret"')[1].split("</section>")[0]
    assert "Sedan förra året" in year and "Bevakningslistan" in year
    gotland = (out / "andringar-09-gotlands-lan.html").read_text(encoding="utf-8")
    assert "Inga." in gotland or "Inga mål" in gotland


def test_a_first_publication_says_so_and_still_shows_last_year(site_marts, tmp_path):
    from dataclasses import replace
    marts = with_history(site_marts)
    first = replace(marts, publication_history=marts.publication_history.head(1).with_columns(
        previous_run_id=None), publication_change=marts.publication_change.clear())
    render_site(first, tmp_path, CTX, workers=1, kinds={"changes"})
    html = (tmp_path / "andringar-05-ostergotlands-lan.html").read_text(encoding="utf-8")
    assert "Det här är den första publiceringen (2026-11-16)" in html and "Sedan förra året" in html
    render_site(site_marts, tmp_path, CTX, workers=1, kinds={"changes"})
    html = (tmp_path / "andringar-05-ostergotlands-lan.html").read_text(encoding="utf-8")
    assert "Publiceringshistoriken är inte tillgänglig ännu" in html


def test_girls_and_boys_gap_with_interval_and_test(built):
    out, _ = built
    html = (out / "kon-05-ostergotlands-lan.html").read_text(encoding="utf-8")
    # the fixture puts girls 1.5 above and boys 1.5 below the total: a gap of +3,0
    assert re.search(r"\+3,0 <strong>(F&gt;P|≈)</strong><span class=\"yr\">[\d,−]+–[\d,]+</span>", html)
    profile = (out / "kommun-0580-linkoping.html").read_text(encoding="utf-8").split('id="kon"')[1]
    assert "Skillnad F − P" in profile and "+3,0" in profile.split("</section>")[0]


def test_compare_page_keeps_every_kommun_and_picks_without_script(built):
    out, _ = built
    html = (out / "jamfor-05-ostergotlands-lan.html").read_text(encoding="utf-8")
    assert "<script" not in html and 'type="checkbox" id="v0580"' in html
    assert "body:has(.pick :checked):not(:has(#v0580:checked)) .k0580 { display: none; }" in html
    assert html.count('<tr class="k') == 13 * html.count("<table")     # all 13 kommuner, every table
    assert "plats 1 av 13" in html and 'href="indikator-n15508.html#lan-05"' in html


def test_dialogue_names_strengths_concerns_and_questions(built):
    out, _ = built
    html = (out / "samtal-05-ostergotlands-lan.html").read_text(encoding="utf-8")
    valdemarsvik = html.split('id="k0563"')[1].split("</section>")[0]
    assert "sämre än riket, säkert (95 %)" in valdemarsvik or "mycket säkert (99,8 %)" in valdemarsvik
    assert "Frågor att samtala kring" in valdemarsvik and "Känner ni igen bilden av" in valdemarsvik
    linkoping = html.split('id="k0580"')[1].split("</section>")[0]
    assert "bättre än riket" in linkoping                  # N02901 is better in Linköping


def test_memo_answers_the_six_questions(built):
    out, _ = built
    html = (out / "lansoversikt-05-ostergotlands-lan.html").read_text(encoding="utf-8")
    for n, title in enumerate(["Var behovet är störst", "Sämre än riket", "Behov och stöd", "Beredskap",
                               "Mål", "Att bevaka"], start=1):
        assert f"<h2>{n}. {title}</h2>" in html
    assert "Valdemarsvik 3 av 4" in html
