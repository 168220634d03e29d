"""The spine chart of a kommun profile (Fingertips, ScotPHO; research/coordination.md §2).

One indicator per row: the spread of all kommuner's values (worst to 25th percentile,
the middle half, 75th percentile to best), riket as the centre line, the län as a diamond
and the kommun as a dot coloured by its comparison with riket. The scale is centred on
riket and symmetric (the wider side sets the half-width); for "low is good" indicators the
axis is flipped, so the worst end is always on the left.
"""

from __future__ import annotations

from dataclasses import dataclass

from reports.svg import c, svg

WIDTH, HEIGHT = 200.0, 22.0
PAD = 6.0


@dataclass(frozen=True)
class Spread:
    """Percentiles 0/25/75/100 of all kommuner's values for one indicator and period."""

    q0: float
    q25: float
    q75: float
    q100: float
    n_values: int
    n_kommuner: int


def positions(spread: Spread, riket: float | None, polarity: str,
              width: float = WIDTH) -> tuple[callable, bool]:
    """A function value → x, and whether the axis is flipped (low is good)."""
    flipped = polarity == "low_is_good"
    inner = width - 2 * PAD
    if riket is None:
        centre, half = (spread.q0 + spread.q100) / 2, (spread.q100 - spread.q0) / 2
    else:
        centre, half = riket, max(riket - spread.q0, spread.q100 - riket)
    half = half or 1.0
    sign = -1.0 if flipped else 1.0

    def x(value: float) -> float:
        return PAD + inner / 2 + sign * (value - centre) / half * inner / 2

    return x, flipped


def spine(spread: Spread, value: float | None, lan: float | None, riket: float | None,
          polarity: str, comparison: str, label: str) -> str:
    x, flipped = positions(spread, riket, polarity)
    worst, best = (spread.q100, spread.q0) if flipped else (spread.q0, spread.q100)
    p_low, p_high = (spread.q75, spread.q25) if flipped else (spread.q25, spread.q75)
    mid_y, bar_h = HEIGHT / 2, 12.0
    top = mid_y - bar_h / 2

    def bar(a: float, b: float, cls: str) -> str:
        left, right = sorted((x(a), x(b)))
        return (f'<rect class="{cls}" x="{c(left)}" y="{c(top)}" width="{c(max(right - left, 0.5))}" '
                f'height="{c(bar_h)}"/>')

    body = [bar(worst, p_low, "sp-o"), bar(p_low, p_high, "sp-m"), bar(p_high, best, "sp-o")]
    if riket is not None:
        body.append(f'<line class="sp-r" x1="{c(x(riket))}" y1="1" x2="{c(x(riket))}" y2="{c(HEIGHT - 1)}"/>')
    if lan is not None:
        lx = x(lan)
        body.append(f'<path class="sp-l" d="M{c(lx)} {c(mid_y - 5)}l4 5l-4 5l-4 -5z"/>')
    if value is not None:
        body.append(f'<circle class="dot f-{comparison}" cx="{c(x(value))}" cy="{c(mid_y)}" r="5"/>')
    return svg(WIDTH, HEIGHT, "".join(body), label, cls="spine")


def legend() -> str:
    """A spine legend drawn with the same marks, for the top of a profile."""
    body = ('<rect class="sp-o" x="6" y="5" width="40" height="12"/>'
            '<rect class="sp-m" x="46" y="5" width="60" height="12"/>'
            '<rect class="sp-o" x="106" y="5" width="40" height="12"/>'
            '<line class="sp-r" x1="76" y1="1" x2="76" y2="21"/>'
            '<path class="sp-l" d="M96 6l4 5l-4 5l-4 -5z"/>'
            '<circle class="dot f-similar" cx="60" cy="11" r="5"/>')
    return svg(152, 22, body, "Förklaring till jämförelsestaplarna", cls="spine")
