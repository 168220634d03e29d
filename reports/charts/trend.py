"""Trend small multiples: one area's series with its 95 % interval, and the län and riket lines.

Hundreds of panels are drawn per build, so this module does its own arithmetic instead of
going through the generic helpers: the x position of each year is computed once per axis.
"""

from __future__ import annotations

from functools import lru_cache

from reports.svg import c, nice_ticks, padded_domain, polyline, runs, svg, text, tick_label

WIDTH, HEIGHT = 190.0, 100.0
LEFT, RIGHT, TOP, BOTTOM = 34.0, 8.0, 8.0, 18.0

Point = tuple[int, float | None, float | None, float | None]  # period, value, lower, upper


@lru_cache(maxsize=256)
def _x_positions(periods: tuple[int, ...], width: float) -> dict[int, str]:
    first, last = periods[0], periods[-1]
    span = (last - first) or 1
    return {p: c(LEFT + (p - first) / span * (width - RIGHT - LEFT)) for p in range(first, last + 1)}


def trend_panel(series: list[Point], lan: list[Point], riket: list[Point], periods: list[int],
                label: str, width: float = WIDTH, height: float = HEIGHT) -> str:
    """`periods` fixes the x axis (all panels of an indicator share the years they show)."""
    lo, hi = padded_domain([v for s in (series, lan, riket) for p in s for v in p[1:]])
    xs = _x_positions(tuple(periods), width)
    y0, scale = height - BOTTOM, (height - BOTTOM - TOP) / (hi - lo)

    def y(value: float) -> str:
        return "%.1f" % (y0 - (value - lo) * scale)

    ticks = nice_ticks(lo, hi, 2)
    body = []
    for tick in ticks:
        ty = y(tick)
        body.append(f'<line class="grid" x1="{c(LEFT)}" y1="{ty}" x2="{c(width - RIGHT)}" y2="{ty}"/>'
                    f'<text x="{c(LEFT - 3)}" y="{float(ty) + 3.5:.1f}" text-anchor="end" class="tick">'
                    f'{tick_label(tick, ticks)}</text>')
    body.append(text(LEFT, height - 4, str(periods[0]), "start", "tick"))
    if periods[-1] != periods[0]:
        body.append(text(width - RIGHT, height - 4, str(periods[-1]), "end", "tick"))
    band = [p for p in series if p[1] is not None and p[2] is not None and p[3] is not None]
    for run in runs([p if p in band else None for p in series]):
        upper = " ".join(f"{xs[p]},{y(h)}" for p, _, _, h in run)
        lower = " ".join(f"{xs[p]},{y(low)}" for p, _, low, _ in reversed(run))
        body.append(f'<polygon class="band" points="{upper} {lower}"/>')
    for points, cls in ((riket, "ln-r"), (lan, "ln-l"), (series, "ln-k")):
        for run in runs([(xs[p], y(v)) if v is not None else None for p, v, _, _ in points]):
            if len(run) > 1:
                body.append(f'<polyline class="{cls}" points="{" ".join(f"{a},{b}" for a, b in run)}"/>')
            elif cls == "ln-k":  # a lone year still shows
                body.append(f'<circle class="pt" cx="{run[0][0]}" cy="{run[0][1]}" r="2"/>')
    return svg(width, height, "".join(body), label, cls="trend")


def legend(lan_name: str, national_name: str = "Riket") -> str:
    """The three lines of a trend panel, with words."""
    body = (f'<polygon class="band" points="0,4 24,4 24,14 0,14"/>'
            f'{polyline([(0, 9), (24, 9)], "ln-k")}{text(30, 13, "Kommunen (med 95 % KI)", cls="tick")}'
            f'{polyline([(170, 9), (194, 9)], "ln-l")}{text(200, 13, lan_name, cls="tick")}'
            f'{polyline([(340, 9), (364, 9)], "ln-r")}{text(370, 13, national_name, cls="tick")}')
    return svg(470, 18, body, f"Förklaring: kommunen med 95 % konfidensintervall, {lan_name} "
               f"och {national_name}", cls="legend-svg")
