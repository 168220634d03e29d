"""Funnel plot: every kommun's value against its denominator, with limits around riket.

The limits drawn are the plain 95 % and 99.8 % limits of `marts.funnel_limit` (no
over-dispersion widening), which is the rule the tables use: a kommun outside the 95 %
limits has riket outside its 95 % interval. The dots are coloured by the table's own
comparison with riket, so chart and table cannot disagree.
"""

from __future__ import annotations

import math

from reports.charts.ranked import Mark
from reports.labels import number
from reports.svg import Scale, grouped_marks, line, padded_domain, polyline, svg, text, value_axis

WIDTH, HEIGHT = 900.0, 320.0
LEFT, RIGHT, TOP, BOTTOM = 52.0, 12.0, 14.0, 34.0


def log_ticks(lo: float, hi: float) -> list[float]:
    """1, 2, 5 × powers of ten inside [lo, hi]."""
    ticks = []
    for power in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1):
        for m in (1, 2, 5):
            value = m * 10 ** power
            if lo <= value <= hi:
                ticks.append(float(value))
    return ticks


def funnel(points: list[Mark], limits: list[dict], benchmark: float,
           unit_phrase: str, label: str) -> str:
    """`points` need a denominator; `limits`: rows with denominator, lower_95, upper_95,
    lower_998, upper_998."""
    xs = [p.denominator for p in points] + [r["denominator"] for r in limits]
    x_lo, x_hi = min(xs), max(xs)
    lx = Scale(math.log10(x_lo), math.log10(x_hi), LEFT + 4, WIDTH - RIGHT)

    def x(value: float) -> float:
        return lx(math.log10(value))

    ys = [p.value for p in points] + [benchmark]
    ys += [r[k] for r in limits for k in ("lower_998", "upper_998") if r[k] is not None]
    lo, hi = padded_domain(ys)
    y = Scale(lo, hi, HEIGHT - BOTTOM, TOP)
    body = value_axis(y, lo, hi, LEFT, WIDTH - RIGHT, unit_phrase)
    for tick in log_ticks(x_lo, x_hi):
        body.append(line(x(tick), HEIGHT - BOTTOM, x(tick), HEIGHT - BOTTOM + 4, "axis"))
        body.append(text(x(tick), HEIGHT - BOTTOM + 15, number(tick, "antal"), "middle", "tick"))
    body.append(text((LEFT + WIDTH) / 2, HEIGHT - 3, "Nämnare (logaritmisk skala)", "middle", "tick"))
    for key, cls in (("95", "lim95"), ("998", "lim998")):
        for side in ("lower", "upper"):
            points_ = [(x(r["denominator"]), y(r[f"{side}_{key}"])) for r in limits
                       if r[f"{side}_{key}"] is not None]
            if len(points_) > 1:
                body.append(polyline(points_, cls))
    body.append(line(LEFT, y(benchmark), WIDTH - RIGHT, y(benchmark), "bm"))
    body += grouped_marks(points, lambda i, p: (x(p.denominator), y(p.value)), r=3.2)
    return svg(WIDTH, HEIGHT, "".join(body), label, cls="wide")
