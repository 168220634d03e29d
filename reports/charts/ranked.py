"""Every kommun ranked by value, worst on the left, each with its 95 % interval.

A county's kommuner are one group with the class `l<län>`, so the page can bring them
forward when the reader comes from that county (`#lan-05`); names and numbers are in the
ranked table below. Dots and intervals are a few paths, not an element per kommun.
"""

from __future__ import annotations

from dataclasses import dataclass

from reports.svg import Scale, grouped_marks, line, padded_domain, svg, text, value_axis

WIDTH, HEIGHT = 900.0, 300.0
LEFT, RIGHT, TOP, BOTTOM = 48.0, 10.0, 16.0, 24.0


@dataclass(frozen=True)
class Mark:
    """One kommun in the ranking and the funnel plot."""

    name: str
    lan_code: str
    value: float
    lower: float | None
    upper: float | None
    comparison: str       # the table's comparison with riket (colour class)
    denominator: float | None = None


def ranked(marks: list[Mark], riket: float | None, national_name: str, unit_phrase: str,
           label: str) -> str:
    """`marks` in display order (worst first)."""
    lo, hi = padded_domain([v for m in marks for v in (m.value, m.lower, m.upper)]
                           + ([riket] if riket is not None else []))
    x = Scale(0, max(len(marks) - 1, 1), LEFT + 4, WIDTH - RIGHT - 4)
    y = Scale(lo, hi, HEIGHT - BOTTOM, TOP)
    body = value_axis(y, lo, hi, LEFT, WIDTH - RIGHT, unit_phrase)
    body.append(text(LEFT, HEIGHT - 6, "Sämst", cls="tick"))
    body.append(text(WIDTH - RIGHT, HEIGHT - 6, "Bäst", "end", "tick"))
    if riket is not None:
        body.append(line(LEFT, y(riket), WIDTH - RIGHT, y(riket), "bm"))
        body.append(text(WIDTH - RIGHT, y(riket) - 4, f"{national_name}", "end", "tick"))
    body += grouped_marks(marks, lambda i, m: (x(i), y(m.value)),
                          lambda i, m: (x(i), y(m.lower), y(m.upper))
                          if m.lower is not None and m.upper is not None else None)
    return svg(WIDTH, HEIGHT, "".join(body), label, cls="wide")
