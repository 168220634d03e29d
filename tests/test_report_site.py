"""The site as files: which pages, what they say, and that the same marts give the same bytes."""

from __future__ import annotations

import multiprocessing
import re
from dataclasses import replace

import polars as pl
import pytest

from reports.render import ReportContext, environment, render_site
from tests.coordination_frames import with_coordination

CTX = ReportContext(run_id="test-run-7f3a", data_label="Demodata – syntetiska värden", is_demo=True,
                    fetched="2026-11-23")
COUNTY = "lan-05-ostergotlands-lan.html"
PROFILE = "kommun-0580-linkoping.html"


@pytest.fixture(scope="module")
def site(site_marts, tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    return out, render_site(site_marts, out, CTX, workers=2)


@pytest.fixture(scope="module")
def coordinated(site_marts, tmp_path_factory):
    out = tmp_path_factory.mktemp("coordinated")
    render_site(with_coordination(site_marts, "05"), out, CTX, workers=1)
    return out


def page(folder, name: str) -> str:
    return (folder / name).read_text(encoding="utf-8")


def main_text(html: str) -> str:
    """What a strategist reads: the page without tags, footer (colophon) and attributes."""
    body = html.split("<main", 1)[1].split("</main>", 1)[0] if "<main" in html else html
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def test_one_page_per_county_kommun_and_indicator(site):
    out, result = site
    assert sorted(p.name for p in result.pages["county"]) == [
        "lan-05-ostergotlands-lan.html", "lan-09-gotlands-lan.html", "lan-13-hallands-lan.html"]
    profiles = sorted(p.name for p in result.pages["profile"])
    assert len(profiles) == 20 and PROFILE in profiles and "kommun-0563-valdemarsvik.html" in profiles
    assert "indikator-n15508.html" in {p.name for p in result.pages["indicator"]}
    assert (out / "index.html").exists() and (out / "assets" / "site.css").exists()
    assert sorted(p.name for p in out.glob("*.html")) == sorted(
        p.name for paths in result.pages.values() for p in paths)


def test_same_marts_give_byte_identical_files(site, site_marts, tmp_path):
    out, _ = site
    render_site(site_marts, tmp_path, CTX, workers=1)  # sequential this time
    files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert files and files == sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    for name in files:
        assert (out / name).read_bytes() == (tmp_path / name).read_bytes(), name


def test_offline_light_and_without_script(site):
    out, result = site
    for path in out.glob("*.html"):
        html = path.read_text(encoding="utf-8")
        for target in re.findall(r'(?:src|href)="([^"]+)"', html):
            assert not re.match(r"(?i)([a-z]+:)?//", target), (path.name, target)
        assert "<script" not in html and "plotly" not in html.lower(), path.name
    assert max(result.bytes_of("county")) < 1_500_000 and max(result.bytes_of("profile")) < 1_000_000


def test_watch_list_is_never_silently_empty(site):
    out, _ = site
    watch = page(out, COUNTY).split('id="bevaka"')[1].split("</section>")[0]
    valdemarsvik = watch.split("Valdemarsvik")[1].split("</ul>")[0]
    assert "flera sämre" in valdemarsvik and "3 av 4 jämförda indikatorer" in valdemarsvik
    assert "rött–rött" in watch.split("Norrköping")[1].split("</ul>")[0]
    gotland = page(out, "lan-09-gotlands-lan.html").split('id="bevaka"')[1].split("</section>")[0]
    assert "Länets enda kommun uppfyller inget av bevakningsvillkoren" in gotland


def test_story_names_kommuner_factors_and_missing_parts(site):
    out, _ = site
    story = main_text(page(out, COUNTY).split('id="sammanfattning"')[1].split("</section>")[0])
    assert "Måluppfyllelse i skolan: säkert sämre än riket är Valdemarsvik på 3 av 4" in story
    assert "Behovsindexet per strategisk faktor är inte tillgängligt ännu" in story
    assert "Uppgifter om stöd till kommunerna är inte tillgängliga ännu" in story
    assert "Beredskapsbedömningar är inte tillgängliga ännu" in story


def test_overview_grid_has_values_years_symbols_and_subregions(site):
    out, _ = site
    html = page(out, COUNTY).split('id="oversikt"')[1].split("</section>")[0]
    tables = html.split('class="grid"')[1:]
    assert len(tables) >= 3                               # one table per strategic factor
    assert "Måluppfyllelse i skolan: värden och jämförelse med riket" in html
    assert "andel (%), 2025" in tables[0]                  # unit and year in the header
    assert "FA Linköping" in tables[0] and 'class="subregion"' in tables[0]
    cells = re.findall(r'<td class="f-(\w+)">([^<]*)</td>', html)
    judged = [c for c in cells if c[0] in ("better", "worse", "much_worse", "similar")]
    assert judged and all(value.strip() for _, value in judged)
    css = (out / "assets" / "site.css").read_text(encoding="utf-8")
    for code, symbol in (("worse", "−"), ("much_worse", "−−"), ("similar", "≈"), ("better", "+")):
        assert f'table.grid td.f-{code}::after {{ content: "\\00a0{symbol}"' in css  # sign beside colour


def test_swedish_text_without_internal_ids(site):
    out, _ = site
    index = page(out, "index.html")
    assert "Gotlands län</a> <span class=\"muted\">(1 kommun)" in index
    assert "(1 kommuner)" not in index and "Hallands län</a> <span class=\"muted\">(6 kommuner)" in index
    for path in out.glob("*.html"):
        text = main_text(path.read_text(encoding="utf-8"))
        assert "test-run-7f3a" not in text, path.name       # run id only in the colophon
        assert "(%) (%)" not in text and "(andel (%))" not in text, path.name
        assert not re.search(r"\b\d+(k|M)\b", text), path.name
        assert "lupp_2023_leverans.csv" not in path.read_text(encoding="utf-8")  # no vendor file name
        assert not re.search(r"/work/|data/reports|\.duckdb", text), path.name
    # the start page names the publication; no other page carries a run id (issue 15 #3: a
    # page depends on what it shows, so an unchanged page is not rewritten)
    assert "Kolofon: publicering test-run-7f3a." in index
    assert not [p.name for p in out.glob("*.html")
                if p.name != "index.html" and "test-run-7f3a" in p.read_text(encoding="utf-8")]


def test_profile_has_spines_trends_sexes_surveys_and_peers(site):
    out, _ = site
    html = page(out, PROFILE)
    assert html.count('<svg class="spine"') >= 6
    assert html.count('<svg class="trend"') >= 6
    assert "Flickor/kvinnor" in html and "Pojkar/män" in html
    assert "Elevenkät: lupp, 2023" in html and "Åk 9, flickor" in html and "Gy 2, pojkar" in html
    assert "De sju kommuner som mest liknar Linköping" in html
    assert "Behovsindexet är inte tillgängligt ännu" in html
    # every chart is named for a screen reader
    for svg in re.findall(r"<svg [^>]+>", html):
        assert re.search(r'role="(img|group)" aria-label="[^"]{8,}"', svg), svg


def test_indicator_page_lists_hidden_kommuner_and_states_the_funnel_rule(site):
    out, _ = site
    hidden = page(out, "indikator-n33813.html")
    assert "Kolada: dolt av sekretesskäl: Ydre (1)" in hidden and "Privacy" not in hidden
    funnel = page(out, "indikator-n15508.html")
    assert "utan justering för överspridning: samma regel som tabellernas jämförelse" in funnel
    assert funnel.count('class="lim95"') == 2
    assert 'id="lan-05"' in funnel and "body:has(#lan-05:target) .k:not(.l05)" in funnel


def test_a_value_without_an_interval_shows_no_empty_brackets(site):
    out, result = site
    pages = {p.name: p.read_text(encoding="utf-8") for p in result.pages["indicator"]}
    assert not [name for name, text in pages.items() if "(–)" in text]
    # a count has no interval, a share has one in brackets after its value
    assert re.search(r'</th><td class="num">[0-9\u2009]+</td>', pages["indikator-n01919.html"])
    assert re.search(r'<td class="num">[0-9,]+ \([0-9,]+–[0-9,]+\)', pages["indikator-n15508.html"])
    # and the column's heading promises an interval only where there is one
    assert '"num">Värde</th>' in pages["indikator-n01919.html"]
    assert '"num">Värde (95 % KI)</th>' in pages["indikator-n15508.html"]


def test_an_indicator_without_values_says_so_and_never_none(site_marts, tmp_path):
    # a survey before its first wave arrives, or a KPI Kolada has no values for
    facts = site_marts.facts.filter(pl.col("indicator_id") != "N15508")
    result = render_site(replace(site_marts, facts=facts), tmp_path, CTX, workers=1,
                         kinds={"indicator"})
    empty = page(tmp_path, "indikator-n15508.html")
    assert "Indikatorn har inga värden ännu." in empty and "inget år med värden" in empty
    assert not [p.name for p in result.pages["indicator"] if "None" in main_text(page(tmp_path, p.name))]


def test_values_are_escaped(site_marts, tmp_path):
    areas = site_marts.areas.with_columns(area_name=pl.when(pl.col("area_code") == "0580")
                                     .then(pl.lit("<script>alert(1)</script>")).otherwise("area_name"))
    render_site(replace(site_marts, areas=areas), tmp_path, CTX, workers=1)
    for path in tmp_path.glob("*.html"):
        assert "<script>alert(1)</script>" not in path.read_text(encoding="utf-8"), path.name


def test_coordination_sections_from_the_contract(coordinated):
    county = page(coordinated, COUNTY)
    assert 'class="badge q-5"' in county or 'class="badge q-4"' in county
    assert "Stöd till föräldraskapsarbete 2026" in county and "Föreslås" in county
    assert "Högt behov men inget stöd" in county or "Stödet följer behovet" in county
    assert "Ungas psykiska hälsa" in county and "åt fel håll" in county
    assert "Vad som flyttar rangordningen mest" in county and "Vikterna" in county
    quality = county.split('id="datakvalitet"')[1].split("</section>")[0]
    assert "Äldre värden" in quality and "Inte tillgänglig" in quality
    start = page(coordinated, "index.html").split('id="datakvalitet"')[1].split("</section>")[0]
    assert "Äldre värden" in start and "Inte tillgänglig" in start   # the whole country's list too
    profile = page(coordinated, "kommun-0509-odeshog.html")
    assert profile.count("<rect class=\"bar\"") == 6 and "A Insatser" in profile
    assert "Högt behov" in profile or "Lägre behov" in profile
    assert "senaste godkända leveransen" in profile       # a stale value's footnote
    assert "befolkningen för året är inte publicerad" in page(coordinated, PROFILE)
    for name in (COUNTY, "kommun-0509-odeshog.html"):
        assert "inte tillgängliga ännu" not in page(coordinated, name)
        assert "inte tillgängligt ännu" not in page(coordinated, name)


def test_the_county_support_table_lists_what_is_worth_reading_and_names_the_rest(coordinated):
    """Lower need and no support is most of a large county's table: those combinations are
    named per factor under it (their rows are on the profiles), the others keep their rows."""
    section = page(coordinated, COUNTY).split('id="stod"')[1].split("</section>")[0]
    table, after = section.split("</table>", 1)
    assert "Lägre behov – inget stöd" not in table
    assert "Högt behov – inget stöd" in table or "Högt behov – stöd" in table
    quiet = re.search(r"Lägre behov och inget stöd \((\d+) kombination", after)
    assert quiet and int(quiet[1]) > 0 and "raderna finns i kommunernas profiler" in after
    named = sum(len(line.split(", ")) for line in re.findall(r"<li><strong>[^<]*</strong> ([^<]*)</li>", after))
    assert named == int(quiet[1])  # every combination left out of the table is named


# The Jinja macros a value cell and a badge were before they became Python functions.
MACROS = """{% macro badge(c) -%}
<span class="badge f-{{ c.code }}"><span class="sym" aria-hidden="true">{{ c.symbol }}</span> {{ c.label }}</span>
{%- endmacro %}
{% macro fn(cell) -%}
{% for n in cell.notes %}<sup class="fn"><a href="#not-{{ n }}" aria-label="not {{ n }}">{{ n }}</a></sup>{% endfor %}
{%- endmacro %}
{% macro value(cell, suffix="") -%}
{{ cell.text }}{% if cell.ok %}{{ suffix }}{% endif %}{{ fn(cell) }}
{%- endmacro %}"""


@pytest.mark.parametrize("cell, suffix", [
    ({"text": "12,5", "ok": True, "notes": []}, "\u00a0%"),
    ({"text": "<1 & 2>", "ok": True, "notes": [1, 12]}, "<b>"),
    ({"text": "Dolt", "ok": False, "notes": [3]}, " kr"),
    ({"text": "–", "ok": False, "notes": []}, ""),
])
def test_value_cells_and_badges_are_the_markup_the_macros_made(cell, suffix):
    env = environment()
    comparison = {"code": "much_worse", "symbol": "−−", "label": "Mycket sämre & <värre>"}
    made = env.from_string("{{ cell_value(cell, suffix) }}|{{ cell_value(cell) }}|{{ badge(c) }}")
    before = env.from_string(MACROS + "{{ value(cell, suffix) }}|{{ value(cell) }}|{{ badge(c) }}")
    assert made.render(cell=cell, suffix=suffix, c=comparison) == \
        before.render(cell=cell, suffix=suffix, c=comparison).lstrip("\n")


def test_work_alongside_the_pages_has_the_prepared_data_and_its_error_stops_the_site(site_marts, tmp_path):
    result = render_site(site_marts, tmp_path, CTX, workers=2, kinds={"start"},
                         alongside=lambda data: (len(data.latest), len(data.series)))
    assert result.alongside[0] > 0 and result.alongside[1] > 0  # prepared before the fork
    assert (tmp_path / "index.html").exists() and result.seconds["alongside"] >= 0

    def fails(data):
        raise ValueError("nedladdningarna kunde inte skrivas")

    with pytest.raises(ValueError, match="nedladdningarna"):
        render_site(site_marts, tmp_path / "again", CTX, workers=2, kinds={"start"}, alongside=fails)
    assert not multiprocessing.active_children()  # the workers are gone


def test_templates_read_a_dicts_keys_and_an_objects_attributes():
    env = environment()
    template = env.from_string("{{ d.title }}|{{ d.missing }}|{{ o.fetched }}|{{ d.items is defined }}")
    assert template.render(d={"title": "<Titel>"}, o=CTX) == "&lt;Titel&gt;||2026-11-23|True"


@pytest.mark.parametrize("workers, limit, expected", [
    (1, 10**9, 1),  # one worker beside the work alongside
    (0, 10**9, 0),  # UPPVAXT_REPORT_WORKERS=0: the pages in this process
    (2, 0, 0),      # prepared data above the fork limit: in this process, however many asked
])
def test_pages_are_rendered_by_workers_only_where_they_pay(site_marts, tmp_path, monkeypatch,
                                                           workers, limit, expected):
    import reports.render as render

    # The limit is set either way: a test process may already hold more than the real one.
    monkeypatch.setattr(render, "FORK_LIMIT_MB", limit)
    result = render_site(site_marts, tmp_path, CTX, workers=workers, kinds={"start", "about"},
                         alongside=lambda data: None)
    assert result.seconds["workers"] == expected
    assert (tmp_path / "index.html").exists() and (tmp_path / "om-siffrorna.html").exists()


def test_workers_from_the_environment(monkeypatch):
    from reports.render import workers_from_env

    monkeypatch.setenv("UPPVAXT_REPORT_WORKERS", "0")
    assert workers_from_env() == 0
    monkeypatch.delenv("UPPVAXT_REPORT_WORKERS")
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert workers_from_env() == 1   # the publication's own process keeps the other core busy
    monkeypatch.setattr("os.cpu_count", lambda: 16)
    assert workers_from_env() == 4


@pytest.mark.parametrize("how, raised", [("raises", ValueError), ("dies", RuntimeError)])
def test_a_page_workers_error_or_death_stops_the_site(site_marts, tmp_path, monkeypatch, how, raised):
    """The workers and this process share the pages: a worker's error reaches the caller as
    itself, and a worker that ends without answering (killed, out of memory) is an error
    too, since the pages it had taken were not written."""
    import os
    import time

    import reports.render as render

    parent, page = os.getpid(), render._render_job

    def job(spec):
        if os.getpid() != parent:
            if how == "dies":
                os._exit(3)
            raise ValueError("sidan kunde inte skrivas")
        return page(spec)

    monkeypatch.setattr(render, "FORK_LIMIT_MB", 10**9)
    monkeypatch.setattr(render, "_render_job", job)
    with pytest.raises(raised, match="sidan kunde inte skrivas" if how == "raises" else "avslutades"):
        # The work alongside takes a while: the worker has taken its first page by then.
        render_site(site_marts, tmp_path, CTX, workers=1, kinds={"start", "about"},
                    alongside=lambda data: time.sleep(0.5))
    assert not multiprocessing.active_children()


def test_pages_left_when_the_work_alongside_is_done_are_rendered_here_too(site_marts, tmp_path, monkeypatch):
    import os
    import time

    import reports.render as render

    parent, page, here = os.getpid(), render._render_job, []

    def job(spec):
        if os.getpid() == parent:
            here.append(spec)  # only this process's own calls are seen here
        else:
            time.sleep(0.3)  # a slow worker leaves most pages to this process
        return page(spec)

    monkeypatch.setattr(render, "FORK_LIMIT_MB", 10**9)
    monkeypatch.setattr(render, "_render_job", job)
    result = render_site(site_marts, tmp_path, CTX, workers=1, kinds={"start", "about", "county"},
                         alongside=lambda data: None)
    assert result.seconds["workers"] == 1 and here
    alone = render_site(site_marts, tmp_path / "alone", CTX, workers=0, kinds={"start", "about", "county"})
    for kind, paths in alone.pages.items():  # every page, in the same order, the same bytes
        assert [p.name for p in result.pages[kind]] == [p.name for p in paths]
        assert all((tmp_path / p.name).read_bytes() == p.read_bytes() for p in paths)
