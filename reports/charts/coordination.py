"""Charts of the coordination layer: readiness per dimension, need against support."""

from __future__ import annotations

from reports.labels import number, percent
from reports.svg import Scale, c, esc, line, svg, text

STAGES = 9


def readiness_bars(rows: list[dict], label: str) -> str:
    """Six dimensions A–F on the 1–9 stage scale; a tick marks the previous assessment.

    `rows`: dimension, dimension_label, score, previous_score (nullable).
    """
    width, row_h, left = 460.0, 22.0, 170.0
    height = 26 + row_h * len(rows)
    x = Scale(0, STAGES, left, width - 12)
    body = []
    for stage in range(1, STAGES + 1):
        body.append(line(x(stage), 4, x(stage), height - 18, "grid"))
        body.append(text(x(stage), height - 5, str(stage), "middle", "tick"))
    for i, row in enumerate(rows):
        top = 6 + i * row_h
        body.append(text(left - 6, top + 13, f"{row['dimension']} {row['dimension_label']}", "end", "tick"))
        if row["score"] is not None:
            body.append(f'<rect class="bar" x="{c(x(0))}" y="{c(top + 3)}" '
                        f'width="{c(x(row["score"]) - x(0))}" height="{c(row_h - 8)}"/>')
            body.append(text(x(row["score"]) + 4, top + 13, number(row["score"], "", 1), cls="tick"))
        if row.get("previous_score") is not None:
            px = x(row["previous_score"])
            body.append(line(px, top + 1, px, top + row_h - 3, "prev"))
    return svg(width, height, "".join(body), label, cls="chart")


def need_support(points: list[dict], label: str, threshold: float = 0.8) -> str:
    """Probability of high need (x) against the number of supports (y), one dot per kommun.

    `points`: name, p_top_fifth (nullable), n_supports. `threshold` is the need bands'
    high-need threshold (the same as the support classes'). Names are written beside dots
    that stand alone (kommuner piled up at no need and no support are in the table), and to
    the left of a dot near the right edge so that they stay inside the chart.
    """
    width, height, left, bottom, top = 440.0, 260.0, 40.0, 34.0, 12.0
    shown = [p for p in points if p["p_top_fifth"] is not None]
    most = max([p["n_supports"] or 0 for p in shown] + [3])
    x = Scale(0, 1, left, width - 14)
    y = Scale(0, most + 0.5, height - bottom, top)
    body = [f'<rect class="zone" x="{c(x(threshold))}" y="{c(y(0.5))}" '
            f'width="{c(x(1) - x(threshold))}" height="{c(y(0) - y(0.5) + 4)}"/>',
            text(x(1), y(0.5) - 3, "högt behov, inget stöd", "end", "tick")]
    for v in (0, 0.2, 0.4, 0.6, 0.8, 1.0):
        body.append(line(x(v), top, x(v), height - bottom, "grid"))
        body.append(text(x(v), height - bottom + 13, percent(v), "middle", "tick"))
    for n in range(0, most + 1):
        body.append(text(left - 5, y(n) + 3.5, str(n), "end", "tick"))
    body.append(text((left + width) / 2, height - 4,
                     "Sannolikhet att höra till femtedelen med störst behov", "middle", "tick"))
    spot = {}
    for p in shown:
        key = (round(p["p_top_fifth"], 2), p["n_supports"] or 0)
        spot[key] = spot.get(key, 0) + 1
    for i, p in enumerate(sorted(shown, key=lambda p: (p["p_top_fifth"], p["name"]))):
        px, py = x(p["p_top_fifth"]), y(p["n_supports"] or 0)
        body.append(f'<g><title>{esc(p["name"])}: {esc(percent(p["p_top_fifth"]))}, '
                    f'{p["n_supports"] or 0} stöd</title><circle class="nd" cx="{c(px)}" '
                    f'cy="{c(py)}" r="4"/></g>')
        if spot[(round(p["p_top_fifth"], 2), p["n_supports"] or 0)] == 1:
            right = p["p_top_fifth"] > 0.75
            body.append(text(px - 6 if right else px + 6, py - 4 - (i % 2) * 9, p["name"],
                             "end" if right else "start", "tick"))
    return svg(width, height, "".join(body), label, cls="chart")
