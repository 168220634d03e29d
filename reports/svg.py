"""Small building blocks for the site's inline SVG charts.

Charts are strings built here in Python: light, printable, deterministic (coordinates are
rounded to one decimal), readable by screen readers (`role="img"` with a label, the same
numbers in a table beside the chart) and with no script. Hovering a mark shows its
`<title>`, which is a convenience, never the only way to a number.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import lru_cache
from html import escape

from reports.labels import number

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


def esc(text: object) -> str:
    return escape(str(text), quote=True)


@lru_cache(maxsize=1 << 16)  # a site's charts print about 900 000 coordinates, 60 000 different
def c(value: float) -> str:
    """A coordinate with at most one decimal and no trailing zeros: 12.0 → '12', 3.25 → '3.2'."""
    text = ("%.1f" % value).rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


class Scale:
    """Linear map from a data domain to pixels (possibly reversed)."""

    def __init__(self, lo: float, hi: float, start: float, end: float):
        if hi == lo:
            lo, hi = lo - 1, hi + 1
        self.lo, self.hi, self.start, self.end = lo, hi, start, end

    def __call__(self, value: float) -> float:
        return self.start + (value - self.lo) / (self.hi - self.lo) * (self.end - self.start)


def nice_ticks(lo: float, hi: float, count: int = 4) -> list[float]:
    """Round tick values inside [lo, hi], about `count` steps (1, 2, 2.5 or 5 × a power of ten)."""
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = min((m * power for m in (1, 2, 2.5, 5, 10)), key=lambda s: abs((hi - lo) / s - count))
    first = math.ceil(lo / step - 1e-9) * step
    ticks, value = [], first
    while value <= hi + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    return ticks


def tick_label(value: float, ticks: list[float]) -> str:
    """Swedish tick text with as many decimals as the step needs (no '10k', no '0,5M')."""
    step = abs(ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0
    digits = f"{step:.6f}".rstrip("0").rstrip(".")
    places = len(digits.split(".")[1]) if "." in digits else 0
    return number(value, "", min(places, 3))


def padded_domain(values: Iterable[float | None], zero: bool = False,
                  pad: float = 0.05) -> tuple[float, float]:
    """Domain covering the values (and 0 when asked), with a little room on both sides."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return 0.0, 1.0
    lo, hi = min(finite), max(finite)
    if zero:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    span = hi - lo or abs(hi) or 1.0
    return lo - (0 if zero and lo == 0 else pad * span), hi + pad * span


def value_axis(y: Scale, lo: float, hi: float, left: float, right: float, title: str) -> list[str]:
    """Horizontal grid lines with Swedish tick labels, and the unit as the axis title."""
    ticks = nice_ticks(lo, hi, 5)
    body = [text(4, 10, title, cls="tick")]
    for tick in ticks:
        body.append(line(left, y(tick), right, y(tick), "grid"))
        body.append(text(left - 4, y(tick) + 3.5, tick_label(tick, ticks), "end", "tick"))
    return body


def svg(width: float, height: float, body: str, label: str, cls: str = "chart") -> str:
    """An SVG element that scales to its box; `label` is what a screen reader hears."""
    return (f'<svg class="{cls}" viewBox="0 0 {c(width)} {c(height)}" width="{c(width)}" '
            f'height="{c(height)}" role="img" aria-label="{esc(label)}" '
            f'xmlns="http://www.w3.org/2000/svg">{body}</svg>')


def text(x: float, y: float, content: str, anchor: str = "start", cls: str = "",
         size: float | None = None) -> str:
    attrs = f' class="{cls}"' if cls else ""
    if anchor != "start":
        attrs += f' text-anchor="{anchor}"'
    if size:
        attrs += f' font-size="{c(size)}"'
    return f'<text x="{c(x)}" y="{c(y)}"{attrs}>{esc(content)}</text>'


def line(x1: float, y1: float, x2: float, y2: float, cls: str) -> str:
    return f'<line class="{cls}" x1="{c(x1)}" y1="{c(y1)}" x2="{c(x2)}" y2="{c(y2)}"/>'


def polyline(points: list[tuple[float, float]], cls: str) -> str:
    return f'<polyline class="{cls}" points="{" ".join(f"{c(x)},{c(y)}" for x, y in points)}"/>'


def polygon(points: list[tuple[float, float]], cls: str) -> str:
    return f'<polygon class="{cls}" points="{" ".join(f"{c(x)},{c(y)}" for x, y in points)}"/>'


def runs(points: list[tuple[float, float] | None]) -> list[list[tuple[float, float]]]:
    """Split a series at missing points, so a line never bridges a gap silently."""
    out, current = [], []
    for point in points:
        if point is None:
            if current:
                out.append(current)
            current = []
        else:
            current.append(point)
    if current:
        out.append(current)
    return out


def dots(points: list[tuple[float, float]], r: float) -> str:
    """Path data for many dots at once (two arcs each): one element instead of one per dot,
    which keeps a page of 290 kommuner light."""
    d = f"{c(2 * r)},0"
    back = f"-{c(2 * r)},0"
    return "".join(f"M{c(x - r)},{c(y)}a{c(r)},{c(r)} 0 1 0 {d}a{c(r)},{c(r)} 0 1 0 {back}"
                   for x, y in points)


def grouped_marks(marks: list, position, ci=None, r: float = 3.0) -> list[str]:
    """Marks drawn as one group per county (`k l<län>`, which the page can highlight) with
    one interval path and one dot path per comparison class. `position(i, mark)` gives the
    dot's (x, y); `ci(i, mark)` the interval's (x, y_low, y_high) or None."""
    groups: dict[str, dict[str, list]] = {}
    for i, mark in enumerate(marks):
        group = groups.setdefault(mark.lan_code, {"ci": [], "dots": {}})
        group["dots"].setdefault(mark.comparison, []).append(position(i, mark))
        limits = ci(i, mark) if ci else None
        if limits:
            x, y1, y2 = limits
            group["ci"].append(f"M{c(x)},{c(y1)}V{c(y2)}")
    out = []
    for lan in sorted(groups):
        group = groups[lan]
        body = f'<path class="ci" d="{"".join(group["ci"])}"/>' if group["ci"] else ""
        body += "".join(f'<path class="dot f-{cmp}" d="{dots(points, r)}"/>'
                        for cmp, points in sorted(group["dots"].items()))
        out.append(f'<g class="k l{lan}">{body}</g>')
    return out


def relative_path(points: list[tuple[float, float]], close: bool = False) -> str:
    """Path data for a line through `points` in relative steps ("M30,53.2l12.2,-2.4 …"),
    about a third shorter than absolute coordinates. Steps are taken between coordinates
    already rounded to one decimal, so the line never drifts from where it should be."""
    rounded = [(round(x, 1), round(y, 1)) for x, y in points]
    steps = " ".join(f"{c(x1 - x0)},{c(y1 - y0)}" for (x0, y0), (x1, y1) in zip(rounded, rounded[1:]))
    return f"M{c(rounded[0][0])},{c(rounded[0][1])}" + (f"l{steps}" if steps else "") + ("z" if close else "")
