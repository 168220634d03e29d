"""The comparison colours stay apart for readers with colour blindness, and text on every
fill is readable (WCAG contrast ≥ 4.5)."""

from __future__ import annotations

import itertools

import pytest

from reports.colours import (COMPARISON_COLOUR, COMPARISON_FILL, COUNT_FILL, JUDGED, QUINTILE_FILL,
                             contrast, delta_e, lab, rgb, simulate)
from reports.labels import COMPARISON, COMPARISON_SYMBOL

DISTINCT = 15.0  # CIE76 ΔE; ~2.3 is just noticeable, 10+ is clearly different at a glance


def min_difference(palette: dict[str, str], kind: str | None) -> tuple[float, tuple[str, str]]:
    pairs = []
    for a, b in itertools.combinations(JUDGED, 2):
        ca, cb = ((simulate(palette[a], kind), simulate(palette[b], kind)) if kind
                  else (rgb(palette[a]), rgb(palette[b])))
        pairs.append((delta_e(ca, cb), (a, b)))
    return min(pairs)


@pytest.mark.parametrize("kind", [None, "deuteranopia", "protanopia"])
def test_comparison_colours_are_distinct(kind):
    difference, pair = min_difference(COMPARISON_COLOUR, kind)
    assert difference >= DISTINCT, (kind, pair, difference)


def opposite_hues(palette: dict[str, str], kind: str) -> bool:
    """Better and worse sit on opposite sides of the blue–yellow axis, the one red–green
    colour-blind readers keep (b* of CIE Lab): lightness alone is not a difference of kind."""
    b = {code: lab(simulate(palette[code], kind))[2] for code in JUDGED}
    return (all(b[c] < -10 for c in ("better", "much_better"))
            and all(b[c] > 10 for c in ("worse", "much_worse")))


@pytest.mark.parametrize("kind", ["deuteranopia", "protanopia"])
def test_better_and_worse_differ_in_hue_not_only_lightness(kind):
    assert opposite_hues(COMPARISON_COLOUR, kind)
    grey = lab(simulate(COMPARISON_COLOUR["similar"], kind))
    assert abs(grey[1]) < 5 and abs(grey[2]) < 5  # 'similar' stays neutral grey


def test_the_old_green_red_palette_fails_the_same_check():
    """The reports' earlier palette: 'much better' and 'much worse' both turn olive."""
    old = {"much_better": "#1a7f37", "better": "#7cc68d", "similar": "#f2d36b",
           "worse": "#f08c4a", "much_worse": "#c8301e"}
    assert not opposite_hues(old, "deuteranopia")


def test_simulation_matches_a_published_value():
    # Machado et al. (2009), deuteranopia severity 1: pure red becomes a dark olive.
    r, g, b = simulate("#ff0000", "deuteranopia")
    assert (round(r, 2), round(g, 2), round(b, 2)) == pytest.approx((0.64, 0.56, 0.0), abs=0.03)


def test_text_on_every_fill_has_enough_contrast():
    fills = list(COMPARISON_FILL.values()) + list(QUINTILE_FILL.values()) + COUNT_FILL
    for fill, ink in fills:
        assert contrast(ink, fill) >= 4.5, (fill, ink)


def test_quintiles_never_share_a_colour_with_comparisons():
    assert not {f for f, _ in QUINTILE_FILL.values()} & set(COMPARISON_COLOUR.values())


def test_every_colour_has_a_word_and_a_symbol():
    assert set(COMPARISON_FILL) == set(COMPARISON) == set(COMPARISON_SYMBOL)
    assert len(set(COMPARISON_SYMBOL.values())) == len(COMPARISON_SYMBOL)
