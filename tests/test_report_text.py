"""Swedish numbers, plurals, units and ticks as the site prints them."""

from __future__ import annotations

from reports.labels import (breakdown_label, interval, join_words, number, percent, plural,
                            unit_phrase)
from reports.svg import nice_ticks, tick_label


def test_numbers_have_decimal_comma_thin_space_and_real_minus():
    assert number(12345.678, "antal") == "12\u2009346"
    assert number(15.04, "%") == "15,0"
    assert number(-2.5, "") == "−2,50"
    assert number(-0.04, "%") == "0,0"  # never "−0,0"
    assert number(None) == "–"
    assert number(float("nan")) == "–"


def test_interval_uses_an_en_dash_and_one_precision():
    assert interval(10.714, 20.606, "%") == "10,7–20,6"
    assert interval(None, 3.0, "%") == "–"


def test_plurals_and_lists():
    assert plural(1, "kommun", "kommuner") == "1 kommun"
    assert plural(2, "kommun", "kommuner") == "2 kommuner"
    assert plural(0, "kommun", "kommuner") == "0 kommuner"
    assert join_words(["A"]) == "A"
    assert join_words(["A", "B", "C"]) == "A, B och C"


def test_units_read_as_words():
    assert unit_phrase("%") == "andel (%)"
    assert unit_phrase("per 1 000 invånare") == "per 1 000 invånare"
    assert percent(0.834) == "83\u00a0%"
    assert breakdown_label("ak9") == "åk 9" and breakdown_label("pooled_3y") == "3 år sammanslagna"


def test_ticks_are_round_and_never_abbreviated():
    ticks = nice_ticks(800, 32000, 3)
    assert ticks == [10000, 20000, 30000]
    labels = [tick_label(t, ticks) for t in ticks]
    assert labels == ["10\u2009000", "20\u2009000", "30\u2009000"]
    assert not any(s.endswith(("k", "M")) for s in labels)
    half = nice_ticks(0, 0.5, 4)
    assert [tick_label(t, half) for t in half] == ["0,0", "0,1", "0,2", "0,3", "0,4", "0,5"]
    quarter = nice_ticks(0, 1, 4)
    assert [tick_label(t, quarter) for t in quarter] == ["0,00", "0,25", "0,50", "0,75", "1,00"]
