"""Trend small multiples: one area's series with its 95 % interval, and the län and riket lines.

Hundreds of panels are drawn per build, so this module does its own arithmetic instead of
going through the generic helpers: the x position of each year is computed once per axis.
"""

from __future__ import annotations

from functools import lru_cache

from reports.svg import (c, dots, nice_ticks, padded_domain, polyline, relative_path, runs, svg,
                         text, tick_label)

WIDTH, HEIGHT = 190.0, 100.0
LEFT, RIGHT, TOP, BOTTOM = 34.0, 8.0, 8.0, 18.0

Point = tuple[int, float | None, float | None, float | None]  # period, value, lower, upper


@lru_cache(maxsize=256)
def _x_positions(periods: tuple[int, ...], width: float) -> dict[int, str]:
    first, last = periods[0], periods[-1]
    span = (last - first) or 1
    return {p: c(LEFT + (p - first) / span * (width - RIGHT - LEFT)) for p in range(first, last + 1)}


def _y(lo: float, hi: float, height: float):
    y0, scale = height - BOTTOM, (height - BOTTOM - TOP) / (hi - lo)

    def y(value: float) -> str:  # an interval beyond a shared axis is cut at its end
        return "%.1f" % (y0 - (min(max(value, lo), hi) - lo) * scale)
    return y


@lru_cache(maxsize=1024)
def _axes(lo: float, hi: float, first: int, last: int, width: float, height: float) -> str:
    """Grid, tick labels and the first and last year: the same in every panel of an indicator."""
    y = _y(lo, hi, height)
    ticks = nice_ticks(lo, hi, 2)
    body = []
    for tick in ticks:
        ty = y(tick)
        body.append(f'<line class="grid" x1="{c(LEFT)}" y1="{ty}" x2="{c(width - RIGHT)}" y2="{ty}"/>'
                    f'<text x="{c(LEFT - 3)}" y="{float(ty) + 3.5:.1f}" text-anchor="end" class="tick">'
                    f'{tick_label(tick, ticks)}</text>')
    body.append(text(LEFT, height - 4, str(first), "start", "tick"))
    if last != first:
        body.append(text(width - RIGHT, height - 4, str(last), "end", "tick"))
    return "".join(body)


@lru_cache(maxsize=4096)
def _lines(points: tuple[Point, ...], cls: str, periods: tuple[int, ...], width: float,
           height: float, lo: float, hi: float) -> str:
    """One series' line (a lone year of the area's own series as a dot); the län's and
    riket's lines are the same in many panels."""
    xs, y, body = _x_positions(periods, width), _y(lo, hi, height), []
    for run in runs([(xs[p], y(v)) if v is not None else None for p, v, _, _ in points]):
        if len(run) > 1:
            body.append(f'<polyline class="{cls}" points="{" ".join(f"{a},{b}" for a, b in run)}"/>')
        elif cls == "ln-k":  # a lone year still shows
            body.append(f'<circle class="pt" cx="{run[0][0]}" cy="{run[0][1]}" r="2"/>')
    return "".join(body)


def trend_panel(series: list[Point], lan: list[Point], riket: list[Point], periods: list[int],
                label: str, width: float = WIDTH, height: float = HEIGHT,
                domain: tuple[float, float] | None = None) -> str:
    """`periods` fixes the x axis (all panels of an indicator share the years they show);
    `domain` the y axis (the indicator's shared axis; by default the panel's own values)."""
    lo, hi = domain or padded_domain([v for s in (series, lan, riket) for p in s for v in p[1:]])
    axis = tuple(periods)
    xs, y = _x_positions(axis, width), _y(lo, hi, height)
    body = [_axes(lo, hi, periods[0], periods[-1], width, height)]
    band = [p for p in series if p[1] is not None and p[2] is not None and p[3] is not None]
    for run in runs([p if p in band else None for p in series]):
        upper = " ".join(f"{xs[p]},{y(h)}" for p, _, _, h in run)
        lower = " ".join(f"{xs[p]},{y(low)}" for p, _, low, _ in reversed(run))
        body.append(f'<polygon class="band" points="{upper} {lower}"/>')
    for points, cls in ((riket, "ln-r"), (lan, "ln-l"), (series, "ln-k")):
        body.append(_lines(tuple(points), cls, axis, width, height, lo, hi))
    return svg(width, height, "".join(body), label, cls="trend")


def legend(lan_name: str, national_name: str = "Riket") -> str:
    """The three lines of a trend panel, with words."""
    body = (f'<polygon class="band" points="0,4 24,4 24,14 0,14"/>'
            f'{polyline([(0, 9), (24, 9)], "ln-k")}{text(30, 13, "Kommunen (med 95 % KI)", cls="tick")}'
            f'{polyline([(170, 9), (194, 9)], "ln-l")}{text(200, 13, lan_name, cls="tick")}'
            f'{polyline([(340, 9), (364, 9)], "ln-r")}{text(370, 13, national_name, cls="tick")}')
    return svg(470, 18, body, f"Förklaring: kommunen med 95 % konfidensintervall, {lan_name} "
               f"och {national_name}", cls="legend-svg")


PANEL_W, PANEL_H, COLUMNS = 160.0, 96.0, 4
P_LEFT, P_RIGHT, P_TOP, P_BOTTOM = 30.0, 8.0, 18.0, 16.0


def county_panels(panels: list[tuple[str, list[Point]]], lan: list[Point], riket: list[Point],
                  periods: list[int], domain: tuple[float, float], label: str, pattern_id: str,
                  columns: int = COLUMNS) -> str:
    """A county's kommuner as small multiples in one SVG, all on the same y axis (`domain`,
    shared by every panel of the indicator): the kommun with its 95 % interval (cut at the
    axis ends), the county (dashed) and riket (dotted). The grid and the two reference lines
    are the same in every panel, so they are drawn once as a tiling pattern (`pattern_id`,
    unique on the page); axis values are printed on the first panel only. 290 kommuner
    stay light: each adds a few path segments and its name."""
    lo, hi = domain
    first, last = periods[0], periods[-1]
    span = (last - first) or 1
    rows = (len(panels) + columns - 1) // columns
    width, height = columns * PANEL_W, rows * PANEL_H
    ticks = nice_ticks(lo, hi, 2)
    x0, x1, y0, y1 = P_LEFT, PANEL_W - P_RIGHT, PANEL_H - P_BOTTOM, P_TOP

    # Each year's step from the panel's left edge once (the sums are taken in the same order
    # as `ox + x0 + step`, so every coordinate is the same to the last bit).
    steps = {p: (p - first) / span * (x1 - x0) for p in range(first, last + 1)}
    scale, height_px = hi - lo, y0 - y1

    def x(p: int, ox: float = 0.0) -> float:
        return ox + x0 + steps[p]

    def y(v: float, oy: float = 0.0) -> float:
        return oy + y0 - (min(max(v, lo), hi) - lo) / scale * height_px

    def line(points: list[Point], ox: float = 0.0, oy: float = 0.0) -> tuple[str, list]:
        d, lone = [], []
        for run in runs([(x(p, ox), y(v, oy)) if v is not None else None for p, v, _, _ in points]):
            if len(run) > 1:
                d.append(relative_path(run))
            else:
                lone.append(run[0])
        return "".join(d), lone

    tile = [f'<path class="grid" d="{"".join(f"M{c(x0)},{c(y(t))}H{c(x1)}" for t in ticks)}"/>']
    tile += [f'<path class="{cls}" d="{d}"/>' for cls, d in (("ln-r", line(riket)[0]), ("ln-l", line(lan)[0])) if d]
    full = len(panels) // columns
    body = [f'<defs><pattern id="{pattern_id}" width="{c(PANEL_W)}" height="{c(PANEL_H)}" '
            f'patternUnits="userSpaceOnUse">{"".join(tile)}</pattern></defs>']
    if full:
        body.append(f'<rect width="{c(width)}" height="{c(full * PANEL_H)}" fill="url(#{pattern_id})"/>')
    if len(panels) % columns:
        body.append(f'<rect y="{c(full * PANEL_H)}" width="{c(len(panels) % columns * PANEL_W)}" '
                    f'height="{c(PANEL_H)}" fill="url(#{pattern_id})"/>')
    band, lines, lone, names = [], [], [], []
    for n, (name, series) in enumerate(panels):
        ox, oy = (n % columns) * PANEL_W, (n // columns) * PANEL_H
        names.append(text(ox + x0, oy + 12, name + (" ↕" if beyond(series, domain) else ""), "start", "pn"))
        for run in runs([p if p[1] is not None and p[2] is not None and p[3] is not None else None
                         for p in series]):
            outline = ([(x(p, ox), y(h, oy)) for p, _, _, h in run]
                       + [(x(p, ox), y(low, oy)) for p, _, low, _ in reversed(run)])
            band.append(relative_path(outline, close=True))
        d, dots_ = line(series, ox, oy)
        lines.append(d)
        lone += dots_
    body.append(f'<path class="band" d="{"".join(band)}"/><path class="ln-k" d="{"".join(lines)}"/>')
    if lone:
        body.append(f'<path class="pt" d="{dots(lone, 2)}"/>')
    body += [text(x0 - 3, y(t) + 3.5, tick_label(t, ticks), "end", "tick") for t in ticks]
    body.append(text(x0, PANEL_H - 4, str(first), "start", "tick"))
    if last != first:
        body.append(text(x1, PANEL_H - 4, str(last), "end", "tick"))
    return svg(width, height, "".join(body + names), label, cls="trends")


def shared_domain(kommuner: list[float], benchmarks: list[float]) -> tuple[float, float]:
    """The y axis every trend panel of one indicator shares: the län and national values and
    the middle 96 % of the kommuner's values (2nd to 98th percentile), so that a few extreme
    small kommuner do not flatten everyone else's lines; a panel that goes beyond is marked."""
    ordered = sorted(kommuner)
    if ordered:
        cut = int(0.02 * (len(ordered) - 1))
        ordered = ordered[cut:len(ordered) - cut]
    return padded_domain(ordered + benchmarks, pad=0.08)


def beyond(series: list[Point], domain: tuple[float, float]) -> bool:
    """Whether a value of the series lies outside the shared axis (drawn cut at its end)."""
    return any(p[1] is not None and not domain[0] <= p[1] <= domain[1] for p in series)
