"""Colours of the site, and the arithmetic that shows they work for readers with colour blindness.

Comparisons follow ScotPHO: blue better, orange worse, grey similar (blue–orange is the
pair that stays apart under red–green colour blindness). Need levels (quintiles) have a
separate purple ramp, as FingertipsNext does, so a quintile is never read as significance.
Each fill has the text colour that keeps WCAG contrast ≥ 4.5 on it. The tests simulate
deuteranopia and protanopia (Machado, Oliveira & Fernandes 2009, severity 1) and check
every pair of comparison colours stays distinct.
"""

from __future__ import annotations

import math

DARK_TEXT = "#1a1a1a"
LIGHT_TEXT = "#ffffff"

# code → (fill, text colour on that fill)
COMPARISON_FILL = {
    "much_better": ("#1f5fa8", LIGHT_TEXT),
    "better": ("#a6cbf0", DARK_TEXT),
    "similar": ("#d9d9d9", DARK_TEXT),
    "worse": ("#f9b97a", DARK_TEXT),
    "much_worse": ("#a64b00", LIGHT_TEXT),
    "lower": ("#ffffff", DARK_TEXT),
    "higher": ("#ffffff", DARK_TEXT),
    "not_compared": ("#ffffff", DARK_TEXT),
}
COMPARISON_COLOUR = {code: fill for code, (fill, _) in COMPARISON_FILL.items()}
JUDGED = ["much_better", "better", "similar", "worse", "much_worse"]

# Need level 1–5 (5 = highest need): ColorBrewer Purples.
QUINTILE_FILL = {
    1: ("#f2f0f7", DARK_TEXT),
    2: ("#cbc9e2", DARK_TEXT),
    3: ("#9e9ac8", DARK_TEXT),
    4: ("#6a51a3", LIGHT_TEXT),
    5: ("#3f007d", LIGHT_TEXT),
}

# Counts (how many indicators are worse than riket): a light-to-dark orange ramp, the same
# meaning as "worse" but never mixed with a single comparison's colours in one chart.
COUNT_FILL = [("#ffffff", DARK_TEXT), ("#fde0c2", DARK_TEXT), ("#f9b97a", DARK_TEXT),
              ("#e0801f", DARK_TEXT), ("#a64b00", LIGHT_TEXT)]

SPINE_OUTER = "#d4d4d4"   # worst → 25th and 75th → best percentile
SPINE_MIDDLE = "#8c8c8c"  # the middle half of the kommuner
BENCHMARK_LINE = "#1a1a1a"

# Machado et al. (2009), severity 1.0, applied to linear RGB.
SIMULATION = {
    "protanopia": ((0.152286, 1.052583, -0.204868),
                   (0.114503, 0.786281, 0.099216),
                   (-0.003882, -0.048116, 1.051998)),
    "deuteranopia": ((0.367322, 0.860646, -0.227968),
                     (0.280085, 0.672501, 0.047413),
                     (-0.011820, 0.042940, 0.968881)),
}


def _linear(channel: float) -> float:
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def _gamma(channel: float) -> float:
    channel = min(1.0, max(0.0, channel))
    return 12.92 * channel if channel <= 0.0031308 else 1.055 * channel ** (1 / 2.4) - 0.055


def rgb(hex_colour: str) -> tuple[float, float, float]:
    value = hex_colour.lstrip("#")
    return tuple(int(value[i:i + 2], 16) / 255 for i in (0, 2, 4))


def simulate(hex_colour: str, kind: str) -> tuple[float, float, float]:
    """The sRGB colour (0–1) a reader with `kind` colour blindness sees."""
    linear = [_linear(c) for c in rgb(hex_colour)]
    return tuple(_gamma(sum(m * c for m, c in zip(row, linear, strict=True)))
                 for row in SIMULATION[kind])


def lab(colour: tuple[float, float, float]) -> tuple[float, float, float]:
    """CIE L*a*b* (D65) of an sRGB colour given as 0–1 channels."""
    r, g, b = (_linear(c) for c in colour)
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116

    fx, fy, fz = f(x), f(y), f(z)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def delta_e(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    """CIE76 colour difference between two sRGB colours (0–1 channels); ~2.3 is just noticeable."""
    return math.dist(lab(a), lab(b))


def contrast(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio between two hex colours."""
    def luminance(hex_colour: str) -> float:
        r, g, b = (_linear(c) for c in rgb(hex_colour))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)
